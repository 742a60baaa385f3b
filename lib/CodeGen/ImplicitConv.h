//===- ImplicitConv.h - Convolutions that read the image in place ---------===//
//
// Private to the code generator. im2col (Im2Col.h) copies every input pixel
// R*S/stride^2 times into the unfolded matrix col[(c,r,s)][(oh,ow)], which
// the GEMM then reads once more. An *implicit* convolution reads the rows
// of that matrix straight out of a padded copy of the image instead, with
// a row table (RowTable.h) for where each row starts:
//
//  - stride 1: in the image padded to [C, Hq, Wq], row (c,r,s) of the
//    unfolded matrix is the run starting at c*Hq*Wq + r*Wq + s, if the
//    output pixels are numbered j = oh*Wq + ow, i.e. on a *virtual* output
//    row of width Wq >= OW. The columns ow >= OW of a virtual row are
//    computed and thrown away (a few percent: Wq - OW = S - 1).
//  - stride st > 1: the padded image is split into phases,
//    phase[c][a][b][i][j] = xpad[c][i*st + a][j*st + b], and then
//    x[oh*st + r][ow*st + s] is phase[c][r%st][s%st][oh + r/st][ow + s/st]:
//    a stride-1 read of one phase. Only the phases some (r, s) reads exist.
//
// So the copy the kernel makes is the padded (and phase-split) image, C*H*W
// floats, instead of C*R*S*OH*OW; with stride 1 and no padding it makes
// none. The results on the virtual rows are compacted into the output, and
// the weight gradient reads dy expanded to virtual rows (zeros past OW).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_IMPLICITCONV_H
#define NNC_LIB_CODEGEN_IMPLICITCONV_H

#include "Im2Col.h"
#include "RowTable.h"

namespace nnc::codegen {

/// Where an implicit convolution reads its input from.
struct PhaseLayout {
  int64_t PA, PB; // phases used along h and w: min(R, st), min(S, st)
  int64_t Hq, Wq; // rows and columns of one phase plane
  int64_t Floats; // of the whole layout: C * PA * PB * Hq * Wq
  bool InPlace;   // the layout is the image itself (stride 1, no padding)

  explicit PhaseLayout(const ConvDims &D);

  /// The virtual pixels a product computes: OH virtual rows of Wq, but
  /// the last, which stops at OW (its tail would read past the layout).
  int64_t virtualPixels(const ConvDims &D) const {
    return (D.OH - 1) * Wq + D.OW;
  }
  /// True when the virtual rows are longer than the output rows, so that
  /// results must be compacted and dy expanded.
  bool hasGaps(const ConvDims &D) const { return Wq != D.OW; }

  /// The start of row (c, r, s) of the unfolded matrix, for each row.
  RowTable rows(const ConvDims &D) const;
};

/// Writes the layout of image `Img` ([C, H, W]) to `Dst`, every element
/// (zeros for padding). Not called for an in-place layout.
void emitPhaseSplit(KernelBuilder &KB, const ConvDims &D, const PhaseLayout &L,
                    llvm::Value *Img, llvm::Value *Dst);

/// Out[k][oh][ow] = Virt[k][oh*Wq + ow]: the output pixels of `Channels`
/// planes of virtual rows.
void emitCompact(KernelBuilder &KB, const ConvDims &D, const PhaseLayout &L,
                 int64_t Channels, llvm::Value *Virt, llvm::Value *Out);

/// Virt[k][oh*Wq + ow] = Dy[k][oh][ow], and 0 for ow >= OW: `Channels`
/// output planes as virtual rows, for the weight gradient.
void emitExpand(KernelBuilder &KB, const ConvDims &D, const PhaseLayout &L,
                int64_t Channels, llvm::Value *Dy, llvm::Value *Virt);

} // namespace nnc::codegen

#endif
