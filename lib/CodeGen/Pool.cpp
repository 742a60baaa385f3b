//===- Pool.cpp - Pooling kernels and their gradients (NCHW) --------------===//
//
// Pools use windows of `size` with `stride` and no padding. 2x2 windows
// with stride 2 are explicit <16 x float> code (even/odd shuffles of whole
// input rows). Other pools loop over the outputs of one row, innermost,
// with the window unrolled inside (up to 4x4): vectorized for stride 1,
// kept scalar for larger strides (where LLVM would use gathers). When
// windows do not overlap (stride >= size) the gradients are plain stores,
// not scatter-adds, and when they also tile the input exactly every input
// gradient is stored once, so the result is not cleared first.
// maxpool2d_grad sends each output gradient to the first maximum of its
// window (row-major order), as the forward kernel picks it.
//
// Planes (n, c) are independent: a pool over 2^16 input elements or more
// runs its planes in pieces on the runtime's threads (`emitOverPlanes`).
//
//===----------------------------------------------------------------------===//
#include "Im2Col.h"

#include <algorithm>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

/// Pool geometry: input [NC, H, W] (N and C fused), output [NC, OH, OW],
/// and the planes [PlaneLo, PlaneHi) the code being emitted covers.
struct PoolDims {
  int64_t NC, H, W, OH, OW, Size, Stride;
  Value *PlaneLo = nullptr, *PlaneHi = nullptr;

  /// True when no input pixel lies in two windows.
  bool disjoint() const { return Stride >= Size; }
  /// True when every input pixel lies in exactly one window.
  bool tiles() const {
    return Stride == Size && H == OH * Size && W == OW * Size;
  }
};

PoolDims poolDims(ArrayRef<int64_t> X, ArrayRef<int64_t> Y, const Attrs &A) {
  return {X[0] * X[1], X[2], X[3], Y[2], Y[3], A.Size, A.Stride};
}

/// Runs `Body(KB', P')` over all planes: directly in KB's function, or, for
/// a large pool, in `<kernel>.planes(out, in..., lo, hi)` on pieces of the
/// planes on the runtime's threads (emitOverRange).
void emitOverPlanes(
    KernelBuilder &KB, PoolDims P,
    function_ref<void(KernelBuilder &, const PoolDims &)> Body) {
  emitOverRange(KB, "planes", P.NC, P.NC * P.H * P.W,
                [&](KernelBuilder &K, Value *Lo, Value *Hi) {
                  P.PlaneLo = Lo;
                  P.PlaneHi = Hi;
                  Body(K, P);
                });
}

/// Clears the input gradient of planes [P.PlaneLo, P.PlaneHi).
void clearPlanes(KernelBuilder &KB, const PoolDims &P) {
  IRBuilder<> &B = KB.builder();
  Value *Plane = KB.i64(P.H * P.W);
  KB.forLoop(B.CreateMul(P.PlaneLo, Plane), B.CreateMul(P.PlaneHi, Plane),
             [&](Value *I) { KB.store(KB.f32(0), KB.out(), I); });
}

/// Windows of at most this many elements are unrolled in the IR.
constexpr int64_t UnrollWindow = 16;

/// Indices into one output row (nc, oh) and the input rows its windows
/// read: `out(ow)` and `in(a, b, ow)` for window element (a, b) of output
/// column ow.
struct PoolRow {
  KernelBuilder &KB;
  const PoolDims &P;
  Value *OutRow, *Plane, *Ih0;

  Value *out(Value *Ow) const { return KB.builder().CreateAdd(OutRow, Ow); }
  Value *in(Value *A, Value *Bv, Value *Ow) const {
    IRBuilder<> &B = KB.builder();
    Value *Row = B.CreateMul(B.CreateAdd(Ih0, A), KB.i64(P.W));
    Value *Col = B.CreateAdd(B.CreateMul(Ow, KB.i64(P.Stride)), Bv);
    return B.CreateAdd(Plane, B.CreateAdd(Row, Col));
  }
};

