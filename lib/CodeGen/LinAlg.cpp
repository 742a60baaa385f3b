//===- LinAlg.cpp - Matrix product and one-hot kernels --------------------===//
//
// matmul calls the shared register-tiled product of Gemm.cpp with strides
// read off the operands. A `transpose` operand is folded: the kernel gets
// the transposed tensor's buffer and reads it with its two strides swapped
// (`kernelOperand`), which is how the backward products dX = dY * W^T and
// dW = X^T * dY run without materializing a transposed copy.
//
// One case is better served by row dot products (DotTile.h): a few rows
// times a transposed B, X[M,K] * W[N,K]^T with small M — a PyTorch Linear
// layer at inference batch 1, whose weight is stored [out, in]. The GEMM
// would first copy all of W into packed panels, column by column, to read
// it by vectors; that copy costs K*N strided loads for only M*N*K flops.
// Both operands are contiguous along k, so dot products read each once.
//
//===----------------------------------------------------------------------===//
#include "DotTile.h"
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

/// Rows of A up to which A * B^T runs as row dot products (measured on
/// Zen 3 against the packing GEMM, bench figures in docs/codegen.md).
constexpr int64_t MaxDotRows = 16;
/// Bound on the dot products' lane partials, a static buffer of M*N
/// vectors (256 KiB: 16 x 256 outputs of AVX-512 lanes).
constexpr int64_t MaxDotLaneFloats = 64 << 10;

/// C[M,N] = A[M,K] * B^T with B stored [N,K]: lane partials of every row
/// pair (DotTile.h), then each output's lanes summed in a fixed order.
static void emitRowDotProduct(KernelBuilder &KB, int64_t M, int64_t N,
                              int64_t K) {
  IRBuilder<> &B = KB.builder();
  Module &Mod = *B.GetInsertBlock()->getModule();
  int64_t VW = dotLanes(Mod);
  DotShape S;
  S.M = M;
  S.N = N;
  S.L = K;
  S.ARow = K;
  S.BRow = K;
  Value *Lanes = staticBuffer(
      Mod, M * N * VW, B.GetInsertBlock()->getParent()->getName() + ".lanes");
  B.CreateCall(getRowDots(Mod, S), {Lanes, KB.in(0), KB.in(1), B.getTrue()});
  auto *VecTy = FixedVectorType::get(B.getFloatTy(), unsigned(VW));
  KB.forRange(M * N, [&](Value *I) {
    Value *At =
        B.CreateInBoundsGEP(B.getFloatTy(), Lanes, B.CreateMul(I, KB.i64(VW)));
    Value *Sum = B.CreateAlignedLoad(VecTy, At, Align(64));
    KB.store(emitLaneSum(B, Sum), KB.out(), I);
  });
}

namespace {
/// How a matmul runs: the product's shape (M, N, K and the strides of its
/// operands), or row dot products of the same sizes.
struct MatMulPlan {
  GemmShape S;
  bool RowDots = false;
  bool empty() const { return S.M == 0 || S.N == 0 || S.K == 0; }
};
} // namespace

static MatMulPlan planMatMul(const Node &N, Module &M) {
  // A 1-D operand is a row (left) or column (right) vector, as in NumPy.
  ArrayRef<int64_t> L = N.operand(0)->dims(), R = N.operand(1)->dims();
  MatMulPlan P;
  GemmShape &S = P.S;
  S.M = L.size() == 2 ? L[0] : 1;
  S.K = L.back();
  S.N = R.size() == 2 ? R[1] : 1;
  // A(i,k): row-major [M,K], or [K,M] read through a folded transpose.
  S.ARow = readsTransposed(N, 0) ? 1 : S.K;
  S.ACol = readsTransposed(N, 0) ? S.M : 1;
  // B(k,j): row-major [K,N], or [N,K] read through a folded transpose.
  S.BRow = readsTransposed(N, 1) ? 1 : S.N;
  S.BCol = readsTransposed(N, 1) ? S.K : 1;
  S.CRow = S.N;
  P.RowDots = readsTransposed(N, 1) && !readsTransposed(N, 0) &&
              S.M <= MaxDotRows && S.M * S.N * dotLanes(M) <= MaxDotLaneFloats;
  return P;
}

void codegen::emitMatMul(KernelBuilder &KB) {
  IRBuilder<> &B = KB.builder();
  Module &M = *B.GetInsertBlock()->getModule();
  MatMulPlan P = planMatMul(KB.node(), M);
  const GemmShape &S = P.S;
  if (P.empty())
    return KB.fillOut(KB.f32(0), S.M * S.N);
  // matmul operands have rank >= 1, so they are never immediates.
  assert(KB.in(0) && KB.in(1) && "matmul operand without a buffer");
  if (P.RowDots)
    return emitRowDotProduct(KB, S.M, S.N, S.K);
  B.CreateCall(getGemm(M, S), {KB.out(), KB.in(0), KB.in(1)});
}

bool codegen::matMulRowsOnThreads(const Node &MatMul, Module &M) {
  MatMulPlan P = planMatMul(MatMul, M);
  return !P.empty() && !P.RowDots && gemmRowsOnThreads(M, P.S);
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
