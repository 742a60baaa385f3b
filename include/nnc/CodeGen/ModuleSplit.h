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
//   one shape into one unsplittable group. Only if it is shared (called
//   by several functions, or by an entry): one called by a single kernel
//   or wrapper stays with it, so that it is specialized for its caller's
//   constant arguments as in the whole module;
// * a function that lands in another part than a caller becomes a hidden
//   external symbol — visible to the linker, not exported from the program;
// * the `optnone` entries get a part of their own, which the back end
//   compiles at its lowest level (ParallelCodeGen.h);
// * parts are balanced by expected compile time (instructions, a loop
//   weighing as many instructions as it costs; largest group first, into
//   the lightest part).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_MODULESPLIT_H
#define NNC_CODEGEN_MODULESPLIT_H

#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>

#include <string>
#include <vector>

namespace nnc {

/// No part: a declaration.
constexpr unsigned NoPart = ~0u;

/// Which part every defined global of `M` goes to, when `M` is cut into at
/// most `MaxParts` parts, plus one for the entries (StraightPart);
/// `NumParts` is how many are non-empty.
struct SplitPlan {
  llvm::DenseMap<const llvm::GlobalValue *, unsigned> PartOf;
  unsigned NumParts = 0;
  /// The expected cost of compiling each part (in instructions: a loop
  /// counts as many), for the order in which they are compiled.
  std::vector<uint64_t> Weight;
  /// The part of the `optnone` entries (straight lines of calls that run
  /// once a step), alone when `MaxParts` > 1 and there are other groups;
  /// NoPart otherwise.
  unsigned StraightPart = NoPart;
};

/// Plans the cut (see the file comment). Deterministic: depends only on
/// the module's contents.
SplitPlan planModuleSplit(const llvm::Module &M, unsigned MaxParts);

/// Makes the functions that `Plan` calls across parts hidden external
/// symbols in `M`. Before `M` is copied into parts.
void prepareSplit(llvm::Module &M, const SplitPlan &Plan);

/// The part of one global of the planned module, by position.
struct PartOfGlobal {
  std::string Name;
  unsigned Part; ///< or NoPart
};

/// The part of every global of `M` in `M.global_values()` order, which a
/// copy of `M` (CloneModule, or bitcode read back) keeps; plain data, so
/// that threads with other LLVM contexts can read it.
std::vector<PartOfGlobal> partOfEachGlobal(const llvm::Module &M,
                                           const SplitPlan &Plan);

/// Cuts `Copy`, a copy of the planned module (after prepareSplit), down to
/// part `Part`: what other parts define becomes a declaration. Works on a
/// lazily read module before its bodies are read, so only the part's own
/// bodies ever are. Fails if `Copy`'s globals are not the planned ones.
llvm::Error keepPart(llvm::Module &Copy, llvm::ArrayRef<PartOfGlobal> Parts,
                     unsigned Part);

} // namespace nnc

#endif
