//===- Im2Col.cpp - Unfolding convolution windows into matrix columns -----===//
//
// im2col loops over output rows, then (c, r), then the output columns ow,
// and copies the S offsets of one column by construction: in the
// transposed layout [P, CRS] (the weight gradient's GEMM form) their
// sources and destinations are both contiguous, so SLP turns them into
// vector moves without LLVM's unroller (which made the weight gradient 2x
// slower when not asked to unroll, and 5x the compile time when asked).
// The columns whose window row lies inside the image, [OwIn, OwOut), are
// plain copies; the few at the edges and the rows in the padding select
// zeros (loading from a clamped index, so nothing reads out of bounds).
//
// col2im adds a [CRS, P] matrix back into an image, a loop nest over
// (c, r, s) and oh around a read-modify-write over ow whose bounds skip the
// padding (`validRange`), in a fixed order.
//
//===----------------------------------------------------------------------===//
#include "Im2Col.h"

#include <algorithm>

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

/// min(max(V, 0), Hi - 1): an index that is safe to load from.
Value *clampIndex(KernelBuilder &KB, Value *V, int64_t Hi) {
  IRBuilder<> &B = KB.builder();
  V = B.CreateSelect(B.CreateICmpSLT(V, KB.i64(0)), KB.i64(0), V);
  return B.CreateSelect(B.CreateICmpSGT(V, KB.i64(Hi - 1)), KB.i64(Hi - 1), V);
}

/// True when 0 <= V < Hi.
Value *inRange(KernelBuilder &KB, Value *V, int64_t Hi) {
  IRBuilder<> &B = KB.builder();
  return B.CreateAnd(B.CreateICmpSGE(V, KB.i64(0)),
                     B.CreateICmpSLT(V, KB.i64(Hi)));
}

int64_t ceilDiv(int64_t A, int64_t B) { return A <= 0 ? 0 : (A + B - 1) / B; }

} // namespace

ConvDims codegen::convDims(ArrayRef<int64_t> X, ArrayRef<int64_t> Wt,
                           ArrayRef<int64_t> Y, const Attrs &A) {
  return {X[0],  X[1], X[2], X[3],     Wt[0],    Wt[2],
          Wt[3], Y[2], Y[3], A.Stride, A.Padding};
}

std::string ConvDims::imageKey() const {
  return ("c" + Twine(C) + "h" + Twine(H) + "w" + Twine(W) + ".r" + Twine(R) +
          "s" + Twine(S) + ".st" + Twine(Stride) + "p" + Twine(Pad))
      .str();
}

