//===- Im2Col.cpp - Unfolding convolution windows into matrix columns -----===//
//
// For each weight offset (c, r, s) the input pixels an output row reads
// form one strided run of x, so both maps are loop nests over
// (c, r, s) and oh around a copy over ow. The output rows and columns whose
// input pixel falls in the padding are computed once per (r, s)
// (`validRange`): im2col splits each row into zero / copy / zero runs,
// col2im skips them. With padding 0 every range is the whole output and
// the loops keep constant trip counts.
//
//===----------------------------------------------------------------------===//
#include "Im2Col.h"

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

/// Output positions o in [0, Out) whose input o*st + r - p lies in [0, In),
/// for kernel offset `R`: [ceil((p - r) / st), floor((In - 1 + p - r) / st)].
std::pair<Value *, Value *> validRange(KernelBuilder &KB, Value *R, int64_t In,
                                       int64_t Out, int64_t Stride,
                                       int64_t Pad) {
  if (Pad == 0) // every window fits: constant bounds
    return {KB.i64(0), KB.i64(Out)};
  IRBuilder<> &B = KB.builder();
  Value *Zero = KB.i64(0), *St = KB.i64(Stride);
  Value *LoNum = B.CreateSub(KB.i64(Pad), R);
  Value *Lo = B.CreateSelect(
      B.CreateICmpSGT(LoNum, Zero),
      B.CreateSDiv(B.CreateAdd(LoNum, KB.i64(Stride - 1)), St), Zero);
  Lo = B.CreateSelect(B.CreateICmpSLT(Lo, KB.i64(Out)), Lo, KB.i64(Out));
  Value *HiNum = B.CreateSub(KB.i64(In - 1 + Pad), R);
  Value *Hi =
      B.CreateSelect(B.CreateICmpSGE(HiNum, Zero),
                     B.CreateAdd(B.CreateSDiv(HiNum, St), KB.i64(1)), Zero);
  Hi = B.CreateSelect(B.CreateICmpSLT(Hi, KB.i64(Out)), Hi, KB.i64(Out));
  // An empty range must not make the zero runs around it overlap.
  Hi = B.CreateSelect(B.CreateICmpSLT(Hi, Lo), Lo, Hi);
  return {Lo, Hi};
}

/// Input coordinate of output position `O` and kernel offset `R`.
Value *inputCoord(KernelBuilder &KB, Value *O, Value *R, const ConvDims &D) {
  IRBuilder<> &B = KB.builder();
  return B.CreateSub(B.CreateAdd(B.CreateMul(O, KB.i64(D.Stride)), R),
                     KB.i64(D.Pad));
}

/// The copies of im2col and col2im are scalar strided loops; LLVM's
/// unroller (which only runs on loops that allow it, KernelBuilder.h)
/// unrolls the short ones, and SLP then turns copies of neighbouring
/// offsets s into vector moves: 2-5x faster than the rolled loops.
constexpr LoopHints Unrolled = {.Unroll = true};

/// Runs `Body(crs, c, r, s)` for every weight offset, c outermost.
void forEachOffset(
    KernelBuilder &KB, const ConvDims &D,
    function_ref<void(Value *, Value *, Value *, Value *)> Body) {
  IRBuilder<> &B = KB.builder();
  KB.forRange(D.C, [&](Value *C) {
    forLoopWithHints(KB, KB.i64(0), KB.i64(D.R), Unrolled, [&](Value *R) {
      forLoopWithHints(KB, KB.i64(0), KB.i64(D.S), Unrolled, [&](Value *S) {
        Value *Crs =
            B.CreateAdd(B.CreateMul(B.CreateAdd(B.CreateMul(C, KB.i64(D.R)), R),
                                    KB.i64(D.S)),
                        S);
        Body(Crs, C, R, S);
      });
    });
  });
}

} // namespace

ConvDims codegen::convDims(ArrayRef<int64_t> X, ArrayRef<int64_t> Wt,
                           ArrayRef<int64_t> Y, const Attrs &A) {
  return {X[0],  X[1], X[2], X[3],     Wt[0],    Wt[2],
          Wt[3], Y[2], Y[3], A.Stride, A.Padding};
}

