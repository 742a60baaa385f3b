//===- EvaluatorKernels.cpp - Reference kernels of the evaluator ----------===//
//
// Straightforward loops over row-major data. Index arithmetic is spelled out
// (outer x axis x inner for reductions, NCHW offsets for convolution) so a
// reader can check each kernel against its definition at a glance.
//
//===----------------------------------------------------------------------===//
#include "EvaluatorKernels.h"

#include <cassert>
#include <cmath>
#include <limits>

using namespace nnc;
using namespace nnc::eval;

namespace {

/// Row-major strides of `Dims`, with 0 where `Dims` is broadcast (size 1 or
/// missing on the left) against `Out`.
llvm::SmallVector<int64_t, 4> broadcastStrides(llvm::ArrayRef<int64_t> Dims,
                                               llvm::ArrayRef<int64_t> Out) {
  llvm::SmallVector<int64_t, 4> Strides(Out.size(), 0);
  int64_t Stride = 1;
  for (size_t I = 0; I < Dims.size(); ++I) {
    size_t D = Dims.size() - 1 - I, O = Out.size() - 1 - I;
    Strides[O] = Dims[D] == 1 ? 0 : Stride;
    Stride *= Dims[D];
  }
  return Strides;
}

/// Visits every index of `Out` in row-major order, passing the matching flat
/// offsets into each broadcast operand.
template <typename Fn>
void forEachBroadcast(llvm::ArrayRef<int64_t> Out,
                      llvm::ArrayRef<llvm::ArrayRef<int64_t>> Ins, Fn F) {
  size_t Rank = Out.size();
  std::vector<llvm::SmallVector<int64_t, 4>> Strides;
  for (llvm::ArrayRef<int64_t> In : Ins)
    Strides.push_back(broadcastStrides(In, Out));
  int64_t Total = TensorType(DType::F32, Out).numElements();
  llvm::SmallVector<int64_t, 4> Index(Rank, 0);
  llvm::SmallVector<int64_t, 2> Offsets(Ins.size(), 0);
  for (int64_t Flat = 0; Flat < Total; ++Flat) {
    F(Flat, llvm::ArrayRef<int64_t>(Offsets));
    // Odometer increment, moving every operand offset along with it.
    for (size_t D = Rank; D-- > 0;) {
      ++Index[D];
      for (size_t K = 0; K < Ins.size(); ++K)
        Offsets[K] += Strides[K][D];
      if (Index[D] < Out[D])
        break;
      for (size_t K = 0; K < Ins.size(); ++K)
        Offsets[K] -= Strides[K][D] * Index[D];
      Index[D] = 0;
    }
  }
}

/// Splits a shape around `Axis` into (outer, axis length, inner) for
/// slice-wise kernels; ALL_AXES treats the whole tensor as one slice.
struct Slices {
  int64_t Outer = 1, Len = 1, Inner = 1;
};

Slices slicesAround(const TensorType &T, int64_t Axis) {
  Slices S;
  if (Axis == ALL_AXES) {
    S.Len = T.numElements();
    return S;
  }
  for (int64_t I = 0; I < int64_t(T.rank()); ++I) {
    if (I < Axis)
      S.Outer *= T.Dims[I];
    else if (I == Axis)
      S.Len = T.Dims[I];
    else
      S.Inner *= T.Dims[I];
  }
  return S;
}

/// Whether `V` beats the current best `Best` for a max-style op: larger, or
/// NaN (which PyTorch propagates). Ties keep the earlier element.
bool beats(double V, double Best) {
  return !std::isnan(Best) && (std::isnan(V) || V > Best);
}

} // namespace

EvalTensor eval::mapUnary(const EvalTensor &X, const TensorType &R, UnaryFn F) {
  EvalTensor Out = EvalTensor::zeros(R);
  for (size_t I = 0; I < Out.Data.size(); ++I)
    Out.Data[I] = F(X.Data[I]);
  return Out;
}

EvalTensor eval::mapBinary(const EvalTensor &X, const EvalTensor &Y,
                           const TensorType &R, BinaryFn F) {
  EvalTensor Out = EvalTensor::zeros(R);
  llvm::ArrayRef<int64_t> Ins[] = {X.Type.Dims, Y.Type.Dims};
  forEachBroadcast(R.Dims, Ins, [&](int64_t Flat, llvm::ArrayRef<int64_t> Off) {
    Out.Data[Flat] = F(X.Data[Off[0]], Y.Data[Off[1]]);
  });
  return Out;
}

