//===- OpsConv.cpp - ONNX convolutions, pools and padding -----------------===//
//
// Conv maps to `conv2d`/`conv1d` (a 3-D one to a sum of `conv2d`s per
// output plane, conv3d below) (docs/onnx.md):
//   1. pads (explicit, or from auto_pad) become `padding` when they are the
//      same on every side of a 2-D convolution, else `full(0)` blocks
//      joined around x;
//   2. dilations become zero rows and columns joined into the kernel;
//   3. groups become one convolution per group, joined along the channels;
//   4. the bias is added per channel.
// Pools: a 2-D pool with a square window, equal strides and no padding is
// `maxpool2d`/`avgpool2d`; any other (1-D or 3-D, rectangular windows,
// padding, dilation, ceil_mode) is computed axis by axis from shifted
// slices: along one axis, window element j of every output is the slice
// starting at j * dilation, subsampled by the stride (a reshape to
// [..., out, stride, ...] and the first of each stride), and the window's
// max or sum combines them. Average pools divide by the count of elements
// each window holds, computed here (padding counts with
// count_include_pad). Pad (constant, edge, reflect) joins `full` blocks,
// broadcast edges or single slices around x.
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

/// X (of dims `Dims`) with `Before` and `After` elements of `Fill` joined
/// along `Axis`; updates `Dims`. `Fill` is a number, or "edge"/"reflect".
std::string padAxis(Importer &I, const std::string &X, Shape &Dims,
                    int64_t Axis, int64_t Before, int64_t After,
                    const std::string &Fill, bool IsInt) {
  if (Before == 0 && After == 0)
    return X;
  std::string Src = isSimpleRef(X) ? X : I.temp(X, "pad");
  int64_t Len = Dims[Axis];
  auto Block = [&](int64_t N, bool AtEnd) {
    Shape D = Dims;
    D[Axis] = N;
    if (Fill == "edge") {
      int64_t At = AtEnd ? Len - 1 : 0;
      Shape One = Dims;
      One[Axis] = 1;
      std::string S = "slice(" + Src + ", " + std::to_string(Axis) + ", " +
                      std::to_string(At) + ", " + std::to_string(At + 1) + ")";
      return N == 1 ? S : "broadcast(" + S + ", " + dimsText(D) + ")";
    }
    if (Fill == "reflect") {
      // Before: x[N], ..., x[1]; after: x[len-2], ..., x[len-1-N].
      std::string Parts;
      for (int64_t K = 0; K < N; ++K) {
        int64_t At = AtEnd ? Len - 2 - K : N - K;
        Parts += (K ? ", " : "") + std::string("slice(") + Src + ", " +
                 std::to_string(Axis) + ", " + std::to_string(At) + ", " +
                 std::to_string(At + 1) + ")";
      }
      return N == 1
                 ? Parts
                 : "concat(" + Parts + ", axis = " + std::to_string(Axis) + ")";
    }
    std::string F = "full(" + dimsText(D) + ", " + Fill + ")";
    return IsInt ? "i32(" + F + ")" : F;
  };
  std::string Expr = "concat(";
  if (Before > 0)
    Expr += Block(Before, false) + ", ";
  Expr += Src;
  if (After > 0)
    Expr += ", " + Block(After, true);
  Dims[Axis] += Before + After;
  return Expr + ", axis = " + std::to_string(Axis) + ")";
}

/// X cut by `Before`/`After` elements along Axis (negative pads).
std::string cropAxis(const std::string &X, Shape &Dims, int64_t Axis,
                     int64_t Before, int64_t After) {
  int64_t End = Dims[Axis] - After;
  Dims[Axis] = End - Before;
  return "slice(" + X + ", " + std::to_string(Axis) + ", " +
         std::to_string(Before) + ", " + std::to_string(End) + ")";
}

/// The spatial attributes of a Conv or pool node with `Spatial` axes.
struct Window {
  std::vector<int64_t> Kernel, Strides, Dilations, Begin, End;
};

