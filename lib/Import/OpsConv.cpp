//===- OpsConv.cpp - ONNX convolutions ------------------------------------===//
//
// Conv maps to `conv2d`/`conv1d` (docs/onnx.md):
//   1. pads (explicit, or from auto_pad) become `padding` when they are the
//      same on every side of a 2-D convolution, else `full(0)` blocks
//      joined around x (padAxis, OpsPad.cpp);
//   2. dilations become zero rows and columns joined into the kernel;
//   3. groups become one convolution per group, joined along the channels;
//   4. the bias is added per channel.
// A 3-D convolution is, per output plane, the sum of the 2-D convolutions
// of the planes its window reads (conv3d below). windowOf reads the
// spatial attributes that convolutions and pools share.
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

#include <cmath>
#include <numeric>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

Expected<Window> onnx_import::windowOf(Importer &I, const Shape &XDims,
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

namespace {

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

} // namespace

void onnx_import::registerConvOps(OpRegistry &R) { R["Conv"] = opConv; }