EvalTensor eval::broadcastTo(const EvalTensor &X, const TensorType &R) {
  EvalTensor Out = EvalTensor::zeros(R);
  llvm::ArrayRef<int64_t> Ins[] = {X.Type.Dims};
  forEachBroadcast(R.Dims, Ins, [&](int64_t Flat, llvm::ArrayRef<int64_t> Off) {
    Out.Data[Flat] = X.Data[Off[0]];
  });
  return Out;
}

EvalTensor eval::reshape(const EvalTensor &X, const TensorType &R) {
  assert(X.numElements() == R.numElements() && "reshape changes the size");
  return {R, X.Data};
}

EvalTensor eval::transpose(const EvalTensor &X, const TensorType &R) {
  assert(X.Type.rank() == 2 && "transpose of a non-2-D tensor");
  int64_t Rows = X.Type.Dims[0], Cols = X.Type.Dims[1];
  EvalTensor Out = EvalTensor::zeros(R);
  for (int64_t I = 0; I < Rows; ++I)
    for (int64_t J = 0; J < Cols; ++J)
      Out.Data[J * Rows + I] = X.Data[I * Cols + J];
  return Out;
}

EvalTensor eval::permute(const EvalTensor &X, uint64_t Perm,
                         const TensorType &R) {
  unsigned Rank = R.rank();
  // X's row-major strides, read along each result axis.
  std::vector<int64_t> Own(Rank, 1), Read(Rank);
  for (unsigned K = Rank; K-- > 1;)
    Own[K - 1] = Own[K] * X.Type.Dims[K];
  for (unsigned K = 0; K < Rank; ++K)
    Read[K] = Own[permAxis(Perm, K)];
  EvalTensor Out = EvalTensor::zeros(R);
  for (int64_t I = 0; I < R.numElements(); ++I) {
    int64_t Rest = I, From = 0;
    for (unsigned K = Rank; K-- > 0;) {
      From += (Rest % R.Dims[K]) * Read[K];
      Rest /= R.Dims[K];
    }
    Out.Data[I] = X.Data[From];
  }
  return Out;
}

EvalTensor eval::slice(const EvalTensor &X, int64_t Axis, int64_t Offset,
                       const TensorType &R) {
  EvalTensor Out = EvalTensor::zeros(R);
  Slices In = slicesAround(X.Type, Axis), S = slicesAround(R, Axis);
  for (int64_t O = 0; O < S.Outer; ++O)
    for (int64_t J = 0; J < S.Len; ++J)
      for (int64_t I = 0; I < S.Inner; ++I)
        Out.Data[(O * S.Len + J) * S.Inner + I] =
            X.Data[(O * In.Len + Offset + J) * In.Inner + I];
  return Out;
}

EvalTensor eval::concat(llvm::ArrayRef<const EvalTensor *> Xs, int64_t Axis,
                        const TensorType &R) {
  EvalTensor Out = EvalTensor::zeros(R);
  Slices S = slicesAround(R, Axis);
  int64_t Offset = 0; // where the current operand starts along Axis
  for (const EvalTensor *X : Xs) {
    Slices In = slicesAround(X->Type, Axis);
    for (int64_t O = 0; O < S.Outer; ++O)
      for (int64_t J = 0; J < In.Len; ++J)
        for (int64_t I = 0; I < S.Inner; ++I)
          Out.Data[(O * S.Len + Offset + J) * S.Inner + I] =
              X->Data[(O * In.Len + J) * In.Inner + I];
    Offset += In.Len;
  }
  assert(Offset == S.Len && "concat operands do not fill the result");
  return Out;
}

EvalTensor eval::reduce(ReduceKind K, const EvalTensor &X, int64_t Axis,
                        const TensorType &R) {
  EvalTensor Out = EvalTensor::zeros(R);
  Slices S = slicesAround(X.Type, Axis);
  for (int64_t O = 0; O < S.Outer; ++O) {
    for (int64_t In = 0; In < S.Inner; ++In) {
      auto At = [&](int64_t J) { return (O * S.Len + J) * S.Inner + In; };
      double Sum = 0;
      double Best = -std::numeric_limits<double>::infinity();
      int64_t BestIndex = 0;
      for (int64_t J = 0; J < S.Len; ++J) {
        double V = X.Data[At(J)];
        Sum += V;
        if (J == 0 || beats(V, Best)) {
          Best = V;
          BestIndex = J;
        }
      }
      int64_t Slot = O * S.Inner + In;
      switch (K) {
      case ReduceKind::Sum:
        Out.Data[Slot] = Sum;
        break;
      case ReduceKind::Max:
        Out.Data[Slot] = Best;
        break;
      case ReduceKind::ArgMax:
        Out.Data[Slot] = double(BestIndex);
        break;
      case ReduceKind::ArgMaxMask:
        if (S.Len > 0)
          Out.Data[At(BestIndex)] = 1;
        break;
      }
    }
  }
  return Out;
}

