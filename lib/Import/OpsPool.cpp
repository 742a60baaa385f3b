//===- OpsPool.cpp - ONNX pools and LRN -----------------------------------===//
//
// A 2-D pool with a square window, equal strides and no padding is
// `maxpool2d`/`avgpool2d`; any other (1-D or 3-D, rectangular windows,
// padding, dilation, ceil_mode) is computed axis by axis from shifted
// slices: along one axis, window element j of every output is the slice
// starting at j * dilation, subsampled by the stride (a reshape to
// [..., out, stride, ...] and the first of each stride), and the window's
// max or sum combines them. Max pools pad with the lowest f32, sums with 0;
// average pools divide by the count of elements each window holds,
// computed here (padding counts with count_include_pad). LRN sums its
// channel window the same way.
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

#include <cmath>
#include <numeric>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

namespace {

/// The lowest f32, the padding of max pools (a `.nn` number cannot be
/// -inf; no window lies wholly in the padding).
const char *LowestF32 = "(-3.40282347e38)";

/// One axis of a pool from shifted slices: `Combine` ("max" or "+") of
/// the window's elements; returns the expression and sets Dims[Axis] to
/// the output length `Out`.
std::string poolAxis(Importer &I, const std::string &X, Shape &Dims,
                     int64_t Axis, int64_t Kernel, int64_t Stride,
                     int64_t Dilation, int64_t Out, bool Max) {
  std::string Src = isSimpleRef(X) ? X : I.temp(X, "pool");
  std::vector<std::string> Terms;
  for (int64_t J = 0; J < Kernel; ++J) {
    int64_t Start = J * Dilation;
    int64_t End = Start + (Out - 1) * Stride + 1;
    std::string T = "slice(" + Src + ", " + std::to_string(Axis) + ", " +
                    std::to_string(Start) + ", " + std::to_string(End) + ")";
    if (Stride > 1) {
      // Every Stride-th element: the slice padded to Out * Stride by its
      // own last elements, viewed as [.., Out, Stride, ..], column 0.
      Shape D = Dims;
      D[Axis] = End - Start;
      int64_t Extra = Out * Stride - (End - Start);
      if (Extra > 0) {
        Shape E = D;
        E[Axis] = Extra;
        T = "concat(" + T + ", broadcast(slice(" + Src + ", " +
            std::to_string(Axis) + ", " + std::to_string(End - 1) + ", " +
            std::to_string(End) + "), " + dimsText(E) +
            "), axis = " + std::to_string(Axis) + ")";
      }
      Shape Split(Dims.begin(), Dims.begin() + Axis);
      Split.push_back(Out);
      Split.push_back(Stride);
      Split.append(Dims.begin() + Axis + 1, Dims.end());
      Shape Back = Dims;
      Back[Axis] = Out;
      T = "reshape(slice(reshape(" + T + ", " + dimsText(Split) + "), " +
          std::to_string(Axis + 1) + ", 0, 1), " + dimsText(Back) + ")";
    }
    Terms.push_back(T);
  }
  std::string Expr = Terms[0];
  for (size_t K = 1; K < Terms.size(); ++K)
    Expr = Max ? "max(" + Expr + ", " + Terms[K] + ")"
               : "(" + Expr + " + " + Terms[K] + ")";
  Dims[Axis] = Out;
  return Expr;
}

Error pool(Importer &I, bool Max) {
  if (Error E = I.checkAttrs({"auto_pad", "ceil_mode", "dilations",
                              "kernel_shape", "pads", "strides",
                              "storage_order", "count_include_pad"}))
    return E;
  if (I.hasOutput(1))
    return I.unsupported("the Indices output");
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  if (!isFloatType((*X)->Elem))
    return I.unsupported("element type " + onnxTypeName((*X)->Elem));
  const Shape &XD = (*X)->Dims;
  Expected<std::optional<std::vector<int64_t>>> K = I.attrInts("kernel_shape");
  if (!K)
    return K.takeError();
  if (!*K || (*K)->size() + 2 != XD.size())
    return I.fail("kernel_shape must give one size per spatial axis of " +
                  dimsText(XD));
  Expected<Window> W = windowOf(I, XD, **K);
  if (!W)
    return W.takeError();
  Expected<int64_t> Ceil = I.attrInt("ceil_mode", 0);
  if (!Ceil)
    return Ceil.takeError();
  Expected<int64_t> IncludePad = I.attrInt("count_include_pad", 0);
  if (!IncludePad)
    return IncludePad.takeError();
  size_t S = XD.size() - 2;
  // Output sizes, and the extra end padding ceil_mode needs.
  std::vector<int64_t> Out(S), Extra(S, 0);
  for (size_t A = 0; A < S; ++A) {
    int64_t Span = ((*K)->at(A) - 1) * W->Dilations[A] + 1;
    int64_t Room = XD[2 + A] + W->Begin[A] + W->End[A] - Span;
    if (Room < 0)
      return I.fail("the window does not fit x " + dimsText(XD));
    Out[A] = Room / W->Strides[A] + 1;
    if (*Ceil && Room % W->Strides[A]) {
      // One more window, if it starts inside the (padded) input.
      if (Out[A] * W->Strides[A] < XD[2 + A] + W->Begin[A])
        ++Out[A];
      Extra[A] =
          std::max<int64_t>(0, (Out[A] - 1) * W->Strides[A] + Span -
                                   (XD[2 + A] + W->Begin[A] + W->End[A]));
    }
  }
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  Shape OutDims{XD[0], XD[1]};
  OutDims.append(Out.begin(), Out.end());
  bool Plain = S == 2 && (*K)->at(0) == (*K)->at(1) &&
               W->Strides[0] == W->Strides[1] &&
               llvm::all_of(W->Dilations, [](int64_t D) { return D == 1; }) &&
               llvm::all_of(W->Begin, [](int64_t P) { return P == 0; }) &&
               llvm::all_of(W->End, [](int64_t P) { return P == 0; }) &&
               llvm::all_of(Extra, [](int64_t P) { return P == 0; });
  if (Plain)
    return I.define(0,
                    std::string(Max ? "maxpool2d(" : "avgpool2d(") + *XE +
                        ", size = " + std::to_string((*K)->at(0)) +
                        ", stride = " + std::to_string(W->Strides[0]) + ")",
                    (*X)->Elem, OutDims);
  // Padding (the lowest f32 for max, 0 for sums), then axis by axis.
  Shape D = XD;
  std::string Expr = *XE;
  for (size_t A = 0; A < S; ++A)
    Expr = padAxis(I, Expr, D, int64_t(2 + A), W->Begin[A],
                   W->End[A] + Extra[A], Max ? LowestF32 : "0", false);
  for (size_t A = 0; A < S; ++A)
    Expr = poolAxis(I, Expr, D, int64_t(2 + A), (*K)->at(A), W->Strides[A],
                    W->Dilations[A], Out[A], Max);
  if (Max)
    return I.define(0, Expr, (*X)->Elem, OutDims);
  // The count of each window: along each axis, the window positions inside
  // x (or inside x and its padding with count_include_pad; never the ceil
  // extension), multiplied over the axes.
  std::vector<std::vector<double>> PerAxis(S);
  for (size_t A = 0; A < S; ++A)
    for (int64_t O = 0; O < Out[A]; ++O) {
      int64_t N = 0;
      for (int64_t J = 0; J < (*K)->at(A); ++J) {
        int64_t P = O * W->Strides[A] + J * W->Dilations[A] - W->Begin[A];
        bool InX = P >= 0 && P < XD[2 + A];
        bool InPad = P >= -W->Begin[A] && P < XD[2 + A] + W->End[A];
        N += *IncludePad ? InPad : InX;
      }
      PerAxis[A].push_back(double(N));
    }
  if (!foldable(Shape(Out.begin(), Out.end())))
    return I.unsupported("average pools of more than 2^24 outputs per plane");
  std::vector<double> Counts(1, 1.0);
  for (size_t A = 0; A < S; ++A) {
    std::vector<double> Next;
    for (double C : Counts)
      for (double N : PerAxis[A])
        Next.push_back(C * N);
    Counts = Next;
  }
  bool Uniform = llvm::all_of(Counts, [&](double C) { return C == Counts[0]; });
  if (Uniform)
    return I.define(0, "(" + Expr + " / " + numberText(Counts[0], false) + ")",
                    (*X)->Elem, OutDims);
  Expected<std::string> CountName =
      I.constant(onnx::TensorProto_DataType_FLOAT,
                 Shape(Out.begin(), Out.end()), std::move(Counts), "count");
  if (!CountName)
    return CountName.takeError();
  return I.define(0, "(" + Expr + " / " + *CountName + ")", (*X)->Elem,
                  OutDims);
}

Error opMaxPool(Importer &I) { return pool(I, true); }
Error opAveragePool(Importer &I) { return pool(I, false); }

/// GlobalAveragePool / GlobalMaxPool: mean / max over the spatial axes.
Error globalPool(Importer &I, const char *Fn) {
  if (Error E = I.checkAttrs({}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  Shape Out = (*X)->Dims;
  std::string Expr = *XE;
  for (size_t A = 2; A < Out.size(); ++A) {
    Expr = std::string(Fn) + "(" + Expr + ", axis = " + std::to_string(A) +
           ", keepdims = true)";
    Out[A] = 1;
  }
  return I.define(0, Expr, (*X)->Elem, Out);
}

Error opGlobalAveragePool(Importer &I) { return globalPool(I, "mean"); }
Error opGlobalMaxPool(Importer &I) { return globalPool(I, "max"); }

/// LRN: x / (bias + alpha / size * (sum of x^2 over a window of `size`
/// channels))^beta, the window's sum from shifted slices as in the pools.
Error opLRN(Importer &I) {
  if (Error E = I.checkAttrs({"alpha", "beta", "bias", "size"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  const Shape &D = (*X)->Dims;
  if (D.size() < 2)
    return I.fail("x " + dimsText(D) + " has no channel axis");
  Expected<double> Alpha = I.attrFloat("alpha", 1e-4),
                   Beta = I.attrFloat("beta", 0.75),
                   Bias = I.attrFloat("bias", 1.0);
  Expected<int64_t> Size = I.attrInt("size", 0);
  if (!Alpha)
    return Alpha.takeError();
  if (!Beta)
    return Beta.takeError();
  if (!Bias)
    return Bias.takeError();
  if (!Size)
    return Size.takeError();
  if (*Size < 1)
    return I.fail("size " + llvm::Twine(*Size) + " must be positive");
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  std::string Xn = isSimpleRef(*XE) ? *XE : I.temp(*XE, "x");
  Shape P = D;
  std::string Sq = padAxis(I, "square(" + Xn + ")", P, 1, (*Size - 1) / 2,
                           *Size / 2, "0", false);
  std::string Sum = poolAxis(I, Sq, P, 1, *Size, 1, 1, D[1], false);
  return I.define(0,
                  "(" + Xn + " / pow(" + numberText(float(*Bias), false) +
                      " + " + numberText(float(*Alpha / double(*Size)), false) +
                      " * " + Sum + ", " + numberText(float(*Beta), false) +
                      "))",
                  (*X)->Elem, D);
}

} // namespace

void onnx_import::registerPoolOps(OpRegistry &R) {
  R["MaxPool"] = opMaxPool;
  R["AveragePool"] = opAveragePool;
  R["GlobalAveragePool"] = opGlobalAveragePool;
  R["GlobalMaxPool"] = opGlobalMaxPool;
  R["LRN"] = opLRN;
}
