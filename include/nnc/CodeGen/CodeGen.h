//===- CodeGen.h - Lowering a graph to an LLVM module ---------------------===//
//
// The last stage of nnc: a checked (and, for training, differentiated) Graph
// becomes one LLVM module that implements the model ABI of
// `Runtime/ModelABI.h`:
//
//   * one function per entry point (`train_step`, `eval_step`, `predict`,
//     `grad`), each `void f(void **slots)`, computing only the nodes its
//     results need;
//   * one internal kernel function per graph node, taking its buffers as
//     `noalias` pointers, with loops over static shapes;
//   * the `nnc_model_desc` global the runtime reads (slot table, train spec);
//   * for executables, a `main` that calls `nnc_main`.
//
// See docs/codegen.md for the design (arena, broadcasting by strides, loop
// orders chosen for the vectorizer).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_CODEGEN_H
#define NNC_CODEGEN_CODEGEN_H

#include "nnc/CodeGen/Target.h"
#include "nnc/Graph/Graph.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>

#include <memory>
#include <optional>
#include <string>

namespace nnc {

struct TrainConfig;

/// The arena (TEMP slot) plan of the entry point that needs the most
/// arena, for `--stats` (see docs/passes.md, "Memory planning").
struct ArenaStats {
  /// Bytes if every stored value had a buffer of its own.
  int64_t BytesBefore = 0;
  /// Bytes of the plan: blocks shared by values with disjoint lifetimes,
  /// outputs written in place over operands that die in their kernel.
  int64_t BytesAfter = 0;
  /// Values written in place over an operand's block.
  int64_t InPlace = 0;
  /// Param/state updates written straight into their slot (no final copy).
  int64_t UpdatesInPlace = 0;
};

/// What the lowering produces besides the entry points.
struct LoweringOptions {
  /// When set, receives the memory plan's figures.
  ArenaStats *Stats = nullptr;
  /// Emit `int main(int, char **)` calling `nnc_main(&nnc_model_desc, ...)`
  /// (for executables; the JIT calls nnc_main itself).
  bool EmitMain = false;
  /// --check-numerics: after every kernel, call `nnc_check_numerics`
  /// (Runtime/Numerics.h) on each f32 buffer it wrote. Off: no check code.
  bool CheckNumerics = false;
  /// The `.nn` file's name as the numerics messages show it.
  std::string SourceName;
  /// The vector unit the GEMM tiles are shaped for; unset means the host's.
  /// Recorded in the module (Target.h, recordVectorUnit).
  std::optional<VectorUnit> Vector;
  /// The model's eval-mode graph when its modes differ (specializeModes,
  /// Autodiff/Modes.h): eval_step and predict are lowered from it, on the
  /// same slots; null: the one graph serves both modes.
  const Graph *EvalGraph = nullptr;
};

/// Lowers `G` to a new module in `Ctx`. `Train` (may be null) fills the
/// train spec of the model descriptor; relative data paths are made
/// absolute against the current directory. The module has no target triple
/// yet; `configureModule` (Target.h) sets it. Fails only on graphs the
/// earlier stages should never produce (a leaf outside the interface).
llvm::Expected<std::unique_ptr<llvm::Module>>
lowerGraph(const Graph &G, const TrainConfig *Train, llvm::LLVMContext &Ctx,
           const LoweringOptions &Opts = {});

/// Symbol names of the generated module, shared with the JIT and tests.
inline constexpr const char *ModelDescSymbol = "nnc_model_desc";

} // namespace nnc

#endif