EvalTensor eval::softmax(const EvalTensor &X, int64_t Axis, bool Log,
                         const TensorType &R) {
  EvalTensor Out = EvalTensor::zeros(R);
  Slices S = slicesAround(X.Type, Axis);
  for (int64_t O = 0; O < S.Outer; ++O) {
    for (int64_t In = 0; In < S.Inner; ++In) {
      auto At = [&](int64_t J) { return (O * S.Len + J) * S.Inner + In; };
      // Subtracting the maximum keeps exp() from overflowing.
      double Max = -std::numeric_limits<double>::infinity();
      for (int64_t J = 0; J < S.Len; ++J)
        Max = std::max(Max, X.Data[At(J)]);
      double Sum = 0;
      for (int64_t J = 0; J < S.Len; ++J)
        Sum += std::exp(X.Data[At(J)] - Max);
      for (int64_t J = 0; J < S.Len; ++J) {
        double Shifted = X.Data[At(J)] - Max;
        Out.Data[At(J)] =
            Log ? Shifted - std::log(Sum) : std::exp(Shifted) / Sum;
      }
    }
  }
  return Out;
}

EvalTensor eval::oneHot(const EvalTensor &Labels, const TensorType &R) {
  EvalTensor Out = EvalTensor::zeros(R);
  int64_t Size = R.Dims.back();
  for (int64_t I = 0; I < Labels.numElements(); ++I) {
    double L = Labels.Data[I];
    // Out-of-range labels (and NaN) leave an all-zero row.
    if (L >= 0 && L < double(Size))
      Out.Data[I * Size + int64_t(L)] = 1;
  }
  return Out;
}

EvalTensor eval::matmul(const EvalTensor &X, const EvalTensor &Y,
                        const TensorType &R) {
  int64_t M = X.Type.Dims[0], K = X.Type.Dims[1], N = Y.Type.Dims[1];
  EvalTensor Out = EvalTensor::zeros(R);
  for (int64_t I = 0; I < M; ++I)
    for (int64_t J = 0; J < N; ++J) {
      double Acc = 0;
      for (int64_t P = 0; P < K; ++P)
        Acc += X.Data[I * K + P] * Y.Data[P * N + J];
      Out.Data[I * N + J] = Acc;
    }
  return Out;
}

namespace {

/// The geometry shared by conv2d and its two gradients: x [N,C,H,W],
/// w [K,C,R,S], y [N,K,OH,OW]. `forEachTap` visits every (y, x, w) triple
/// whose input position lies inside the unpadded image; padding taps read
/// zeros and contribute nothing to any of the three kernels.
struct ConvGeometry {
  int64_t N, C, H, W, K, R, S, OH, OW, Stride, Pad;

  template <typename Fn> void forEachTap(Fn F) const {
    for (int64_t Ni = 0; Ni < N; ++Ni)
      for (int64_t Ki = 0; Ki < K; ++Ki)
        for (int64_t Oh = 0; Oh < OH; ++Oh)
          for (int64_t Ow = 0; Ow < OW; ++Ow)
            for (int64_t Ci = 0; Ci < C; ++Ci)
              for (int64_t Ri = 0; Ri < R; ++Ri)
                for (int64_t Si = 0; Si < S; ++Si) {
                  int64_t Ih = Oh * Stride - Pad + Ri;
                  int64_t Iw = Ow * Stride - Pad + Si;
                  if (Ih < 0 || Ih >= H || Iw < 0 || Iw >= W)
                    continue;
                  F(((Ni * K + Ki) * OH + Oh) * OW + Ow,
                    ((Ni * C + Ci) * H + Ih) * W + Iw,
                    ((Ki * C + Ci) * R + Ri) * S + Si);
                }
  }
};

ConvGeometry convGeometry(const TensorType &X, const TensorType &W,
                          const TensorType &Y, const Attrs &A) {
  return {X.Dims[0], X.Dims[1], X.Dims[2], X.Dims[3], W.Dims[0], W.Dims[2],
          W.Dims[3], Y.Dims[2], Y.Dims[3], A.Stride,  A.Padding};
}

/// The geometry of a pool over x [N,C,H,W] into y [N,C,OH,OW];
/// `forEachWindow` hands each output offset the input offsets of its window.
struct PoolGeometry {
  int64_t N, C, H, W, OH, OW, Size, Stride;

