//===- OpsConvTranspose.cpp - ONNX ConvTranspose as a convolution ---------===//
//
// A transposed convolution is the convolution, at stride 1, of
//   1. x with stride - 1 zeros between its elements along each spatial
//      axis (x reshaped to [.., L, 1, ..], joined with `full(0)` blocks to
//      [.., L, stride, ..], flattened and cut to (L - 1) stride + 1),
//   2. padded by k' - 1 - pad at the start and k' - 1 - pad + output_padding
//      at the end (k' the dilated kernel size; negative amounts crop),
// with the kernel's channel axes swapped and its spatial axes reversed
// (and dilated). Groups are one such convolution per group, joined along
// the channels. output_shape, when given, decides the pads (the ONNX
// formula: the total split in half, the odd one at the end for SAME_UPPER,
// at the start otherwise).
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

namespace {

std::string sliceText(const std::string &X, int64_t Axis, int64_t Start,
                      int64_t End) {
  return "slice(" + X + ", " + std::to_string(Axis) + ", " +
         std::to_string(Start) + ", " + std::to_string(End) + ")";
}

/// X with its `Axis` reversed (joined single slices).
std::string reverseAxis(const std::string &X, int64_t Axis, int64_t Len) {
  if (Len == 1)
    return X;
  std::string E = "concat(";
  for (int64_t K = Len; K-- > 0;)
    E += sliceText(X, Axis, K, K + 1) + ", ";
  return E + "axis = " + std::to_string(Axis) + ")";
}

/// X (dims `D`) with `Gap` zeros between its elements along `Axis`.
std::string spreadAxis(Importer &I, const std::string &X, Shape &D,
                       int64_t Axis, int64_t Gap) {
  if (Gap == 0 || D[Axis] == 1)
    return X;
  int64_t L = D[Axis];
  Shape One = D, Zeros = D, Flat = D;
  One.insert(One.begin() + Axis + 1, 1);
  Zeros.insert(Zeros.begin() + Axis + 1, Gap);
  Flat[Axis] = L * (Gap + 1);
  std::string E = "slice(reshape(concat(reshape(" + X + ", " + dimsText(One) +
                  "), full(" + dimsText(Zeros) +
                  ", 0), axis = " + std::to_string(Axis + 1) + "), " +
                  dimsText(Flat) + "), " + std::to_string(Axis) + ", 0, " +
                  std::to_string((L - 1) * (Gap + 1) + 1) + ")";
  D[Axis] = (L - 1) * (Gap + 1) + 1;
  return I.temp(E, "spread");
}

/// X padded (or, for negative amounts, cut) by Before/After zeros.
std::string padOrCut(const std::string &X, Shape &D, int64_t Axis,
                     int64_t Before, int64_t After) {
  std::string E = X;
  if (Before < 0 || After < 0) {
    int64_t B = std::max<int64_t>(0, -Before), A = std::max<int64_t>(0, -After);
    E = sliceText(E, Axis, B, D[Axis] - A);
    D[Axis] -= A + B;
  }
  Before = std::max<int64_t>(0, Before);
  After = std::max<int64_t>(0, After);
  if (!Before && !After)
    return E;
  std::string Parts = "concat(";
  Shape Blk = D;
  if (Before) {
    Blk[Axis] = Before;
    Parts += "full(" + dimsText(Blk) + ", 0), ";
  }
  Parts += E;
  if (After) {
    Blk[Axis] = After;
    Parts += ", full(" + dimsText(Blk) + ", 0)";
  }
  D[Axis] += Before + After;
  return Parts + ", axis = " + std::to_string(Axis) + ")";
}

Error opConvTranspose(Importer &I) {
  if (Error E =
          I.checkAttrs({"auto_pad", "dilations", "group", "kernel_shape",
                        "output_padding", "output_shape", "pads", "strides"}))
    return E;
  Expected<Value *> X = I.in(0), W = I.in(1);
  if (!X)
    return X.takeError();
  if (!W)
    return W.takeError();
  const Shape &XD = (*X)->Dims, &WD = (*W)->Dims;
  if (XD.size() != 3 && XD.size() != 4)
    return I.unsupported(llvm::Twine(XD.size() - 2) +
                         "-D transposed convolutions (nnc has 1-D and 2-D)");
  if (WD.size() != XD.size())
    return I.fail("x " + dimsText(XD) + " and the kernel " + dimsText(WD) +
                  " differ in rank");
  size_t S = XD.size() - 2;
  Expected<int64_t> GroupAttr = I.attrInt("group", 1);
  if (!GroupAttr)
    return GroupAttr.takeError();
  int64_t G = *GroupAttr, C = XD[1];
  if (G < 1 || C % G || WD[0] != C)
    return I.fail("x has " + llvm::Twine(C) + " channels, the kernel " +
                  dimsText(WD) + ", in " + llvm::Twine(G) +
                  " groups: they do not fit");
  int64_t Mg = WD[1], M = Mg * G;
  auto Ints = [&](const char *Name, int64_t Default,
                  size_t N) -> Expected<std::vector<int64_t>> {
    Expected<std::optional<std::vector<int64_t>>> A = I.attrInts(Name);
    if (!A)
      return A.takeError();
    if (!*A || (*A)->empty())
      return std::vector<int64_t>(N, Default);
    if ((*A)->size() != N)
      return I.fail("attribute '" + llvm::Twine(Name) + "' has " +
                    llvm::Twine((*A)->size()) + " values, not " +
                    llvm::Twine(N));
    return **A;
  };
  Expected<std::vector<int64_t>> St = Ints("strides", 1, S),
                                 Di = Ints("dilations", 1, S),
                                 Pa = Ints("pads", 0, 2 * S),
                                 OP = Ints("output_padding", 0, S);
  if (!St)
    return St.takeError();
  if (!Di)
    return Di.takeError();
  if (!Pa)
    return Pa.takeError();
  if (!OP)
    return OP.takeError();
  Expected<std::string> Auto = I.attrString("auto_pad", "NOTSET");
  if (!Auto)
    return Auto.takeError();
  Expected<std::optional<std::vector<int64_t>>> OutShape =
      I.attrInts("output_shape");
  if (!OutShape)
    return OutShape.takeError();
  std::vector<int64_t> Keff(S), Out(S);
  if (*OutShape && !(*OutShape)->empty() && (*OutShape)->size() < S)
    return I.fail("attribute 'output_shape' has " +
                  llvm::Twine((*OutShape)->size()) + " values, fewer than " +
                  llvm::Twine(S) + " spatial dimensions");
  // The attributes are any int64: the sizes are computed in 128 bits and
  // must stay within 2^40 elements (MaxTensorElements), so that nothing
  // here or below overflows (found by fuzzing).
  using Wide = __int128;
  auto Fits = [](Wide V) {
    return V >= -Wide(MaxTensorElements) && V <= Wide(MaxTensorElements);
  };
  for (size_t K = 0; K < S; ++K) {
    if ((*St)[K] < 1 || (*Di)[K] < 1)
      return I.fail("strides and dilations must be positive");
    Wide KeffW = Wide(WD[2 + K] - 1) * (*Di)[K] + 1;
    Wide Full = Wide((*St)[K]) * (XD[2 + K] - 1) + (*OP)[K] + KeffW;
    Wide Lo = (*Pa)[K], Hi = (*Pa)[S + K];
    if (*OutShape && !(*OutShape)->empty()) {
      const std::vector<int64_t> &OS = **OutShape;
      Wide Total = Full - OS[OS.size() - S + K];
      // Halves round down (a negative total grows the output at the end).
      Wide Half = Total >= 0 ? Total / 2 : -((1 - Total) / 2);
      bool Upper = *Auto == "SAME_UPPER";
      Lo = Upper ? Half : Total - Half;
      Hi = Total - Lo;
    } else if (*Auto == "SAME_UPPER" || *Auto == "SAME_LOWER") {
      Wide Total = Full - Wide(XD[2 + K]) * (*St)[K];
      Lo = *Auto == "SAME_UPPER" ? Total / 2 : Total - Total / 2;
      Hi = Total - Lo;
    }
    Wide OutW = Full - Lo - Hi;
    if (!Fits(KeffW) || !Fits(Full) || !Fits(Lo) || !Fits(Hi) ||
        !Fits((*OP)[K]) || !Fits(OutW))
      return I.fail("its sizes (strides, dilations, pads, output_padding, "
                    "output_shape) exceed 2^40");
    Keff[K] = int64_t(KeffW);
    (*Pa)[K] = int64_t(Lo);
    (*Pa)[S + K] = int64_t(Hi);
    Out[K] = int64_t(OutW);
    if (Out[K] < 1)
      return I.fail("its output would be empty");
  }
  Expected<std::string> XE = I.use(**X), WE = I.use(**W);
  if (!XE)
    return XE.takeError();
  if (!WE)
    return WE.takeError();
  // 1.-2. x spread and padded.
  Shape D = XD;
  std::string Xs = *XE;
  for (size_t K = 0; K < S; ++K)
    Xs = spreadAxis(I, Xs, D, int64_t(2 + K), (*St)[K] - 1);
  for (size_t K = 0; K < S; ++K)
    Xs = padOrCut(Xs, D, int64_t(2 + K), Keff[K] - 1 - (*Pa)[K],
                  Keff[K] - 1 - (*Pa)[S + K] + (*OP)[K]);
  std::string XS = I.temp(Xs, "input");
  // The kernel reversed spatially, dilated; its channel axes are swapped
  // per group below.
  std::string Kern = *WE;
  for (size_t K = 0; K < S; ++K)
    Kern = reverseAxis(Kern, int64_t(2 + K), WD[2 + K]);
  Shape KD = WD;
  for (size_t K = 0; K < S; ++K) {
    if ((*Di)[K] == 1)
      continue;
    Kern = spreadAxis(I, Kern, KD, int64_t(2 + K), (*Di)[K] - 1);
  }
  std::string KS = I.temp(Kern, "kernel");
  std::vector<int64_t> Swap{1, 0};
  for (size_t K = 0; K < S; ++K)
    Swap.push_back(int64_t(2 + K));
  std::string Fn = S == 2 ? "conv2d(" : "conv1d(";
  std::string Expr;
  if (G == 1) {
    Expr = Fn + XS + ", permute(" + KS + ", " + dimsText(Swap) + "))";
  } else {
    Expr = "concat(";
    for (int64_t K = 0; K < G; ++K)
      Expr += Fn + sliceText(XS, 1, K * C / G, (K + 1) * C / G) + ", permute(" +
              sliceText(KS, 0, K * C / G, (K + 1) * C / G) + ", " +
              dimsText(Swap) + ")), ";
    Expr += "axis = 1)";
  }
  if (I.has(2)) {
    Expected<std::string> BE = I.useIn(2);
    if (!BE)
      return BE.takeError();
    Shape BD{M};
    for (size_t K = 0; K < S; ++K)
      BD.push_back(1);
    Expr = "(" + Expr + " + reshape(" + *BE + ", " + dimsText(BD) + "))";
  }
  Shape OutDims{XD[0], M};
  OutDims.append(Out.begin(), Out.end());
  return I.define(0, Expr, (*X)->Elem, OutDims);
}

} // namespace

void onnx_import::registerConvTransposeOps(OpRegistry &R) {
  R["ConvTranspose"] = opConvTranspose;
}