namespace {

void emitIm2ColBody(KernelBuilder &KB, const ConvDims &D, Value *Img,
                    Value *Col, int64_t RowStride, int64_t ColStride) {
  IRBuilder<> &B = KB.builder();
  // The output columns ow whose whole window row (s = 0..S-1) lies inside
  // the image, [OwIn, OwOut): ow*st - pad >= 0 and ow*st - pad + S - 1 <
  // W. Columns outside it test each s.
  int64_t OwIn = std::min(ceilDiv(D.Pad, D.Stride), D.OW);
  int64_t OwOut = D.W - 1 + D.Pad - (D.S - 1) < 0
                      ? OwIn
                      : std::clamp((D.W - 1 + D.Pad - (D.S - 1)) / D.Stride + 1,
                                   OwIn, D.OW);
  // Output rows outermost: the elements one output row writes span at most
  // CRS * OW floats, which stay in L1 even when the transposed layout
  // scatters them with stride CRS.
  KB.forRange(D.OH, [&](Value *Oh) {
    Value *P0 = B.CreateMul(Oh, KB.i64(D.OW));
    KB.forRange(D.C, [&](Value *C) {
      KB.forRange(D.R, [&](Value *R) {
        // Input row ih; a row in the padding reads row 0 (or H-1) and
        // stores zeros instead.
        Value *Ih = inputCoord(KB, Oh, R, D);
        Value *RowIn = D.Pad == 0 ? nullptr : inRange(KB, Ih, D.H);
        Value *SrcRow =
            B.CreateMul(B.CreateAdd(B.CreateMul(C, KB.i64(D.H)),
                                    D.Pad == 0 ? Ih : clampIndex(KB, Ih, D.H)),
                        KB.i64(D.W));
        Value *Crs0 = B.CreateMul(B.CreateAdd(B.CreateMul(C, KB.i64(D.R)), R),
                                  KB.i64(D.S));
        // One output column: its S offsets, copied by construction (their
        // sources and, in the transposed layout, their destinations are
        // contiguous, which SLP turns into vector moves). `Edge`: some s
        // may read the padding.
        auto Column = [&](Value *Ow, bool Edge) {
          Value *Dst0 =
              B.CreateAdd(B.CreateMul(Crs0, KB.i64(RowStride)),
                          B.CreateMul(B.CreateAdd(P0, Ow), KB.i64(ColStride)));
          Value *Iw0 =
              B.CreateSub(B.CreateMul(Ow, KB.i64(D.Stride)), KB.i64(D.Pad));
          for (int64_t S = 0; S < D.S; ++S) {
            Value *Iw = B.CreateAdd(Iw0, KB.i64(S));
            Value *In = RowIn;
            if (Edge) {
              Value *ColIn = inRange(KB, Iw, D.W);
              In = In ? B.CreateAnd(In, ColIn) : ColIn;
              Iw = clampIndex(KB, Iw, D.W);
            }
            Value *V = KB.load(DType::F32, Img, B.CreateAdd(SrcRow, Iw));
            if (In)
              V = B.CreateSelect(In, V, KB.f32(0));
            KB.store(V, Col, B.CreateAdd(Dst0, KB.i64(S * RowStride)));
          }
        };
        // Scalar loops: vectorized along ow, the transposed layout's
        // stores would become scatters (2x slower than scalar stores).
        constexpr LoopHints Scalar = {.Vectorize = false};
        forLoopWithHints(KB, KB.i64(0), KB.i64(OwIn), Scalar,
                         [&](Value *Ow) { Column(Ow, true); });
        forLoopWithHints(KB, KB.i64(OwIn), KB.i64(OwOut), Scalar,
                         [&](Value *Ow) { Column(Ow, false); });
        forLoopWithHints(KB, KB.i64(OwOut), KB.i64(D.OW), Scalar,
                         [&](Value *Ow) { Column(Ow, true); });
      });
    });
  });
}

void emitCol2ImBody(KernelBuilder &KB, const ConvDims &D, Value *Col,
                    Value *Img) {
  IRBuilder<> &B = KB.builder();
  KB.forRange(D.C * D.H * D.W, [&](Value *I) { KB.store(KB.f32(0), Img, I); });
  KB.forEach({D.C, D.R, D.S}, [&](ArrayRef<Value *> I) {
    Value *C = I[0], *R = I[1], *S = I[2];
    Value *Crs = B.CreateAdd(
        B.CreateMul(B.CreateAdd(B.CreateMul(C, KB.i64(D.R)), R), KB.i64(D.S)),
        S);
    Value *RowBase = B.CreateMul(Crs, KB.i64(D.pixels()));
    Value *Plane = B.CreateMul(C, KB.i64(D.H));
    auto [OhLo, OhHi] = validRange(KB, R, D.H, D.OH, D.Stride, D.Pad);
    auto [OwLo, OwHi] = validRange(KB, S, D.W, D.OW, D.Stride, D.Pad);
    KB.forLoop(OhLo, OhHi, [&](Value *Oh) {
      Value *Ih = inputCoord(KB, Oh, R, D);
      Value *DstRow = B.CreateMul(B.CreateAdd(Plane, Ih), KB.i64(D.W));
      Value *SrcRow = B.CreateAdd(RowBase, B.CreateMul(Oh, KB.i64(D.OW)));
      auto Add = [&](Value *Ow) {
        Value *DstIdx = B.CreateAdd(DstRow, inputCoord(KB, Ow, S, D));
        Value *Sum =
            B.CreateFAdd(KB.load(DType::F32, Img, DstIdx),
                         KB.load(DType::F32, Col, B.CreateAdd(SrcRow, Ow)));
        KB.store(Sum, Img, DstIdx);
      };
      // With stride 1 the row is a contiguous read-modify-write the
      // vectorizer takes; with a larger stride it stays scalar, four
      // columns per iteration.
      if (D.Stride == 1)
        KB.forLoop(OwLo, OwHi, Add);
      else
        forLoopUnrolled(KB, OwLo, OwHi, 4, Add);
    });
  });
}

} // namespace

void codegen::emitIm2Col(KernelBuilder &KB, const ConvDims &D, Value *Img,
                         Value *Col, int64_t RowStride, int64_t ColStride) {
  callSharedCopy(KB,
                 "nnc.im2col." + D.imageKey() + ".rs" + Twine(RowStride) +
                     "cs" + Twine(ColStride),
                 Col, Img, [&](KernelBuilder &CKB, Value *Dst, Value *Src) {
                   emitIm2ColBody(CKB, D, Src, Dst, RowStride, ColStride);
                 });
}

void codegen::emitCol2Im(KernelBuilder &KB, const ConvDims &D, Value *Col,
                         Value *Img) {
  callSharedCopy(KB, "nnc.col2im." + D.imageKey(), Img, Col,
                 [&](KernelBuilder &CKB, Value *Dst, Value *Src) {
                   emitCol2ImBody(CKB, D, Src, Dst);
                 });
}