  template <typename Fn> void forEachWindow(Fn F) const {
    llvm::SmallVector<int64_t, 16> Window;
    for (int64_t Ni = 0; Ni < N; ++Ni)
      for (int64_t Ci = 0; Ci < C; ++Ci)
        for (int64_t Oh = 0; Oh < OH; ++Oh)
          for (int64_t Ow = 0; Ow < OW; ++Ow) {
            Window.clear();
            for (int64_t Ri = 0; Ri < Size; ++Ri)
              for (int64_t Si = 0; Si < Size; ++Si)
                Window.push_back(((Ni * C + Ci) * H + Oh * Stride + Ri) * W +
                                 Ow * Stride + Si);
            F(((Ni * C + Ci) * OH + Oh) * OW + Ow,
              llvm::ArrayRef<int64_t>(Window));
          }
  }
};

PoolGeometry poolGeometry(const TensorType &X, const TensorType &Y,
                          const Attrs &A) {
  return {X.Dims[0], X.Dims[1], X.Dims[2], X.Dims[3],
          Y.Dims[2], Y.Dims[3], A.Size,    A.Stride};
}

} // namespace

EvalTensor eval::conv2d(const EvalTensor &X, const EvalTensor &W,
                        const Attrs &A, const TensorType &R) {
  EvalTensor Y = EvalTensor::zeros(R);
  convGeometry(X.Type, W.Type, R, A)
      .forEachTap([&](int64_t YI, int64_t XI, int64_t WI) {
        Y.Data[YI] += X.Data[XI] * W.Data[WI];
      });
  return Y;
}

EvalTensor eval::conv2dGradInput(const EvalTensor &DY, const EvalTensor &W,
                                 const Attrs &A, const TensorType &R) {
  // y = sum x*w, so dx at each tap gains dy * w.
  EvalTensor DX = EvalTensor::zeros(R);
  convGeometry(R, W.Type, DY.Type, A)
      .forEachTap([&](int64_t YI, int64_t XI, int64_t WI) {
        DX.Data[XI] += DY.Data[YI] * W.Data[WI];
      });
  return DX;
}

EvalTensor eval::conv2dGradWeight(const EvalTensor &X, const EvalTensor &DY,
                                  const Attrs &A, const TensorType &R) {
  // y = sum x*w, so dw at each tap gains dy * x.
  EvalTensor DW = EvalTensor::zeros(R);
  convGeometry(X.Type, R, DY.Type, A)
      .forEachTap([&](int64_t YI, int64_t XI, int64_t WI) {
        DW.Data[WI] += DY.Data[YI] * X.Data[XI];
      });
  return DW;
}

EvalTensor eval::pool2d(const EvalTensor &X, bool Max, const Attrs &A,
                        const TensorType &R) {
  EvalTensor Y = EvalTensor::zeros(R);
  poolGeometry(X.Type, R, A)
      .forEachWindow([&](int64_t YI, llvm::ArrayRef<int64_t> Window) {
        double Best = X.Data[Window[0]], Sum = 0;
        for (int64_t XI : Window) {
          Sum += X.Data[XI];
          if (beats(X.Data[XI], Best))
            Best = X.Data[XI];
        }
        Y.Data[YI] = Max ? Best : Sum / double(Window.size());
      });
  return Y;
}

EvalTensor eval::maxPool2dGrad(const EvalTensor &X, const EvalTensor &DY,
                               const Attrs &A, const TensorType &R) {
  EvalTensor DX = EvalTensor::zeros(R);
  poolGeometry(X.Type, DY.Type, A)
      .forEachWindow([&](int64_t YI, llvm::ArrayRef<int64_t> Window) {
        int64_t Arg = Window[0];
        for (int64_t XI : Window)
          if (beats(X.Data[XI], X.Data[Arg]))
            Arg = XI;
        DX.Data[Arg] += DY.Data[YI];
      });
  return DX;
}

EvalTensor eval::avgPool2dGrad(const EvalTensor &DY, const Attrs &A,
                               const TensorType &R) {
  EvalTensor DX = EvalTensor::zeros(R);
  poolGeometry(R, DY.Type, A)
      .forEachWindow([&](int64_t YI, llvm::ArrayRef<int64_t> Window) {
        for (int64_t XI : Window)
          DX.Data[XI] += DY.Data[YI] / double(Window.size());
      });
  return DX;
}