Expected<Window> windowOf(Importer &I, const Shape &XDims,
                          const std::vector<int64_t> &Kernel) {
  size_t S = Kernel.size();
  Window W;
  W.Kernel = Kernel;
  auto Ints = [&](const char *Name, int64_t Default,
                  size_t Size) -> Expected<std::vector<int64_t>> {
    Expected<std::optional<std::vector<int64_t>>> A = I.attrInts(Name);
    if (!A)
      return A.takeError();
    if (!*A || (*A)->empty())
      return std::vector<int64_t>(Size, Default);
    if ((*A)->size() != Size)
      return I.fail("attribute '" + llvm::Twine(Name) + "' has " +
                    llvm::Twine((*A)->size()) + " values, not " +
                    llvm::Twine(Size));
    return **A;
  };
  Expected<std::vector<int64_t>> St = Ints("strides", 1, S),
                                 Di = Ints("dilations", 1, S),
                                 Pa = Ints("pads", 0, 2 * S);
  if (!St)
    return St.takeError();
  if (!Di)
    return Di.takeError();
  if (!Pa)
    return Pa.takeError();
  W.Strides = *St;
  W.Dilations = *Di;
  W.Begin.assign(Pa->begin(), Pa->begin() + S);
  W.End.assign(Pa->begin() + S, Pa->end());
  for (size_t K = 0; K < S; ++K)
    if (W.Strides[K] < 1 || W.Dilations[K] < 1 || W.Kernel[K] < 1 ||
        W.Begin[K] < 0 || W.End[K] < 0)
      return I.fail("kernel, strides, dilations and pads must be positive "
                    "(pads: not negative)");
  Expected<std::string> Auto = I.attrString("auto_pad", "NOTSET");
  if (!Auto)
    return Auto.takeError();
  if (*Auto == "SAME_UPPER" || *Auto == "SAME_LOWER") {
    for (size_t K = 0; K < S; ++K) {
      int64_t In = XDims[2 + K];
      int64_t Out = (In + W.Strides[K] - 1) / W.Strides[K];
      int64_t Span = (W.Kernel[K] - 1) * W.Dilations[K] + 1;
      int64_t Total =
          std::max<int64_t>(0, (Out - 1) * W.Strides[K] + Span - In);
      W.Begin[K] = *Auto == "SAME_UPPER" ? Total / 2 : Total - Total / 2;
      W.End[K] = Total - W.Begin[K];
    }
  } else if (*Auto == "VALID") {
    std::fill(W.Begin.begin(), W.Begin.end(), 0);
    std::fill(W.End.begin(), W.End.end(), 0);
  } else if (*Auto != "NOTSET") {
    return I.fail("auto_pad '" + *Auto + "' is not an ONNX value");
  }
  return W;
}

/// The kernel `WE` ([M, C, k...]) with dilation: zero rows/columns joined
/// between its elements along each spatial axis.
std::string dilate(Importer &I, const std::string &WE, Shape Dims,
                   const std::vector<int64_t> &Dil) {
  std::string Cur = WE;
  for (size_t K = 0; K < Dil.size(); ++K) {
    int64_t Axis = int64_t(2 + K), Len = Dims[Axis];
    if (Dil[K] == 1 || Len == 1)
      continue;
    std::string Src = isSimpleRef(Cur) ? Cur : I.temp(Cur, "kernel");
    Shape Gap = Dims;
    Gap[Axis] = Dil[K] - 1;
    std::string Zeros = "full(" + dimsText(Gap) + ", 0)";
    Cur = "concat(";
    for (int64_t J = 0; J < Len; ++J)
      Cur += (J ? ", " + Zeros + ", " : "") + std::string("slice(") + Src +
             ", " + std::to_string(Axis) + ", " + std::to_string(J) + ", " +
             std::to_string(J + 1) + ")";
    Cur += ", axis = " + std::to_string(Axis) + ")";
    Dims[Axis] = (Len - 1) * Dil[K] + 1;
  }
  return Cur;
}

