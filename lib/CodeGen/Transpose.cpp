//===- Transpose.cpp - Matrix transposes by vector blocks -----------------===//
#include "Transpose.h"
#include "KernelBuilder.h"

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

void codegen::transposeInRegisters(IRBuilder<> &B,
                                   SmallVectorImpl<Value *> &V) {
  int64_t VW = int64_t(V.size());
  // log2(VW) rounds of interleaving the halves: row r, lane l ends in
  // vector l, lane r.
  for (int64_t Half = VW / 2, Round = 1; Round < VW; Round *= 2) {
    SmallVector<int, 16> Lo, Hi;
    for (int64_t L = 0; L < Half; ++L) {
      Lo.append({int(L), int(L + VW)});
      Hi.append({int(L + Half), int(L + Half + VW)});
    }
    SmallVector<Value *, 16> Next(VW);
    for (int64_t I = 0; I < Half; ++I) {
      Next[2 * I] = B.CreateShuffleVector(V[I], V[I + Half], Lo);
      Next[2 * I + 1] = B.CreateShuffleVector(V[I], V[I + Half], Hi);
    }
    V.assign(Next.begin(), Next.end());
  }
}

namespace {

/// The body of emitTransposeCopy's shared function.
void emitTransposeBody(KernelBuilder &KB, Value *Src, Value *Dst, int64_t Rows,
                       int64_t Cols, int64_t VW) {
  IRBuilder<> &B = KB.builder();
  Type *F32 = B.getFloatTy();
  auto *VecTy = FixedVectorType::get(F32, VW);
  int64_t RowBlocks = Rows / VW, ColBlocks = Cols / VW;
  auto At = [&](Value *Base, Value *Row, int64_t Stride, Value *Col) {
    return B.CreateInBoundsGEP(
        F32, Base, B.CreateAdd(B.CreateMul(Row, KB.i64(Stride)), Col));
  };
  auto CopyOne = [&](Value *R, Value *C) {
    B.CreateStore(B.CreateLoad(F32, At(Src, R, Cols, C)), At(Dst, C, Rows, R));
  };
  // Nothing here is for the loop vectorizer: the blocks are vectors
  // already and the edges strided (it would spend compile time to say no).
  LoopHints Scalar{.Vectorize = false};
  auto Loop = [&](int64_t Lo, int64_t Hi, function_ref<void(Value *)> Body) {
    forLoopWithHints(KB, KB.i64(Lo), KB.i64(Hi), Scalar, Body);
  };
  if (RowBlocks > 0 && ColBlocks > 0)
    Loop(0, RowBlocks, [&](Value *RB) {
      Value *R0 = B.CreateMul(RB, KB.i64(VW));
      Loop(0, ColBlocks, [&](Value *CB) {
        Value *C0 = B.CreateMul(CB, KB.i64(VW));
        SmallVector<Value *, 16> V;
        for (int64_t I = 0; I < VW; ++I)
          V.push_back(B.CreateAlignedLoad(
              VecTy, At(Src, B.CreateAdd(R0, KB.i64(I)), Cols, C0), Align(4)));
        transposeInRegisters(B, V);
        for (int64_t J = 0; J < VW; ++J)
          B.CreateAlignedStore(
              V[J], At(Dst, B.CreateAdd(C0, KB.i64(J)), Rows, R0), Align(4));
      });
    });
  // The columns past the last whole block, for the rows of whole blocks;
  // then the rows past them, whole.
  if (Cols % VW)
    Loop(ColBlocks * VW, Cols, [&](Value *C) {
      Loop(0, RowBlocks * VW, [&](Value *R) { CopyOne(R, C); });
    });
  if (Rows % VW)
    Loop(RowBlocks * VW, Rows,
         [&](Value *R) { Loop(0, Cols, [&](Value *C) { CopyOne(R, C); }); });
}

} // namespace

void codegen::emitTransposeCopy(KernelBuilder &KB, Value *Src, Value *Dst,
                                int64_t Rows, int64_t Cols, int64_t VW) {
  callSharedCopy(KB, "nnc.transpose.r" + Twine(Rows) + "c" + Twine(Cols), Dst,
                 Src, [&](KernelBuilder &CKB, Value *To, Value *From) {
                   emitTransposeBody(CKB, From, To, Rows, Cols, VW);
                 });
}