void codegen::emitIm2Col(KernelBuilder &KB, const ConvDims &D, Value *Img,
                         Value *Col, int64_t RowStride, int64_t ColStride) {
  IRBuilder<> &B = KB.builder();
  // Output rows outermost: the elements one output row writes span at most
  // CRS * OW floats, which stay in L1 even when the transposed layout
  // scatters them with stride CRS.
  KB.forRange(D.OH, [&](Value *Oh) {
    Value *P0 = B.CreateMul(Oh, KB.i64(D.OW));
    forEachOffset(KB, D, [&](Value *Crs, Value *C, Value *R, Value *S) {
      Value *RowBase = B.CreateMul(Crs, KB.i64(RowStride));
      auto Dst = [&](Value *Ow) {
        return B.CreateAdd(RowBase,
                           B.CreateMul(B.CreateAdd(P0, Ow), KB.i64(ColStride)));
      };
      bool Scalar = ColStride != 1;
      auto Zero = [&](Value *Lo, Value *Hi) {
        forLoopWithHints(KB, Lo, Hi, {.Vectorize = !Scalar, .Unroll = true},
                         [&](Value *Ow) { KB.store(KB.f32(0), Col, Dst(Ow)); });
      };
      Value *Ih = inputCoord(KB, Oh, R, D);
      Value *SrcRow = B.CreateMul(B.CreateAdd(B.CreateMul(C, KB.i64(D.H)), Ih),
                                  KB.i64(D.W));
      auto Copy = [&](Value *Lo, Value *Hi) {
        forLoopWithHints(
            KB, Lo, Hi, {.Vectorize = !Scalar, .Unroll = true}, [&](Value *Ow) {
              Value *Iw = inputCoord(KB, Ow, S, D);
              KB.store(KB.load(DType::F32, Img, B.CreateAdd(SrcRow, Iw)), Col,
                       Dst(Ow));
            });
      };
      if (D.Pad == 0) // every window lies inside the image
        return Copy(KB.i64(0), KB.i64(D.OW));
      // A row in the padding is all zeros; otherwise zero / copy / zero
      // runs. The run bounds are selected, so there is no branch.
      auto [OhLo, OhHi] = validRange(KB, R, D.H, D.OH, D.Stride, D.Pad);
      auto [OwLo, OwHi] = validRange(KB, S, D.W, D.OW, D.Stride, D.Pad);
      Value *InRow =
          B.CreateAnd(B.CreateICmpSGE(Oh, OhLo), B.CreateICmpSLT(Oh, OhHi));
      Value *Full = KB.i64(D.OW);
      Zero(KB.i64(0), B.CreateSelect(InRow, OwLo, Full));
      Copy(OwLo, B.CreateSelect(InRow, OwHi, OwLo));
      Zero(B.CreateSelect(InRow, OwHi, Full), Full);
    });
  });
}

void codegen::emitCol2Im(KernelBuilder &KB, const ConvDims &D, Value *Col,
                         Value *Img) {
  IRBuilder<> &B = KB.builder();
  KB.forRange(D.C * D.H * D.W, [&](Value *I) { KB.store(KB.f32(0), Img, I); });
  forEachOffset(KB, D, [&](Value *Crs, Value *C, Value *R, Value *S) {
    Value *RowBase = B.CreateMul(Crs, KB.i64(D.pixels()));
    Value *Plane = B.CreateMul(C, KB.i64(D.H));
    auto [OhLo, OhHi] = validRange(KB, R, D.H, D.OH, D.Stride, D.Pad);
    auto [OwLo, OwHi] = validRange(KB, S, D.W, D.OW, D.Stride, D.Pad);
    forLoopWithHints(KB, OhLo, OhHi, Unrolled, [&](Value *Oh) {
      Value *Ih = inputCoord(KB, Oh, R, D);
      Value *DstRow = B.CreateMul(B.CreateAdd(Plane, Ih), KB.i64(D.W));
      Value *SrcRow = B.CreateAdd(RowBase, B.CreateMul(Oh, KB.i64(D.OW)));
      forLoopWithHints(KB, OwLo, OwHi, Unrolled, [&](Value *Ow) {
        Value *DstIdx = B.CreateAdd(DstRow, inputCoord(KB, Ow, S, D));
        Value *Sum =
            B.CreateFAdd(KB.load(DType::F32, Img, DstIdx),
                         KB.load(DType::F32, Col, B.CreateAdd(SrcRow, Ow)));
        KB.store(Sum, Img, DstIdx);
      });
    });
  });
}
