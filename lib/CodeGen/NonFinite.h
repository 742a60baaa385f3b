//===- NonFinite.h - Reporting non-finite new values of params ------------===//
//
// Private to the code generator. The entry points that write params,
// optimizer state or buffers (train_step, train_grad, apply_update) return
// whether a value they wrote there is a NaN or an infinity (ModelABI.h), so
// that the runtime need not scan every slot after every step
// (docs/codegen.md, "Non-finite updates"). The entry keeps an i32 flag,
// zero at its start, and every write of a new value contributes to it:
//
//  - the kernel that computes a new value tests each element it stores
//    (`v - v` is NaN exactly when v is a NaN or an infinity) into an
//    accumulator in a register, and sets the flag once at its end when
//    the accumulator is set: fused epilogues (the usual case: a param's
//    whole update after its gradient's product) and single elementwise,
//    copy and concat kernels (KernelBuilder::noteStored);
//  - any other kernel's new value, and a new value the entry copies from
//    another slot, is tested by a pass over its buffer right after it is
//    written (`checkFiniteFunction`);
//  - a constant new value is tested here, at compile time.
//
// Nothing carries `nnan` or `ninf` (docs/codegen.md, "Fast-math flags"),
// so LLVM cannot fold the test away.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_NONFINITE_H
#define NNC_LIB_CODEGEN_NONFINITE_H

#include "nnc/Graph/Graph.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

namespace nnc::codegen {

/// i1: whether float `V` (a scalar or a vector lane) is a NaN or an
/// infinity.
llvm::Value *emitIsNonFinite(llvm::IRBuilder<> &B, llvm::Value *V);

/// An i32 in the entry block of a function, 0 at its start, that ORs
/// together the tests of the values it is shown. Kept in memory (an
/// alloca), which mem2reg turns into a register, and the loop vectorizer
/// into an OR reduction over vector lanes.
class NonFiniteAccumulator {
public:
  /// Creates the accumulator at the top of `Entry`.
  explicit NonFiniteAccumulator(llvm::BasicBlock &Entry);

  /// ORs in whether `V` is not finite (float values only; others are
  /// ignored).
  void note(llvm::IRBuilder<> &B, llvm::Value *V);
  /// At B's insert point: sets the i32 at `Flag` to 1 when some value
  /// noted was not finite. The store is atomic: the pieces of one kernel
  /// may run on several threads and set the same flag.
  void report(llvm::IRBuilder<> &B, llvm::Value *Flag);

private:
  llvm::AllocaInst *Acc;
};

/// `void @nnc.check_finite(ptr buf, ptr flag, i64 n)`, created once per
/// module: sets *flag to 1 when one of the n floats at buf is not finite.
llvm::Function *checkFiniteFunction(llvm::Module &M);

/// True when every element of constant `N` is finite (i32 constants
/// always are).
bool constantIsFinite(const Node &N);

} // namespace nnc::codegen

#endif
