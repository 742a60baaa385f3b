//===- Transpose.h - Matrix transposes by vector blocks -------------------===//
//
// Private to the code generator. A transpose copied element by element
// reads or writes a new cache line per element; moved as VW x VW blocks,
// each block is VW vector loads, log2(VW) rounds of shuffles and VW
// vector stores. The GEMM packs a transposed B this way (Gemm.cpp), and
// the convolutions with pixels as the product's rows turn its [P, K]
// result into the [K, P] planes of NCHW (Conv.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_TRANSPOSE_H
#define NNC_LIB_CODEGEN_TRANSPOSE_H

#include <llvm/ADT/SmallVector.h>
#include <llvm/IR/IRBuilder.h>

#include <cstdint>

namespace nnc::codegen {

class KernelBuilder;

/// Transposes the VW x VW block held in `V` (VW vectors of VW floats, VW a
/// power of two): afterwards vector l holds lane l of every input vector,
/// in order.
void transposeInRegisters(llvm::IRBuilder<> &B,
                          llvm::SmallVectorImpl<llvm::Value *> &V);

/// Dst[c * Rows + r] = Src[r * Cols + c] for r < Rows, c < Cols: the
/// row-major [Rows, Cols] matrix at `Src` as the row-major [Cols, Rows]
/// matrix at `Dst`, by VW x VW blocks (VW floats per vector) and the
/// ragged edges element by element: a call to `@nnc.transpose.r<Rows>c<Cols>`,
/// one function per shape (callSharedCopy, KernelBuilder.h).
void emitTransposeCopy(KernelBuilder &KB, llvm::Value *Src, llvm::Value *Dst,
                       int64_t Rows, int64_t Cols, int64_t VW);

} // namespace nnc::codegen

#endif
