//===- Conv.cpp - Convolution and pooling kernels (NCHW) ------------------===//
//
// conv2d(x : [N,C,H,W], w : [K,C,R,S]) -> y : [N,K,OH,OW] is a direct
// convolution:
//
//   for n, k, c, r, s:                       w[k,c,r,s] is loop-invariant
//     for oh in valid(r): for ow in valid(s):
//       y[n,k,oh,ow] += w[k,c,r,s] * x[n, c, oh*st + r - p, ow*st + s - p]
//
// `valid(r)` is the range of output rows whose input row falls inside the
// image, so padding costs no per-element test. With padding 0 the ranges are
// the whole output and the inner loops keep constant trip counts. The
// gradient kernels reuse the same walk: conv2d_grad_input scatters
// dy * w into dx, conv2d_grad_weight accumulates dy * x per weight.
//
// Pools use windows of `size` with `stride` and no padding; maxpool2d_grad
// sends each output gradient to the first maximum of its window (row-major
// order), as the forward kernel picks it.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

/// Geometry shared by conv2d and its gradients.
struct ConvDims {
  int64_t N, C, H, W; // input
  int64_t K, R, S;    // weight
  int64_t OH, OW;     // output
  int64_t Stride, Pad;
};

/// Flat index of [a, b, c, d] in a tensor of dims [*, B, C, D].
Value *index4(KernelBuilder &KB, Value *A, Value *Bv, Value *C, Value *D,
              int64_t DimB, int64_t DimC, int64_t DimD) {
  IRBuilder<> &B = KB.builder();
  Value *I = B.CreateAdd(B.CreateMul(A, KB.i64(DimB)), Bv);
  I = B.CreateAdd(B.CreateMul(I, KB.i64(DimC)), C);
  return B.CreateAdd(B.CreateMul(I, KB.i64(DimD)), D);
}

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
  Value *HiNum = B.CreateSub(KB.i64(In - 1 + Pad), R);
  Value *Hi = B.CreateSelect(B.CreateICmpSGE(HiNum, Zero),
                             B.CreateAdd(B.CreateSDiv(HiNum, St), KB.i64(1)),
                             Zero);
  Hi = B.CreateSelect(B.CreateICmpSLT(Hi, KB.i64(Out)), Hi, KB.i64(Out));
  return {Lo, Hi};
}

/// Input coordinate of output position `O` and kernel offset `R`.
Value *inputCoord(KernelBuilder &KB, Value *O, Value *R, const ConvDims &D) {
  IRBuilder<> &B = KB.builder();
  return B.CreateSub(B.CreateAdd(B.CreateMul(O, KB.i64(D.Stride)), R),
                     KB.i64(D.Pad));
}

ConvDims convDims(ArrayRef<int64_t> X, ArrayRef<int64_t> Wt,
                  ArrayRef<int64_t> Y, const Attrs &A) {
  return {X[0], X[1], X[2], X[3], Wt[0], Wt[2], Wt[3], Y[2], Y[3],
          A.Stride, A.Padding};
}

/// Visits every (n, k, c, r, s, oh, ow) with an in-bounds input pixel.
/// `Outer(n, k, c, r, s)` runs once per weight element before the pixel
/// loops (returning a value they share); `Inner(shared, n, k, c, oh, ow, ih,
/// iw)` runs per pixel. The order puts n outermost and ow innermost.
void forEachTap(
    KernelBuilder &KB, const ConvDims &D, bool WeightOuter,
    function_ref<void(ArrayRef<Value *>)> PerWeight,
    function_ref<void(ArrayRef<Value *>, Value *, Value *, Value *, Value *)>
        PerPixel) {
  auto Pixels = [&](Value *N, Value *K, Value *C, Value *R, Value *S) {
    auto [OhLo, OhHi] = validRange(KB, R, D.H, D.OH, D.Stride, D.Pad);
    auto [OwLo, OwHi] = validRange(KB, S, D.W, D.OW, D.Stride, D.Pad);
    KB.forLoop(OhLo, OhHi, [&](Value *Oh) {
      Value *Ih = inputCoord(KB, Oh, R, D);
      KB.forLoop(OwLo, OwHi, [&](Value *Ow) {
        Value *Iw = inputCoord(KB, Ow, S, D);
        PerPixel({N, K, C, R, S}, Oh, Ow, Ih, Iw);
      });
    });
  };
  if (WeightOuter) {
    // k, c, r, s outermost: one accumulator per weight (grad_weight).
    KB.forEach({D.K, D.C, D.R, D.S}, [&](ArrayRef<Value *> W) {
      PerWeight({nullptr, W[0], W[1], W[2], W[3]});
      KB.forRange(D.N, [&](Value *N) { Pixels(N, W[0], W[1], W[2], W[3]); });
      PerWeight({});
    });
    return;
  }
  KB.forEach({D.N, D.K, D.C, D.R, D.S}, [&](ArrayRef<Value *> I) {
    PerWeight({I[0], I[1], I[2], I[3], I[4]});
    Pixels(I[0], I[1], I[2], I[3], I[4]);
  });
}

} // namespace

