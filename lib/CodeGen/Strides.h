//===- Strides.h - Strided loop nests shared by the loop emitters ---------===//
//
// Private to the code generator. Elementwise kernels (Elementwise.cpp) and
// fused kernels (FusedKernel.cpp) both read every buffer through a stride
// vector (and a base, for slices) over one loop nest. This is the one place
// that computes those strides, simplifies the nest (drops unit dims, merges
// dims contiguous in every buffer, so a same-shape chain is one unit-stride
// loop the vectorizer likes) and turns loop indices into an element index.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_STRIDES_H
#define NNC_LIB_CODEGEN_STRIDES_H

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/SmallVector.h>

#include <cstdint>

namespace llvm {
class Value;
} // namespace llvm

namespace nnc::codegen {

class KernelBuilder;

/// Row-major element strides of `Dims`.
llvm::SmallVector<int64_t, 4> contiguousStrides(llvm::ArrayRef<int64_t> Dims);

/// Strides that read `OpDims` broadcast (NumPy, right-aligned) to `OutDims`:
/// 0 along the dims it is stretched over.
llvm::SmallVector<int64_t, 4> broadcastStrides(llvm::ArrayRef<int64_t> OpDims,
                                               llvm::ArrayRef<int64_t> OutDims);

/// A loop nest over `Dims` with one stride vector per buffer.
struct StridedNest {
  llvm::SmallVector<int64_t, 4> Dims;
  llvm::SmallVector<llvm::SmallVector<int64_t, 4>, 4> Strides;

  /// Drops unit dims and merges adjacent dims that are contiguous in every
  /// buffer; the element each buffer reads at each point is unchanged.
  void simplify();
};

/// The element index `Base + sum_d IVs[d] * Strides[d]` (no instruction
/// for zero strides or a zero base; a constant when every stride is zero).
/// `Base` is the element read at the nest's origin, nonzero for a slice,
/// which starts inside its operand.
llvm::Value *linearIndex(KernelBuilder &KB, llvm::ArrayRef<llvm::Value *> IVs,
                         llvm::ArrayRef<int64_t> Strides, int64_t Base = 0);

} // namespace nnc::codegen

#endif