/// Runs `Body(row)` for every output row (nc, oh) of P's planes.
void forEachPoolRow(KernelBuilder &KB, const PoolDims &P,
                    function_ref<void(const PoolRow &)> Body) {
  IRBuilder<> &B = KB.builder();
  KB.forLoop(P.PlaneLo, P.PlaneHi, [&](Value *Nc) {
    KB.forRange(P.OH, [&](Value *Oh) {
      Value *OutRow = B.CreateMul(
          B.CreateAdd(B.CreateMul(Nc, KB.i64(P.OH)), Oh), KB.i64(P.OW));
      Body({KB, P, OutRow, B.CreateMul(Nc, KB.i64(P.H * P.W)),
            B.CreateMul(Oh, KB.i64(P.Stride))});
    });
  });
}

/// Runs `Body(ow)` over the outputs of a row. With stride > 1 the input
/// reads are strided, which the vectorizer turns into gathers (and the
/// gradient's stores into scatters) that cost more than scalar code, so
/// such loops stay scalar (and LLVM unrolls them); the unrolled window
/// gives them parallelism.
void forEachOutCol(KernelBuilder &KB, const PoolDims &P,
                   function_ref<void(Value *)> Body) {
  bool Scalar = P.Stride > 1;
  forLoopWithHints(KB, KB.i64(0), KB.i64(P.OW),
                   {.Vectorize = !Scalar, .Unroll = Scalar}, Body);
}

/// Visits the window elements (a, b) in row-major order. Small windows are
/// unrolled: independent loads and compares per output.
void forEachWindowElem(KernelBuilder &KB, const PoolDims &P,
                       function_ref<void(Value *, Value *)> Body) {
  if (P.Size * P.Size > UnrollWindow)
    return KB.forEach({P.Size, P.Size},
                      [&](ArrayRef<Value *> AB) { Body(AB[0], AB[1]); });
  for (int64_t A = 0; A < P.Size; ++A)
    for (int64_t Bv = 0; Bv < P.Size; ++Bv)
      Body(KB.i64(A), KB.i64(Bv));
}

/// Per output column of `Row`: the first maximum of its window into `Best`
/// and its input index into `BestIdx` (scalar accumulators).
void windowArgMax(KernelBuilder &KB, const PoolDims &P, const PoolRow &Row,
                  Value *Ow, AllocaInst *Best, AllocaInst *BestIdx) {
  IRBuilder<> &B = KB.builder();
  Value *First = Row.in(KB.i64(0), KB.i64(0), Ow);
  B.CreateStore(KB.loadOperand(0, First), Best);
  B.CreateStore(First, BestIdx);
  // A later element wins only when strictly greater (NaN never does).
  forEachWindowElem(KB, P, [&](Value *A, Value *Bv) {
    Value *Idx = Row.in(A, Bv, Ow);
    Value *X = KB.loadOperand(0, Idx);
    Value *Cur = B.CreateLoad(B.getFloatTy(), Best);
    Value *Better = B.CreateFCmpOGT(X, Cur);
    B.CreateStore(B.CreateSelect(Better, X, Cur), Best);
    B.CreateStore(
        B.CreateSelect(Better, Idx, B.CreateLoad(B.getInt64Ty(), BestIdx)),
        BestIdx);
  });
}

/// Outputs per vector of the 2x2/2 pools.
constexpr int64_t PV = 16;

/// True for the 2x2 windows with stride 2 of most CNNs, which are read by
/// explicit vectors: one load of 2*PV input floats and two shuffles give a
/// window row's even and odd columns for PV outputs. (The loop vectorizer
/// would read the same data with gathers.)
bool isVectorPool(KernelBuilder &KB, const PoolDims &P,
                  ArrayRef<unsigned> Operands) {
  if (P.Size != 2 || P.Stride != 2 || P.OW == 0 || KB.OperandLoader)
    return false;
  return llvm::all_of(Operands, [&](unsigned I) { return KB.in(I); });
}

/// Runs `Body(row, ow0, count)` over blocks of PV outputs of every row: a
/// loop over the full blocks, then one tail block of `count` < PV outputs.
void forEachPoolBlock(
    KernelBuilder &KB, const PoolDims &P,
    function_ref<void(const PoolRow &, Value *, int64_t)> Body) {
  IRBuilder<> &B = KB.builder();
  forEachPoolRow(KB, P, [&](const PoolRow &Row) {
    KB.forRange(P.OW / PV, [&](Value *Blk) {
      Body(Row, B.CreateMul(Blk, KB.i64(PV)), PV);
    });
    if (P.OW % PV)
      Body(Row, KB.i64(P.OW / PV * PV), P.OW % PV);
  });
}