void codegen::emitConv2d(KernelBuilder &KB) {
  const Node &Nd = KB.node();
  IRBuilder<> &B = KB.builder();
  ConvDims D = convDims(Nd.operand(0)->dims(), Nd.operand(1)->dims(),
                        Nd.dims(), Nd.A);
  KB.fillOut(KB.f32(0), Nd.Type.numElements());
  Value *Wv = nullptr;
  forEachTap(
      KB, D, /*WeightOuter=*/false,
      [&](ArrayRef<Value *> I) {
        Wv = KB.loadOperand(1, index4(KB, I[1], I[2], I[3], I[4], D.C, D.R, D.S));
      },
      [&](ArrayRef<Value *> I, Value *Oh, Value *Ow, Value *Ih, Value *Iw) {
        Value *YIdx = index4(KB, I[0], I[1], Oh, Ow, D.K, D.OH, D.OW);
        Value *X = KB.loadOperand(0, index4(KB, I[0], I[2], Ih, Iw, D.C, D.H, D.W));
        KB.store(B.CreateFAdd(KB.load(DType::F32, KB.out(), YIdx),
                              B.CreateFMul(Wv, X)),
                 KB.out(), YIdx);
      });
}

void codegen::emitConv2dGradInput(KernelBuilder &KB) {
  // (dy : [N,K,OH,OW], w : [K,C,R,S]) -> dx : [N,C,H,W]
  const Node &Nd = KB.node();
  IRBuilder<> &B = KB.builder();
  ConvDims D = convDims(Nd.dims(), Nd.operand(1)->dims(),
                        Nd.operand(0)->dims(), Nd.A);
  KB.fillOut(KB.f32(0), Nd.Type.numElements());
  Value *Wv = nullptr;
  forEachTap(
      KB, D, /*WeightOuter=*/false,
      [&](ArrayRef<Value *> I) {
        Wv = KB.loadOperand(1, index4(KB, I[1], I[2], I[3], I[4], D.C, D.R, D.S));
      },
      [&](ArrayRef<Value *> I, Value *Oh, Value *Ow, Value *Ih, Value *Iw) {
        Value *Dy = KB.loadOperand(0, index4(KB, I[0], I[1], Oh, Ow, D.K, D.OH, D.OW));
        Value *XIdx = index4(KB, I[0], I[2], Ih, Iw, D.C, D.H, D.W);
        KB.store(B.CreateFAdd(KB.load(DType::F32, KB.out(), XIdx),
                              B.CreateFMul(Wv, Dy)),
                 KB.out(), XIdx);
      });
}

