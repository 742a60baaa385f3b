//===- ImplicitConv.cpp - Convolutions that read the image in place -------===//
//
// The layout and the three copies around an implicit convolution's
// products (ImplicitConv.h). Every loop bound is a compile-time constant:
// the padding runs of a phase row depend only on the phase, which the
// emitter unrolls.
//
//===----------------------------------------------------------------------===//
#include "ImplicitConv.h"
#include "Strides.h"

#include <algorithm>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

int64_t floorDiv(int64_t A, int64_t B) {
  return A >= 0 ? A / B : -((-A + B - 1) / B);
}

int64_t ceilDiv(int64_t A, int64_t B) { return -floorDiv(-A, B); }

/// The positions i in [0, Count) of a phase whose image coordinate
/// i*st + Phase - Pad lies in [0, Size).
std::pair<int64_t, int64_t> insideRange(int64_t Phase, int64_t Size,
                                        int64_t Count, int64_t Stride,
                                        int64_t Pad) {
  int64_t Lo = std::clamp<int64_t>(ceilDiv(Pad - Phase, Stride), 0, Count);
  int64_t Hi = std::clamp<int64_t>(floorDiv(Size - 1 + Pad - Phase, Stride) + 1,
                                   Lo, Count);
  return {Lo, Hi};
}

/// Dst[I] = 0 for I in [Base + Lo, Base + Hi).
void zeroRun(KernelBuilder &KB, Value *Dst, Value *Base, int64_t Lo,
             int64_t Hi) {
  if (Lo >= Hi)
    return;
  IRBuilder<> &B = KB.builder();
  KB.forLoop(KB.i64(Lo), KB.i64(Hi),
             [&](Value *J) { KB.store(KB.f32(0), Dst, B.CreateAdd(Base, J)); });
}

} // namespace

PhaseLayout::PhaseLayout(const ConvDims &D) {
  int64_t St = D.Stride;
  PA = std::min(D.R, St);
  PB = std::min(D.S, St);
  Hq = D.OH + (D.R - 1) / St;
  Wq = D.OW + (D.S - 1) / St;
  Floats = D.C * PA * PB * Hq * Wq;
  InPlace = St == 1 && D.Pad == 0;
}

RowTable PhaseLayout::rows(const ConvDims &D) const {
  int64_t St = D.Stride;
  RowTable Rows;
  Rows.reserve(D.crs());
  for (int64_t C = 0; C < D.C; ++C)
    for (int64_t R = 0; R < D.R; ++R)
      for (int64_t S = 0; S < D.S; ++S)
        Rows.push_back(((C * PA + R % St) * PB + S % St) * Hq * Wq +
                       (R / St) * Wq + S / St);
  return Rows;
}

namespace {

void emitPhaseSplitBody(KernelBuilder &KB, const ConvDims &D,
                        const PhaseLayout &L, Value *Img, Value *Dst) {
  IRBuilder<> &B = KB.builder();
  int64_t St = D.Stride;
  KB.forRange(D.C, [&](Value *C) {
    for (int64_t A = 0; A < L.PA; ++A)
      for (int64_t Bp = 0; Bp < L.PB; ++Bp) {
        int64_t PlaneFloats = L.Hq * L.Wq;
        Value *Plane = linearIndex(KB, {C}, {L.PA * L.PB * PlaneFloats},
                                   (A * L.PB + Bp) * PlaneFloats);
        auto [ILo, IHi] = insideRange(A, D.H, L.Hq, St, D.Pad);
        auto [JLo, JHi] = insideRange(Bp, D.W, L.Wq, St, D.Pad);
        // Rows in the top and bottom padding, then the rows that read
        // the image: zero / copy / zero runs.
        zeroRun(KB, Dst, Plane, 0, ILo * L.Wq);
        zeroRun(KB, Dst, Plane, IHi * L.Wq, L.Hq * L.Wq);
        KB.forLoop(KB.i64(ILo), KB.i64(IHi), [&](Value *I) {
          Value *Row =
              linearIndex(KB, {C, I}, {L.PA * L.PB * PlaneFloats, L.Wq},
                          (A * L.PB + Bp) * PlaneFloats);
          zeroRun(KB, Dst, Row, 0, JLo);
          zeroRun(KB, Dst, Row, JHi, L.Wq);
          // Image row i*st + a - pad, column j*st + b - pad.
          Value *Src = linearIndex(KB, {C, I}, {D.H * D.W, St * D.W},
                                   (A - D.Pad) * D.W + Bp - D.Pad);
          auto Copy = [&](Value *J) {
            Value *V = KB.load(DType::F32, Img,
                               B.CreateAdd(Src, B.CreateMul(J, KB.i64(St))));
            KB.store(V, Dst, B.CreateAdd(Row, J));
          };
          // Strided reads stay scalar, four per iteration (1.6x the rolled
          // loop at stride 2).
          if (St == 1)
            KB.forLoop(KB.i64(JLo), KB.i64(JHi), Copy);
          else
            forLoopUnrolled(KB, KB.i64(JLo), KB.i64(JHi), 4, Copy);
        });
      }
  });
}

/// To[row * ToRow + j] = From[row * FromRow + j] for j < Width over `Rows`
/// rows; then `Tail(ToRowStart)` per row, if given.
void copyRows(KernelBuilder &KB, int64_t Rows, int64_t Width, Value *From,
              int64_t FromRow, Value *To, int64_t ToRow,
              function_ref<void(Value *)> Tail = nullptr) {
  IRBuilder<> &B = KB.builder();
  KB.forRange(Rows, [&](Value *Row) {
    Value *Src = B.CreateMul(Row, KB.i64(FromRow));
    Value *Dst = B.CreateMul(Row, KB.i64(ToRow));
    KB.forRange(Width, [&](Value *J) {
      Value *V = KB.load(DType::F32, From, B.CreateAdd(Src, J));
      KB.store(V, To, B.CreateAdd(Dst, J));
    });
    if (Tail)
      Tail(Dst);
  });
}

} // namespace

void codegen::emitPhaseSplit(KernelBuilder &KB, const ConvDims &D,
                             const PhaseLayout &L, Value *Img, Value *Dst) {
  callSharedCopy(KB, "nnc.phase_split." + D.imageKey(), Dst, Img,
                 [&](KernelBuilder &CKB, Value *To, Value *From) {
                   emitPhaseSplitBody(CKB, D, L, From, To);
                 });
}

void codegen::emitCompact(KernelBuilder &KB, const ConvDims &D,
                          const PhaseLayout &L, int64_t Channels, Value *Virt,
                          Value *Out) {
  callSharedCopy(KB, "nnc.compact.k" + Twine(Channels) + "." + D.imageKey(),
                 Out, Virt, [&](KernelBuilder &CKB, Value *To, Value *From) {
                   copyRows(CKB, Channels * D.OH, D.OW, From, L.Wq, To, D.OW);
                 });
}

void codegen::emitExpand(KernelBuilder &KB, const ConvDims &D,
                         const PhaseLayout &L, int64_t Channels, Value *Dy,
                         Value *Virt) {
  callSharedCopy(KB, "nnc.expand.k" + Twine(Channels) + "." + D.imageKey(),
                 Virt, Dy, [&](KernelBuilder &CKB, Value *To, Value *From) {
                   copyRows(
                       CKB, Channels * D.OH, D.OW, From, D.OW, To, L.Wq,
                       [&](Value *Row) { zeroRun(CKB, To, Row, D.OW, L.Wq); });
                 });
}
