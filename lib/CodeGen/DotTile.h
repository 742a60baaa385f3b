//===- DotTile.h - Register-tiled dot products of row pairs ---------------===//
//
// Private to the code generator. Some products are sums along rows of both
// operands: the weight gradient of a convolution is
// dw[k][crs] = sum_p dy[k][p] * col[crs][p], where dy and the forward
// unfolding col are both contiguous in p. Reading both as vectors along p
// needs no transposed copy of either (the GEMM of Gemm.h would need one
// operand transposed). `getRowDots` emits such a product once per shape as
// an internal function
//
//   void @nnc.dot.<key>(ptr Acc, ptr A, ptr B, i1 Fresh)
//
// that leaves one vector of *lane partial sums* per (row of A, row of B) in
// Acc, so that successive calls (one per image) accumulate without a
// horizontal sum each; the caller adds the lanes once at the end with
// `emitLaneSum`, in a fixed order. See DotTile.cpp for the tiling.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_DOTTILE_H
#define NNC_LIB_CODEGEN_DOTTILE_H

#include "RowTable.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <cstdint>
#include <string>

namespace nnc::codegen {

/// Dot products of every row of A[M, L] with every row of B[N, L]; element
/// p of row i of A is A[i*ARow + p] (rows are contiguous), likewise for B.
struct DotShape {
  int64_t M = 0, N = 0, L = 0;
  int64_t ARow = 0, BRow = 0;
  /// When not empty, row j of B starts at B[BRows[j]] instead (BRow is
  /// unused): the rows of an implicit convolution's input (RowTable.h).
  RowTable BRows;

  /// A name fragment unique to the shape, e.g. `m6n25l784.a784.b784`.
  std::string key() const;
};

/// Floats per lane-partial vector of the products emitted into `M`: the
/// width of the module's vector unit (Target.h, moduleVectorUnit).
int64_t dotLanes(const llvm::Module &M);

/// `void @nnc.dot.<key>(ptr noalias Acc, ptr noalias readonly A,
/// ptr noalias readonly B, i1 Fresh)` in `M`, created on first use. With
/// VW = dotLanes(M), for i < M, j < N and lane l < VW it computes
///
///   Acc[(i*N + j)*VW + l] = (Fresh ? 0 : Acc[(i*N + j)*VW + l])
///                           + sum of A[i*ARow + p] * B[j*BRow + p]
///                             over p < L with p % VW == l, in p order.
///
/// It touches no global state, so threads may run it at once on distinct
/// Acc buffers.
llvm::Function *getRowDots(llvm::Module &M, const DotShape &S);

/// The sum of the lanes of the float vector `V` (a power-of-two width) by
/// halving: lane l is added to lane l + n/2 while n > 1. A fixed order, so
/// results do not depend on how the partials were scheduled.
llvm::Value *emitLaneSum(llvm::IRBuilder<> &B, llvm::Value *V);

} // namespace nnc::codegen

#endif