void codegen::emitConv2dGradWeight(KernelBuilder &KB) {
  // (x : [N,C,H,W], dy : [N,K,OH,OW]) -> dw : [K,C,R,S]
  //
  // Per weight, partial sums are kept per output column ow in a row of OW
  // floats: the pixel loop then is an elementwise multiply-add over ow
  // (vectorizable, no reordering) instead of a scalar chain of dependent
  // adds; the row is summed once per weight.
  const Node &Nd = KB.node();
  IRBuilder<> &B = KB.builder();
  ConvDims D = convDims(Nd.operand(0)->dims(), Nd.dims(),
                        Nd.operand(1)->dims(), Nd.A);
  AllocaInst *Row =
      KB.scratch(ArrayType::get(B.getFloatTy(), std::max<int64_t>(D.OW, 1)),
                 "row");
  AllocaInst *Acc = KB.scratch(B.getFloatTy(), "acc");
  Value *WIdx = nullptr;
  forEachTap(
      KB, D, /*WeightOuter=*/true,
      [&](ArrayRef<Value *> I) {
        if (!I.empty()) { // before the pixels of one weight
          WIdx = index4(KB, I[1], I[2], I[3], I[4], D.C, D.R, D.S);
          KB.forRange(D.OW, [&](Value *Ow) { KB.store(KB.f32(0), Row, Ow); });
          return;
        }
        B.CreateStore(KB.f32(0), Acc);
        KB.forRange(D.OW, [&](Value *Ow) {
          B.CreateStore(KB.add(DType::F32, B.CreateLoad(B.getFloatTy(), Acc),
                               KB.load(DType::F32, Row, Ow), /*Reassoc=*/true),
                        Acc);
        });
        KB.store(B.CreateLoad(B.getFloatTy(), Acc), KB.out(), WIdx);
      },
      [&](ArrayRef<Value *> I, Value *Oh, Value *Ow, Value *Ih, Value *Iw) {
        Value *Dy = KB.loadOperand(1, index4(KB, I[0], I[1], Oh, Ow, D.K, D.OH, D.OW));
        Value *X = KB.loadOperand(0, index4(KB, I[0], I[2], Ih, Iw, D.C, D.H, D.W));
        KB.store(B.CreateFAdd(KB.load(DType::F32, Row, Ow), B.CreateFMul(Dy, X)),
                 Row, Ow);
      });
}

namespace {

/// Pool geometry: input [NC, H, W] (N and C fused), output [NC, OH, OW].
struct PoolDims {
  int64_t NC, H, W, OH, OW, Size, Stride;
};

PoolDims poolDims(ArrayRef<int64_t> X, ArrayRef<int64_t> Y, const Attrs &A) {
  return {X[0] * X[1], X[2], X[3], Y[2], Y[3], A.Size, A.Stride};
}

/// For each output (nc, oh, ow): `Visit(outIdx, firstInIdx-of-window...)`.
/// `InIdx(a, b)` gives the input index of window element (a, b).
void forEachWindow(
    KernelBuilder &KB, const PoolDims &P,
    function_ref<void(Value *OutIdx, function_ref<Value *(Value *, Value *)>)>
        Visit) {
  IRBuilder<> &B = KB.builder();
  KB.forEach({P.NC, P.OH, P.OW}, [&](ArrayRef<Value *> I) {
    Value *OutIdx = B.CreateAdd(
        B.CreateMul(B.CreateAdd(B.CreateMul(I[0], KB.i64(P.OH)), I[1]),
                    KB.i64(P.OW)),
        I[2]);
    Value *Ih0 = B.CreateMul(I[1], KB.i64(P.Stride));
    Value *Iw0 = B.CreateMul(I[2], KB.i64(P.Stride));
    Value *Plane = B.CreateMul(I[0], KB.i64(P.H * P.W));
    auto InIdx = [&](Value *A, Value *Bv) -> Value * {
      Value *Row = B.CreateAdd(Ih0, A);
      return B.CreateAdd(Plane, B.CreateAdd(B.CreateMul(Row, KB.i64(P.W)),
                                            B.CreateAdd(Iw0, Bv)));
    };
    Visit(OutIdx, InIdx);
  });
}

/// The input index of the first maximum of a window (x is operand 0).
Value *windowArgMax(KernelBuilder &KB, const PoolDims &P,
                    function_ref<Value *(Value *, Value *)> InIdx,
                    AllocaInst *Best, AllocaInst *BestIdx) {
  IRBuilder<> &B = KB.builder();
  Value *First = InIdx(KB.i64(0), KB.i64(0));
  B.CreateStore(KB.loadOperand(0, First), Best);
  B.CreateStore(First, BestIdx);
  KB.forEach({P.Size, P.Size}, [&](ArrayRef<Value *> AB) {
    Value *Idx = InIdx(AB[0], AB[1]);
    Value *X = KB.loadOperand(0, Idx);
    Value *Cur = B.CreateLoad(B.getFloatTy(), Best);
    Value *Better = B.CreateFCmpOGT(X, Cur);
    B.CreateStore(B.CreateSelect(Better, X, Cur), Best);
    B.CreateStore(
        B.CreateSelect(Better, Idx, B.CreateLoad(B.getInt64Ty(), BestIdx)),
        BestIdx);
  });
  return B.CreateLoad(B.getInt64Ty(), BestIdx);
}

} // namespace