/// 4. Output 0 is `Expr` plus the bias (input 2), if any, per channel.
Error addBias(Importer &I, std::string Expr, int64_t M, size_t S, OnnxType Elem,
              const Shape &Out) {
  if (I.has(2)) {
    Expected<std::string> BE = I.useIn(2);
    if (!BE)
      return BE.takeError();
    Shape BD{M};
    for (size_t K = 0; K < S; ++K)
      BD.push_back(1);
    Expr = "(" + Expr + " + reshape(" + *BE + ", " + dimsText(BD) + "))";
  }
  return I.define(0, Expr, Elem, Out);
}

/// A 3-D convolution of the padded `Xp` ([N, C, D, H, W]) with `Kern`
/// ([M, C/G, kd, kh, kw], dilated along height and width): output depth o
/// is the sum over the kernel's depth j of the 2-D convolutions of x's
/// plane o * stride + j * dilation with the kernel's plane j; the planes of
/// each output are joined along depth, the groups along the channels.
Expected<std::string> conv3d(Importer &I, const std::string &Xp,
                             const Shape &PD, const std::string &Kern,
                             const Shape &KD, int64_t G,
                             const std::vector<int64_t> &Strides,
                             int64_t DepthDilation, const Shape &Out) {
  int64_t C = PD[1], M = KD[0], Depth = KD[2];
  if (Out[2] * Depth * G > 4096)
    return I.unsupported("3-D convolutions of more than 4096 planes");
  std::string XS = isSimpleRef(Xp) ? Xp : I.temp(Xp, "x");
  std::string KS = isSimpleRef(Kern) ? Kern : I.temp(Kern, "kernel");
  auto Plane = [](const std::string &T, int64_t At, const Shape &Dims) {
    return "reshape(slice(" + T + ", 2, " + std::to_string(At) + ", " +
           std::to_string(At + 1) + "), " + dimsText(Dims) + ")";
  };
  std::string Groups;
  for (int64_t Gi = 0; Gi < G; ++Gi) {
    std::string Xg =
        G == 1 ? XS
               : I.temp("slice(" + XS + ", 1, " + std::to_string(Gi * C / G) +
                            ", " + std::to_string((Gi + 1) * C / G) + ")",
                        "group");
    std::string Kg =
        G == 1 ? KS
               : I.temp("slice(" + KS + ", 0, " + std::to_string(Gi * M / G) +
                            ", " + std::to_string((Gi + 1) * M / G) + ")",
                        "kernel");
    Shape XPlane{PD[0], C / G, PD[3], PD[4]},
        KPlane{M / G, C / G, KD[3], KD[4]};
    Shape OPlane{Out[0], M / G, 1, Out[3], Out[4]};
    std::string Planes;
    for (int64_t O = 0; O < Out[2]; ++O) {
      std::string Sum;
      for (int64_t J = 0; J < Depth; ++J)
        Sum += (J ? " + " : "") + std::string("conv2d(") +
               Plane(Xg, O * Strides[0] + J * DepthDilation, XPlane) + ", " +
               Plane(Kg, J, KPlane) +
               ", stride = " + std::to_string(Strides[1]) + ")";
      Planes += (O ? ", " : "") + std::string("reshape(") + Sum + ", " +
                dimsText(OPlane) + ")";
    }
    std::string Joined =
        Out[2] == 1 ? Planes : "concat(" + Planes + ", axis = 2)";
    Groups += (Gi ? ", " : "") + Joined;
  }
  return G == 1 ? Groups : "concat(" + Groups + ", axis = 1)";
}

