//===- LinAlg.cpp - Matrix product and one-hot kernels --------------------===//
//
// matmul is written in i-k-j order:
//
//   for i: C[i, :] = 0
//          for k: a = A[i, k]
//                 for j: C[i, j] += a * B[k, j]      (contract: one FMA)
//
// so the innermost loop walks B and C with unit stride and a loop-invariant
// broadcast of A[i, k] — the vectorizer turns it into packed FMAs over whole
// registers with no reordering of any sum (each C[i, j] still accumulates in
// k order, so -O0 and -O2 agree bit for bit up to FMA contraction).
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

void codegen::emitMatMul(KernelBuilder &KB) {
  const Node &N = KB.node();
  IRBuilder<> &B = KB.builder();
  // A 1-D operand is a row (left) or column (right) vector, as in NumPy.
  ArrayRef<int64_t> L = N.operand(0)->dims(), R = N.operand(1)->dims();
  int64_t M = L.size() == 2 ? L[0] : 1;
  int64_t K = L.back();
  int64_t Cols = R.size() == 2 ? R[1] : 1;
  KB.forRange(M, [&](Value *I) {
    Value *CRow = B.CreateMul(I, KB.i64(Cols));
    KB.forRange(Cols, [&](Value *J) {
      KB.store(KB.f32(0), KB.out(), B.CreateAdd(CRow, J));
    });
    KB.forRange(K, [&](Value *Kv) {
      Value *A = KB.loadOperand(0, B.CreateAdd(B.CreateMul(I, KB.i64(K)), Kv));
      Value *BRow = B.CreateMul(Kv, KB.i64(Cols));
      KB.forRange(Cols, [&](Value *J) {
        Value *CIdx = B.CreateAdd(CRow, J);
        Value *Prod =
            B.CreateFMul(A, KB.loadOperand(1, B.CreateAdd(BRow, J)));
        KB.store(B.CreateFAdd(KB.load(DType::F32, KB.out(), CIdx), Prod),
                 KB.out(), CIdx);
      });
    });
  });
}

void codegen::emitOneHot(KernelBuilder &KB) {
  const Node &N = KB.node();
  IRBuilder<> &B = KB.builder();
  int64_t Classes = N.A.Size;
  int64_t Labels = N.operand(0)->Type.numElements();
  // A label outside [0, Classes) gives an all-zero row.
  KB.forRange(Labels, [&](Value *I) {
    Value *Label = B.CreateSExt(KB.loadOperand(0, I), B.getInt64Ty());
    Value *Row = B.CreateMul(I, KB.i64(Classes));
    KB.forRange(Classes, [&](Value *J) {
      Value *Hot = B.CreateSelect(B.CreateICmpEQ(Label, J), KB.f32(1), KB.f32(0));
      KB.store(Hot, KB.out(), B.CreateAdd(Row, J));
    });
  });
}
