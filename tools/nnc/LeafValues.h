//===- LeafValues.h - Where the driver gets the values of a graph's leaves ===//
//
// The reference evaluator (Graph/Evaluator.h) needs a value for every leaf.
// `--check-grad` at a given point and `--emit=grad --values` take them from
// where an executable takes its own: params and buffers from a weights file
// or drawn exactly as `EXE init` draws them (the runtime's own code), inputs
// and targets from a tensor file, hypers as the first training step sets
// them. The driver joins the runtime and the graph libraries here, so that
// neither has to know the other (docs/design.md, "Layering").
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_LEAFVALUES_H
#define NNC_TOOLS_LEAFVALUES_H

#include "nnc/Graph/Evaluator.h"
#include "nnc/Graph/Module.h"
#include "nnc/Support/Diagnostics.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/DenseMap.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nnc {

/// Leaves of one kind that a file must hold.
struct LeafGroup {
  llvm::ArrayRef<Node *> Nodes;
  const char *What; ///< "a param", "an input", ... for messages.
};

/// Leaves' values as an executable's slots hold them: the f32 or i32 bits
/// of each element, row-major.
using LeafBits = llvm::DenseMap<const Node *, std::vector<uint32_t>>;

/// Reads the bits of every leaf of `Groups` from the tensor file `Path`
/// into `Leaves`, by name, with the checks and errors of `readLeaves`.
bool readLeafBits(llvm::ArrayRef<LeafGroup> Groups, const std::string &Path,
                  LeafBits &Leaves, DiagEngine &Diags);

/// Every param and buffer of `G` as `EXE init --seed Seed` draws it, bits.
void drawInitialBits(const Graph &G, uint64_t Seed, LeafBits &Leaves);

/// The weights an inference artifact (`--emit=lib`, `--emit=onnx`) holds:
/// every param and buffer of `G` from the file `Load`, or, when it is
/// empty, drawn as `EXE init` draws them with `Seed`, else the seed of
/// `Train`, else 0. Returns false after reporting an error.
bool modelWeights(const Graph &G, const std::string &Load,
                  std::optional<uint64_t> Seed, const TrainConfig *Train,
                  LeafBits &Leaves, DiagEngine &Diags);

/// Reads the value of every leaf of `Groups` from the tensor file `Path`
/// into `Leaves`, by name (other tensors in the file are ignored). Returns
/// false after one error for an unreadable file, or one per missing or
/// mismatched tensor, each naming the file and the tensor.
bool readLeaves(llvm::ArrayRef<LeafGroup> Groups, const std::string &Path,
                EvalValues &Leaves, DiagEngine &Diags);

/// Every param and buffer of `G` drawn from its initializer as
/// `EXE init --seed Seed` draws it (Runtime/Model.h, drawInitializer), so
/// the values are those of the executable to the bit.
void drawInitialLeaves(const Graph &G, uint64_t Seed, EvalValues &Leaves);

/// The hypers of `G` as the first training step of a run seeded with `Seed`
/// sets them: `lr` the optimizer's rate of `Train` (the schedule's factor
/// is not applied: with a warm-up it depends on the size of the data set),
/// `dropout_key` the key of step 0 (`EXE grad` draws its masks with it).
void firstStepHypers(const Graph &G, const TrainConfig *Train, uint64_t Seed,
                     EvalValues &Leaves);

} // namespace nnc

#endif