void codegen::emitPool(KernelBuilder &KB, bool IsMax) {
  const Node &Nd = KB.node();
  IRBuilder<> &B = KB.builder();
  PoolDims P = poolDims(Nd.operand(0)->dims(), Nd.dims(), Nd.A);
  AllocaInst *Acc = KB.scratch(B.getFloatTy(), "acc");
  AllocaInst *AccIdx = KB.scratch(B.getInt64Ty(), "acc.idx");
  forEachWindow(KB, P, [&](Value *OutIdx, auto InIdx) {
    if (IsMax) {
      windowArgMax(KB, P, InIdx, Acc, AccIdx);
      KB.store(B.CreateLoad(B.getFloatTy(), Acc), KB.out(), OutIdx);
      return;
    }
    B.CreateStore(KB.f32(0), Acc);
    KB.forEach({P.Size, P.Size}, [&](ArrayRef<Value *> AB) {
      Value *X = KB.loadOperand(0, InIdx(AB[0], AB[1]));
      B.CreateStore(B.CreateFAdd(B.CreateLoad(B.getFloatTy(), Acc), X), Acc);
    });
    Value *Mean = B.CreateFMul(B.CreateLoad(B.getFloatTy(), Acc),
                               KB.f32(1.0 / double(P.Size * P.Size)));
    KB.store(Mean, KB.out(), OutIdx);
  });
}

void codegen::emitMaxPoolGrad(KernelBuilder &KB) {
  // (x, dy) -> dx: each dy goes to the first maximum of its window.
  const Node &Nd = KB.node();
  IRBuilder<> &B = KB.builder();
  PoolDims P = poolDims(Nd.operand(0)->dims(), Nd.operand(1)->dims(), Nd.A);
  KB.fillOut(KB.f32(0), Nd.Type.numElements());
  AllocaInst *Best = KB.scratch(B.getFloatTy(), "best");
  AllocaInst *BestIdx = KB.scratch(B.getInt64Ty(), "best.idx");
  forEachWindow(KB, P, [&](Value *OutIdx, auto InIdx) {
    Value *Idx = windowArgMax(KB, P, InIdx, Best, BestIdx);
    Value *Dy = KB.loadOperand(1, OutIdx);
    KB.store(B.CreateFAdd(KB.load(DType::F32, KB.out(), Idx), Dy), KB.out(),
             Idx);
  });
}

void codegen::emitAvgPoolGrad(KernelBuilder &KB) {
  // dy -> dx: each dy spreads evenly over its window.
  const Node &Nd = KB.node();
  IRBuilder<> &B = KB.builder();
  PoolDims P = poolDims(Nd.dims(), Nd.operand(0)->dims(), Nd.A);
  KB.fillOut(KB.f32(0), Nd.Type.numElements());
  Value *Scale = KB.f32(1.0 / double(P.Size * P.Size));
  forEachWindow(KB, P, [&](Value *OutIdx, auto InIdx) {
    Value *G = B.CreateFMul(KB.loadOperand(0, OutIdx), Scale);
    KB.forEach({P.Size, P.Size}, [&](ArrayRef<Value *> AB) {
      Value *Idx = InIdx(AB[0], AB[1]);
      KB.store(B.CreateFAdd(KB.load(DType::F32, KB.out(), Idx), G), KB.out(),
               Idx);
    });
  });
}
