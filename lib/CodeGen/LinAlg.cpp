//===- LinAlg.cpp - Matrix product and one-hot kernels --------------------===//
//
// matmul calls the shared register-tiled product of Gemm.cpp with strides
// read off the operands. A `transpose` operand is folded: the kernel gets
// the transposed tensor's buffer and reads it with its two strides swapped
// (`kernelOperand`), which is how the backward products dX = dY * W^T and
// dW = X^T * dY run without materializing a transposed copy.
//
//===----------------------------------------------------------------------===//
#include "Gemm.h"
#include "KernelBuilder.h"

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

const Node *codegen::kernelOperand(const Node &N, unsigned I) {
  const Node *Op = N.operand(I);
  if (N.Kind != OpKind::MatMul || Op->Kind != OpKind::Transpose ||
      Op->dims().size() != 2 || isImmediate(Op->operand(0)))
    return Op;
  return Op->operand(0);
}

void codegen::emitMatMul(KernelBuilder &KB) {
  const Node &N = KB.node();
  IRBuilder<> &B = KB.builder();
  // A 1-D operand is a row (left) or column (right) vector, as in NumPy.
  ArrayRef<int64_t> L = N.operand(0)->dims(), R = N.operand(1)->dims();
  int64_t M = L.size() == 2 ? L[0] : 1;
  int64_t K = L.back();
  int64_t Cols = R.size() == 2 ? R[1] : 1;
  if (M == 0 || K == 0 || Cols == 0)
    return KB.fillOut(KB.f32(0), M * Cols);
  // matmul operands have rank >= 1, so they are never immediates.
  assert(KB.in(0) && KB.in(1) && "matmul operand without a buffer");
  GemmShape S;
  S.M = M;
  S.N = Cols;
  S.K = K;
  // A(i,k): row-major [M,K], or [K,M] read through a folded transpose.
  S.ARow = readsTransposed(N, 0) ? 1 : K;
  S.ACol = readsTransposed(N, 0) ? M : 1;
  // B(k,j): row-major [K,N], or [N,K] read through a folded transpose.
  S.BRow = readsTransposed(N, 1) ? 1 : Cols;
  S.BCol = readsTransposed(N, 1) ? K : 1;
  S.CRow = Cols;
  Function *Gemm = getGemm(*B.GetInsertBlock()->getModule(), S);
  B.CreateCall(Gemm, {KB.out(), KB.in(0), KB.in(1)});
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
      Value *Hot =
          B.CreateSelect(B.CreateICmpEQ(Label, J), KB.f32(1), KB.f32(0));
      KB.store(Hot, KB.out(), B.CreateAdd(Row, J));
    });
  });
}
