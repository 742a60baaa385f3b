//===- Gemm.h - Register-tiled matrix product shared by kernels -----------===//
//
// Private to the code generator. matmul and the im2col convolutions all
// reduce to one strided product C = op(A) * op(B) (or C += ...) over static
// shapes; `getGemm` emits it once per distinct shape and layout as an
// internal function `void @nnc.gemm.<key>(ptr C, ptr A, ptr B)` and returns
// it for the kernels to call. See Gemm.cpp for the blocking scheme.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_GEMM_H
#define NNC_LIB_CODEGEN_GEMM_H

#include "RowTable.h"

#include <llvm/IR/Module.h>

#include <cstdint>
#include <string>

namespace nnc::codegen {

/// A product C[M,N] (+)= A[M,K] * B[K,N] of f32 matrices given by strides:
/// A(i,k) is A[i*ARow + k*ACol], B(k,j) is B[k*BRow + j*BCol] and C(i,j) is
/// C[i*CRow + j]. A transposed operand is just a swap of its two strides.
struct GemmShape {
  int64_t M = 0, N = 0, K = 0;
  int64_t ARow = 0, ACol = 1, BRow = 0, BCol = 1, CRow = 0;
  /// When not empty, B(k,j) is B[BRows[k] + j*BCol] instead (BRow is
  /// unused): the rows of an implicit convolution's input (RowTable.h).
  RowTable BRows;
  /// When not empty, A(i,k) is A[ARows[i] + k*ACol] instead (ARow is
  /// unused): the implicit unfolded image as A, its (c, r, s) rows for the
  /// weight gradient, its pixels (with ACols) for the forward.
  RowTable ARows;
  /// When not empty, A's column k starts at ACols[k] instead of k*ACol:
  /// with ARows, the implicit unfolded image transposed (pixels as rows,
  /// the weights' (c, r, s) as columns), for the forward convolution.
  RowTable ACols;
  /// C += A*B instead of C = A*B.
  bool Accumulate = false;
  /// May split the work over the runtime's threads (`nnc_parallel_for`)
  /// when it is large enough to pay for the hand-off.
  bool AllowThreads = true;
  /// May pack B into the function's global strip buffer. A product that
  /// several threads run at once on different operands (the im2col
  /// convolutions' per-image products) must not share that buffer: with
  /// packing off, B must be row-major (BCol == 1) and is read in place, and
  /// the function touches no global state.
  bool AllowPacking = true;

  /// A name fragment unique to the shape, e.g. `m64n256k784.a784_1.b256_1`.
  std::string key() const;
};

/// `void @nnc.gemm.<key>(ptr noalias C, ptr noalias readonly A,
/// ptr noalias readonly B)` in `M`, created on first use.
llvm::Function *getGemm(llvm::Module &M, const GemmShape &S);

/// Whether getGemm's product cuts C into blocks of rows, each a task of
/// the thread pool, claimed front to back: a large C (a weight's gradient),
/// whose rows the thread that computed them should also update.
bool gemmRowsOnThreads(llvm::Module &M, const GemmShape &S);

} // namespace nnc::codegen

#endif
