//===- ValuesDriver.h - `--emit=grad --values`: the graph with its numbers ===//
//
// `nnc FILE.nn --emit=grad --values [--load W] [--inputs X] [--seed S]
// [--format=dot]` prints the training step's graph (forward, backward,
// update) of one model with every node annotated with its value at one
// point, computed by the reference evaluator in train mode: forward values
// on the forward nodes, and on the backward nodes the adjoints, so `%d.x`
// shows d loss / dx. It is the lectures' computational-graph exercise with
// its numbers (docs/autodiff.md, "With the numbers: --values").
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_VALUESDRIVER_H
#define NNC_TOOLS_VALUESDRIVER_H

#include "nnc/Graph/Module.h"
#include "nnc/Support/Diagnostics.h"

#include <llvm/Support/raw_ostream.h>

#include <cstdint>
#include <optional>
#include <string>

namespace nnc {

/// The command-line settings of `--values`.
struct ValuesRequest {
  std::string Input; ///< The `.nn` file, for messages.
  std::string Model; ///< --model; empty: chosen as for an executable.
  /// --load W.safetensors: every param and buffer; empty: the initializers.
  std::string Load;
  /// --inputs X.safetensors: every input and target (one batch); required
  /// when the model has any.
  std::string Inputs;
  /// --seed: the initializers' seed; unset: the train block's, else 0 (as
  /// `EXE init`). Also keys the first step's dropout masks (as `EXE grad`).
  std::optional<uint64_t> Seed;
  bool Dot = false; ///< --format=dot
};

/// Prints the annotated train-mode graph of the chosen model of `M`, whose
/// training steps are built (buildTrainingSteps). Returns false after
/// reporting an error: no such model, missing inputs, or a file that does
/// not match the model (each naming the file and the tensor).
bool printGraphValues(Module &M, DiagEngine &Diags, const ValuesRequest &Req,
                      llvm::raw_ostream &OS);

} // namespace nnc

#endif