/// Lane mask of a <Lanes x float> access with the first `Valid` lanes on.
Constant *laneMask(IRBuilder<> &B, int64_t Lanes, int64_t Valid) {
  SmallVector<Constant *, 32> Bits;
  for (int64_t L = 0; L < Lanes; ++L)
    Bits.push_back(B.getInt1(L < Valid));
  return ConstantVector::get(Bits);
}

/// <Lanes x float> at Ptr[Idx], the first `Valid` lanes only.
Value *loadVec(IRBuilder<> &B, Value *Ptr, Value *Idx, int64_t Lanes,
               int64_t Valid) {
  auto *Ty = FixedVectorType::get(B.getFloatTy(), Lanes);
  Value *At = B.CreateInBoundsGEP(B.getFloatTy(), Ptr, Idx);
  if (Valid == Lanes)
    return B.CreateAlignedLoad(Ty, At, Align(4));
  return B.CreateMaskedLoad(Ty, At, Align(4), laneMask(B, Lanes, Valid),
                            Constant::getNullValue(Ty));
}

void storeVec(IRBuilder<> &B, Value *V, Value *Ptr, Value *Idx, int64_t Valid) {
  int64_t Lanes = cast<FixedVectorType>(V->getType())->getNumElements();
  Value *At = B.CreateInBoundsGEP(B.getFloatTy(), Ptr, Idx);
  if (Valid == Lanes)
    B.CreateAlignedStore(V, At, Align(4));
  else
    B.CreateMaskedStore(V, At, Align(4), laneMask(B, Lanes, Valid));
}

/// The four window elements of PV outputs, in row-major window order:
/// {x(0,0), x(0,1), x(1,0), x(1,1)}, each a <PV x float>.
SmallVector<Value *, 4> loadWindows(KernelBuilder &KB, unsigned Operand,
                                    const PoolRow &Row, Value *Ow0,
                                    int64_t Count) {
  IRBuilder<> &B = KB.builder();
  SmallVector<Value *, 4> E;
  for (int64_t A = 0; A < 2; ++A) {
    Value *Pair = loadVec(B, KB.in(Operand), Row.in(KB.i64(A), KB.i64(0), Ow0),
                          2 * PV, 2 * Count);
    for (int64_t Phase = 0; Phase < 2; ++Phase) {
      SmallVector<int, PV> Mask;
      for (int64_t L = 0; L < PV; ++L)
        Mask.push_back(int(2 * L + Phase));
      E.push_back(B.CreateShuffleVector(Pair, Mask));
    }
  }
  return E;
}

/// Stores the even and odd columns of window row `A` for PV outputs.
void storeWindowRow(KernelBuilder &KB, const PoolRow &Row, Value *Ow0,
                    int64_t Count, int64_t A, Value *Even, Value *Odd) {
  IRBuilder<> &B = KB.builder();
  SmallVector<int, 2 * PV> Mask;
  for (int64_t L = 0; L < 2 * PV; ++L)
    Mask.push_back(int(L / 2 + (L % 2) * PV));
  storeVec(B, B.CreateShuffleVector(Even, Odd, Mask), KB.out(),
           Row.in(KB.i64(A), KB.i64(0), Ow0), 2 * Count);
}

/// The first maximum of each window (strict `>`, as the scalar kernels)
/// and, in `Which`, its position 0..3 in window order.
Value *vectorArgMax(IRBuilder<> &B, ArrayRef<Value *> E, Value **Which) {
  Value *Best = E[0];
  Value *Pos = ConstantInt::get(FixedVectorType::get(B.getInt32Ty(), PV), 0);
  for (unsigned I = 1; I < E.size(); ++I) {
    Value *Gt = B.CreateFCmpOGT(E[I], Best);
    Best = B.CreateSelect(Gt, E[I], Best);
    Pos = B.CreateSelect(Gt, B.CreateVectorSplat(PV, B.getInt32(I)), Pos);
  }
  if (Which)
    *Which = Pos;
  return Best;
}