Error opConv(Importer &I) {
  if (Error E = I.checkAttrs({"auto_pad", "dilations", "group", "kernel_shape",
                              "pads", "strides"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<Value *> Wv = I.in(1);
  if (!Wv)
    return Wv.takeError();
  const Shape &XD = (*X)->Dims, &WD = (*Wv)->Dims;
  if (XD.size() < 3 || XD.size() > 5)
    return I.unsupported(llvm::Twine(XD.size() - 2) +
                         "-D convolutions (nnc has 1-D, 2-D and 3-D ones)");
  if (WD.size() != XD.size())
    return I.fail("x " + dimsText(XD) + " and the kernel " + dimsText(WD) +
                  " differ in rank");
  Expected<int64_t> Group = I.attrInt("group", 1);
  if (!Group)
    return Group.takeError();
  int64_t G = *Group, C = XD[1], M = WD[0];
  if (G < 1 || C % G || M % G || WD[1] != C / G)
    return I.fail("x has " + llvm::Twine(C) + " channels, the kernel " +
                  dimsText(WD) + ", in " + llvm::Twine(G) +
                  " groups: they do not fit");
  Expected<Window> W =
      windowOf(I, XD, std::vector<int64_t>(WD.begin() + 2, WD.end()));
  if (!W)
    return W.takeError();
  size_t S = XD.size() - 2;
  if (S >= 2 && W->Strides[S - 2] != W->Strides[S - 1])
    return I.unsupported("different strides along height and width");
  Expected<std::string> XE = I.use(**X), WE = I.use(**Wv);
  if (!XE)
    return XE.takeError();
  if (!WE)
    return WE.takeError();
  // 1. Padding.
  std::string Xp = *XE;
  Shape PD = XD;
  int64_t Padding = 0;
  bool Even =
      llvm::all_of(W->Begin, [&](int64_t P) { return P == W->Begin[0]; }) &&
      W->Begin == W->End;
  if (S == 2 && Even) {
    Padding = W->Begin[0];
    PD[2] += 2 * Padding;
    PD[3] += 2 * Padding;
  } else {
    for (size_t K = 0; K < S; ++K)
      Xp = padAxis(I, Xp, PD, int64_t(2 + K), W->Begin[K], W->End[K], "0",
                   false);
  }
  // 2. Dilation (of a 3-D kernel along height and width only: its depth
  // is read element by element).
  std::vector<int64_t> Dil = W->Dilations;
  if (S == 3)
    Dil[0] = 1;
  std::string Kern = dilate(I, *WE, WD, Dil);
  Shape KD = WD, Span = WD;
  for (size_t K = 0; K < S; ++K) {
    KD[2 + K] = (WD[2 + K] - 1) * Dil[K] + 1;
    Span[2 + K] = (WD[2 + K] - 1) * W->Dilations[K] + 1;
  }
  Shape Out{XD[0], M};
  for (size_t K = 0; K < S; ++K) {
    int64_t O = (PD[2 + K] - Span[2 + K]) / W->Strides[K] + 1;
    if (PD[2 + K] < Span[2 + K] || O < 1)
      return I.fail("the kernel " + dimsText(Span) + " does not fit x " +
                    dimsText(PD));
    Out.push_back(O);
  }
  if (S == 3) {
    Expected<std::string> E =
        conv3d(I, Xp, PD, Kern, KD, G, W->Strides, W->Dilations[0], Out);
    if (!E)
      return E.takeError();
    return addBias(I, *E, M, S, (*X)->Elem, Out);
  }
  // 3. Groups.
  std::string Fn = S == 2 ? "conv2d(" : "conv1d(";
  std::string Tail = ", stride = " + std::to_string(W->Strides[S - 1]) +
                     (Padding ? ", padding = " + std::to_string(Padding) : "") +
                     ")";
  std::string Expr;
  if (G == 1) {
    Expr = Fn + Xp + ", " + Kern + Tail;
  } else {
    std::string XS = isSimpleRef(Xp) ? Xp : I.temp(Xp, "x");
    std::string KS = isSimpleRef(Kern) ? Kern : I.temp(Kern, "kernel");
    Expr = "concat(";
    for (int64_t K = 0; K < G; ++K)
      Expr += (K ? ", " : "") + Fn + "slice(" + XS + ", 1, " +
              std::to_string(K * C / G) + ", " +
              std::to_string((K + 1) * C / G) + "), slice(" + KS + ", 0, " +
              std::to_string(K * M / G) + ", " +
              std::to_string((K + 1) * M / G) + ")" + Tail;
    Expr += ", axis = 1)";
  }
  return addBias(I, Expr, M, S, (*X)->Elem, Out);
}

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

/// Pad: `pads` (begin values of every axis, then end values; negative
/// crops) as an attribute before opset 11, an input after; constant value,
/// edge or reflect.
Error opPad(Importer &I) {
  if (Error E = I.checkAttrs({"mode", "pads", "paddings", "value"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  size_t Rank = (*X)->Dims.size();
  std::vector<int64_t> Pads;
  double Value = 0;
  if (I.opset() < 11) {
    Expected<std::optional<std::vector<int64_t>>> P =
        I.attrInts(I.opset() < 2 ? "paddings" : "pads");
    if (!P)
      return P.takeError();
    Pads = P->value_or(std::vector<int64_t>{});
    Expected<double> V = I.attrFloat("value", 0);
    if (!V)
      return V.takeError();
    Value = *V;
  } else {
    Expected<std::vector<int64_t>> P = I.intsIn(1, "pads");
    if (!P)
      return P.takeError();
    Pads = *P;
    if (I.has(2)) {
      Expected<std::vector<double>> V = I.constIn(2, "constant_value");
      if (!V)
        return V.takeError();
      if (!V->empty())
        Value = V->front();
    }
    if (I.has(3)) {
      // Pads for the listed axes only (opset 18).
      Expected<std::vector<int64_t>> Axes = I.intsIn(3, "axes");
      if (!Axes)
        return Axes.takeError();
      std::vector<int64_t> Full(2 * Rank, 0);
      for (size_t K = 0; K < Axes->size(); ++K) {
        Expected<int64_t> A = normAxis(I, (*Axes)[K], int64_t(Rank));
        if (!A)
          return A.takeError();
        Full[*A] = Pads.at(K);
        Full[Rank + *A] = Pads.at(Axes->size() + K);
      }
      Pads = Full;
    }
  }
  if (Pads.size() != 2 * Rank)
    return I.fail("pads " + dimsText(Pads) + " need 2 values per axis of " +
                  dimsText((*X)->Dims));
  Expected<std::string> Mode = I.attrString("mode", "constant");
  if (!Mode)
    return Mode.takeError();
  if (*Mode != "constant" && *Mode != "edge" && *Mode != "reflect")
    return I.unsupported("mode '" + *Mode + "'");
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  bool IsInt = (*X)->computed() == DType::I32;
  std::string Fill =
      *Mode == "constant" ? numberText(float(Value), IsInt) : *Mode;
  Shape D = (*X)->Dims;
  std::string Expr = *XE;
  for (size_t A = 0; A < Rank; ++A) {
    int64_t B = Pads[A], E = Pads[Rank + A];
    if (B < 0 || E < 0) {
      Expr = cropAxis(Expr, D, int64_t(A), std::max<int64_t>(0, -B),
                      std::max<int64_t>(0, -E));
      B = std::max<int64_t>(0, B);
      E = std::max<int64_t>(0, E);
    }
    if (*Mode == "reflect" && (B >= D[A] || E >= D[A]))
      return I.fail("reflect pads of " + llvm::Twine(std::max(B, E)) +
                    " need an axis longer than " + llvm::Twine(D[A]));
    Expr = padAxis(I, Expr, D, int64_t(A), B, E, Fill, IsInt);
  }
  return I.define(0, Expr, (*X)->Elem, D);
}

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

void onnx_import::registerConvOps(OpRegistry &R) {
  R["Conv"] = opConv;
  R["MaxPool"] = opMaxPool;
  R["AveragePool"] = opAveragePool;
  R["GlobalAveragePool"] = opGlobalAveragePool;
  R["GlobalMaxPool"] = opGlobalMaxPool;
  R["Pad"] = opPad;
  R["LRN"] = opLRN;
}
