//===- NonFinite.cpp - Reporting non-finite new values of params ----------===//
//
// See NonFinite.h. The test of one float is
//
//   %d = fsub contract float %v, %v      ; 0, or NaN for a NaN or ±inf
//   %bad = fcmp uno float %d, 0.0
//
// zero-extended and ORed into an i32 accumulator; over a vectorized loop
// this becomes one vsubps, vcmpunordps, vandps and vorps per vector of
// stored values, reduced once when the loop ends. (A sign extension would
// save the vandps, but InstCombine turns `or acc, sext(c)` into a select
// that LLVM 19's loop vectorizer leaves scalar.) The flag is written only
// when a value was not finite, with a monotonic atomic store (a plain `mov`
// on x86), as the pieces of a parallel epilogue may each set it.
//
//===----------------------------------------------------------------------===//
#include "NonFinite.h"

#include "KernelBuilder.h"

#include <cmath>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

Value *codegen::emitIsNonFinite(IRBuilder<> &B, Value *V) {
  Value *D = B.CreateFSub(V, V);
  return B.CreateFCmpUNO(D, Constant::getNullValue(V->getType()));
}

NonFiniteAccumulator::NonFiniteAccumulator(BasicBlock &Entry) {
  IRBuilder<> EB(&Entry, Entry.begin());
  Acc = EB.CreateAlloca(EB.getInt32Ty(), nullptr, "nonfinite.acc");
  EB.CreateStore(EB.getInt32(0), Acc);
}

void NonFiniteAccumulator::note(IRBuilder<> &B, Value *V) {
  if (!V->getType()->isFloatTy())
    return;
  Value *Bad = B.CreateZExt(emitIsNonFinite(B, V), B.getInt32Ty());
  B.CreateStore(B.CreateOr(B.CreateLoad(B.getInt32Ty(), Acc), Bad), Acc);
}

void NonFiniteAccumulator::report(IRBuilder<> &B, Value *Flag) {
  LLVMContext &Ctx = B.getContext();
  Function *F = B.GetInsertBlock()->getParent();
  BasicBlock *Set = BasicBlock::Create(Ctx, "nonfinite.set", F);
  BasicBlock *Done = BasicBlock::Create(Ctx, "nonfinite.done", F);
  Value *Any = B.CreateICmpNE(B.CreateLoad(B.getInt32Ty(), Acc), B.getInt32(0));
  B.CreateCondBr(Any, Set, Done);
  B.SetInsertPoint(Set);
  StoreInst *S = B.CreateAlignedStore(B.getInt32(1), Flag, Align(4));
  S->setAtomic(AtomicOrdering::Monotonic);
  B.CreateBr(Done);
  B.SetInsertPoint(Done);
}

Function *codegen::checkFiniteFunction(Module &M) {
  const char *Name = "nnc.check_finite";
  if (Function *F = M.getFunction(Name))
    return F;
  KernelAttrs Attrs;
  Attrs.ReadOnly = {0};
  Attrs.Trailing = {Type::getInt64Ty(M.getContext())};
  Function *F = createKernelFunction(M, Name, 2, Attrs);
  Value *Buf = F->getArg(0), *Flag = F->getArg(1), *N = F->getArg(2);
  Buf->setName("buf");
  Flag->setName("flag");
  N->setName("n");
  BasicBlock *Entry = BasicBlock::Create(M.getContext(), "entry", F);
  IRBuilder<> B(Entry);
  NonFiniteAccumulator Acc(*Entry);
  emitCountedLoop(B, B.getInt64(0), N, [&](Value *I) {
    Acc.note(B, B.CreateLoad(B.getFloatTy(),
                             B.CreateInBoundsGEP(B.getFloatTy(), Buf, I)));
  });
  Acc.report(B, Flag);
  B.CreateRetVoid();
  return F;
}

bool codegen::constantIsFinite(const Node &N) {
  if (N.dtype() != DType::F32)
    return true;
  return llvm::all_of(N.Value.F, [](float V) { return std::isfinite(V); });
}