/// emitPool for isVectorPool shapes.
void emitVectorPool(KernelBuilder &KB, const PoolDims &P, bool IsMax) {
  IRBuilder<> &B = KB.builder();
  forEachPoolBlock(KB, P, [&](const PoolRow &Row, Value *Ow0, int64_t Count) {
    SmallVector<Value *, 4> E = loadWindows(KB, 0, Row, Ow0, Count);
    Value *R;
    if (IsMax) {
      R = vectorArgMax(B, E, nullptr);
    } else {
      // The scalar kernel's order: ((0 + x00) + x01) + x10) + x11.
      R = Constant::getNullValue(E[0]->getType());
      for (Value *V : E)
        R = B.CreateFAdd(R, V);
      R = B.CreateFMul(R, B.CreateVectorSplat(PV, KB.f32(0.25)));
    }
    storeVec(B, R, KB.out(), Row.out(Ow0), Count);
  });
}

} // namespace

void codegen::emitPool(KernelBuilder &KB, bool IsMax) {
  const Node &Nd = KB.node();
  PoolDims Dims = poolDims(Nd.operand(0)->dims(), Nd.dims(), Nd.A);
  if (Dims.Size == 0) // no window: nothing to pool (shape rules forbid it)
    return KB.fillOut(KB.f32(0), Nd.Type.numElements());
  emitOverPlanes(KB, Dims, [&](KernelBuilder &K, const PoolDims &P) {
    if (isVectorPool(K, P, {0}))
      return emitVectorPool(K, P, IsMax);
    IRBuilder<> &B = K.builder();
    AllocaInst *Acc = K.scratch(B.getFloatTy(), "acc");
    AllocaInst *AccIdx = K.scratch(B.getInt64Ty(), "acc.idx");
    forEachPoolRow(K, P, [&](const PoolRow &Row) {
      forEachOutCol(K, P, [&](Value *Ow) {
        if (IsMax) {
          windowArgMax(K, P, Row, Ow, Acc, AccIdx);
          K.store(B.CreateLoad(B.getFloatTy(), Acc), K.out(), Row.out(Ow));
          return;
        }
        B.CreateStore(K.f32(0), Acc);
        forEachWindowElem(K, P, [&](Value *A, Value *Bv) {
          Value *X = K.loadOperand(0, Row.in(A, Bv, Ow));
          B.CreateStore(B.CreateFAdd(B.CreateLoad(B.getFloatTy(), Acc), X),
                        Acc);
        });
        Value *Mean = B.CreateFMul(B.CreateLoad(B.getFloatTy(), Acc),
                                   K.f32(1.0 / double(P.Size * P.Size)));
        K.store(Mean, K.out(), Row.out(Ow));
      });
    });
  });
}

void codegen::emitMaxPoolGrad(KernelBuilder &KB) {
  // (x, dy) -> dx: each dy goes to the first maximum of its window.
  const Node &Nd = KB.node();
  PoolDims Dims = poolDims(Nd.operand(0)->dims(), Nd.operand(1)->dims(), Nd.A);
  if (Dims.Size == 0)
    return KB.fillOut(KB.f32(0), Nd.Type.numElements());
  emitOverPlanes(KB, Dims, [&](KernelBuilder &K, const PoolDims &P) {
    IRBuilder<> &B = K.builder();
    bool Vector = isVectorPool(K, P, {0, 1});
    // Disjoint windows store every pixel they cover (dy or 0); only
    // pixels outside every window, or overlaps (scatter-add), need zeros.
    if (!P.tiles())
      clearPlanes(K, P);
    if (Vector) {
      // dy to the window element that won, 0 to the other three.
      forEachPoolBlock(
          K, P, [&](const PoolRow &Row, Value *Ow0, int64_t Count) {
            Value *Which;
            vectorArgMax(B, loadWindows(K, 0, Row, Ow0, Count), &Which);
            Value *Dy = loadVec(B, K.in(1), Row.out(Ow0), PV, Count);
            Value *Zero = Constant::getNullValue(Dy->getType());
            auto At = [&](int64_t Pos) {
              return B.CreateSelect(
                  B.CreateICmpEQ(Which,
                                 B.CreateVectorSplat(PV, B.getInt32(Pos))),
                  Dy, Zero);
            };
            for (int64_t A = 0; A < 2; ++A)
              storeWindowRow(K, Row, Ow0, Count, A, At(2 * A), At(2 * A + 1));
          });
      return;
    }
    AllocaInst *Best = K.scratch(B.getFloatTy(), "best");
    AllocaInst *BestIdx = K.scratch(B.getInt64Ty(), "best.idx");
    if (P.disjoint()) {
      // Every pixel is in at most one window: each window element is
      // stored once (dy at the maximum, 0 elsewhere), with no read of dx,
      // so the loop over a row's windows vectorizes.
      forEachPoolRow(K, P, [&](const PoolRow &Row) {
        forEachOutCol(K, P, [&](Value *Ow) {
          windowArgMax(K, P, Row, Ow, Best, BestIdx);
          Value *Dy = K.loadOperand(1, Row.out(Ow));
          Value *Max = B.CreateLoad(B.getInt64Ty(), BestIdx);
          forEachWindowElem(K, P, [&](Value *A, Value *Bv) {
            Value *Idx = Row.in(A, Bv, Ow);
            K.store(B.CreateSelect(B.CreateICmpEQ(Idx, Max), Dy, K.f32(0)),
                    K.out(), Idx);
          });
        });
      });
      return;
    }
    // Overlapping windows: the maxima of a row first (vectorizable), then
    // one serial scatter-add in output order.
    int64_t Cols = std::max<int64_t>(P.OW, 1);
    AllocaInst *RowIdx =
        K.scratch(ArrayType::get(B.getInt64Ty(), Cols), "row.idx");
    auto IdxAt = [&](Value *Ow) {
      return B.CreateInBoundsGEP(B.getInt64Ty(), RowIdx, Ow);
    };
    forEachPoolRow(K, P, [&](const PoolRow &Row) {
      forEachOutCol(K, P, [&](Value *Ow) {
        windowArgMax(K, P, Row, Ow, Best, BestIdx);
        B.CreateStore(B.CreateLoad(B.getInt64Ty(), BestIdx), IdxAt(Ow));
      });
      forEachOutCol(K, P, [&](Value *Ow) {
        Value *Idx = B.CreateLoad(B.getInt64Ty(), IdxAt(Ow));
        Value *Dy = K.loadOperand(1, Row.out(Ow));
        K.store(B.CreateFAdd(K.load(DType::F32, K.out(), Idx), Dy), K.out(),
                Idx);
      });
    });
  });
}

