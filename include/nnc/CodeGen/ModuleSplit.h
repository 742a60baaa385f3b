//===- ModuleSplit.h - Cutting a lowered module for parallel compilation --===//
//
// Most of the time `nnc FILE.nn -o EXE` spends is LLVM's -O pipeline and
// instruction selection, one function after another. The kernels of a model
// are independent of each other: the entry functions (`nnc.train_step`,
// `nnc.predict`, ...) call them, and nothing else does. So the module is cut
// at those calls into parts that LLVM can optimize and compile on separate
// threads (ParallelCodeGen.h):
//
// * everything a kernel references that is private to the module (its
//   tasks, scratch buffers, row tables) stays in the kernel's part, so the
//   optimizer inlines and specializes it as in the whole module;
// * but a `noinline` function (a GEMM, a convolution body shared by shape,
//   a kernel) may go to another part than its callers: it would not be
//   inlined anyway, and keeping it with every caller glued all kernels of
//   one shape into one unsplittable group;
// * a function that lands in another part than a caller becomes a hidden
//   external symbol — visible to the linker, not exported from the program;
// * parts are balanced by instruction count (largest group first, into the
//   lightest part).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_MODULESPLIT_H
#define NNC_CODEGEN_MODULESPLIT_H

#include <llvm/IR/Module.h>

#include <memory>
#include <vector>

namespace nnc {

/// Which part every defined global of `M` goes to, when `M` is cut into at
/// most `MaxParts` parts; `NumParts` is how many are non-empty.
struct SplitPlan {
  llvm::DenseMap<const llvm::GlobalValue *, unsigned> PartOf;
  unsigned NumParts = 0;
};

/// Plans the cut (see the file comment). Deterministic: depends only on
/// the module's contents.
SplitPlan planModuleSplit(const llvm::Module &M, unsigned MaxParts);

/// Cuts `M` by `Plan` into `Plan.NumParts` modules in `M`'s context. `M`
/// keeps its code, but kernels called across parts are made hidden external
/// symbols in it first.
std::vector<std::unique_ptr<llvm::Module>> splitModule(llvm::Module &M,
                                                       const SplitPlan &Plan);

} // namespace nnc

#endif
