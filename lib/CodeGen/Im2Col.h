//===- Im2Col.h - Unfolding convolution windows into matrix columns -------===//
//
// Private to the code generator. The convolution kernels (Conv.cpp) reduce
// conv2d and its gradients to the shared matrix product (Gemm.h) by
// unfolding one image's windows into a matrix: im2col writes
//
//   col[(c, r, s)][(oh, ow)] = x[c, oh*st + r - p, ow*st + s - p]  (0 outside)
//
// and col2im adds such a matrix back into an image, which is the transpose
// of that map (the input gradient). Both loop with `ow` innermost; the
// loops are scalar and written unrolled where that pays (Im2Col.cpp), so
// LLVM's unroller is not needed.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_IM2COL_H
#define NNC_LIB_CODEGEN_IM2COL_H

#include "KernelBuilder.h"

namespace nnc::codegen {

/// Geometry of conv2d(x : [N,C,H,W], w : [K,C,R,S]) -> y : [N,K,OH,OW].
struct ConvDims {
  int64_t N, C, H, W; // input
  int64_t K, R, S;    // weight
  int64_t OH, OW;     // output
  int64_t Stride, Pad;

  /// Rows of the unfolded matrix (one per weight of an output channel).
  int64_t crs() const { return C * R * S; }
  /// Columns of the unfolded matrix (one per output pixel).
  int64_t pixels() const { return OH * OW; }
  /// True when the unfolded matrix of an image is the image itself.
  bool isPointwise() const {
    return R == 1 && S == 1 && Stride == 1 && Pad == 0;
  }
  /// What the copies of one image depend on, as a name fragment: all but
  /// N and K, e.g. `c16h28w28.r3s3.st1p1`.
  std::string imageKey() const;
};

/// The geometry of a conv2d with input dims `X`, weight dims `Wt`, output
/// dims `Y` and stride/padding from `A`.
ConvDims convDims(llvm::ArrayRef<int64_t> X, llvm::ArrayRef<int64_t> Wt,
                  llvm::ArrayRef<int64_t> Y, const Attrs &A);

/// Unfolds the image at `Img` ([C,H,W]) into `Col`: element ((c,r,s), o)
/// goes to `Col[(c,r,s) * RowStride + o * ColStride]`, so (P, 1) writes
/// the [CRS, P] matrix and (1, CRS) its transpose [P, CRS]. Every element
/// is written (zeros for padding), so `Col` needs no clearing.
void emitIm2Col(KernelBuilder &KB, const ConvDims &D, llvm::Value *Img,
                llvm::Value *Col, int64_t RowStride, int64_t ColStride);

/// Image = col2im(Col): clears the image at `Img` ([C,H,W]) and adds every
/// element of the [CRS, P] matrix `Col` to the input pixel it was read
/// from, in a fixed order (c, r, s, oh, ow), so sums are deterministic.
void emitCol2Im(KernelBuilder &KB, const ConvDims &D, llvm::Value *Col,
                llvm::Value *Img);

} // namespace nnc::codegen

#endif