void codegen::emitAvgPoolGrad(KernelBuilder &KB) {
  // dy -> dx: each dy spreads evenly over its window.
  const Node &Nd = KB.node();
  PoolDims Dims = poolDims(Nd.dims(), Nd.operand(0)->dims(), Nd.A);
  if (Dims.Size == 0)
    return KB.fillOut(KB.f32(0), Nd.Type.numElements());
  emitOverPlanes(KB, Dims, [&](KernelBuilder &K, const PoolDims &P) {
    IRBuilder<> &B = K.builder();
    // Disjoint windows store every pixel they cover; only pixels outside
    // every window, or overlaps (added into), need zeros first.
    if (!P.tiles())
      clearPlanes(K, P);
    Value *Scale = K.f32(1.0 / double(P.Size * P.Size));
    if (isVectorPool(K, P, {0})) {
      forEachPoolBlock(
          K, P, [&](const PoolRow &Row, Value *Ow0, int64_t Count) {
            Value *G =
                B.CreateFMul(loadVec(B, K.in(0), Row.out(Ow0), PV, Count),
                             B.CreateVectorSplat(PV, Scale));
            for (int64_t A = 0; A < 2; ++A)
              storeWindowRow(K, Row, Ow0, Count, A, G, G);
          });
      return;
    }
    forEachPoolRow(K, P, [&](const PoolRow &Row) {
      if (P.disjoint()) {
        // One store per pixel, no read of dx: vectorizes like the forward.
        forEachOutCol(K, P, [&](Value *Ow) {
          Value *G = B.CreateFMul(K.loadOperand(0, Row.out(Ow)), Scale);
          forEachWindowElem(K, P, [&](Value *A, Value *Bv) {
            K.store(G, K.out(), Row.in(A, Bv, Ow));
          });
        });
        return;
      }
      // Overlapping windows add into shared pixels. For a fixed window
      // offset the outputs of a row still write distinct pixels, so the
      // inner loop over them has no conflicts.
      forEachWindowElem(K, P, [&](Value *A, Value *Bv) {
        forEachOutCol(K, P, [&](Value *Ow) {
          Value *G = B.CreateFMul(K.loadOperand(0, Row.out(Ow)), Scale);
          Value *Idx = Row.in(A, Bv, Ow);
          K.store(B.CreateFAdd(K.load(DType::F32, K.out(), Idx), G), K.out(),
                  Idx);
        });
      });
    });
  });
}
