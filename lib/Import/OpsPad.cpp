//===- OpsPad.cpp - ONNX Pad, and padding for convolutions and pools ------===//
//
// Pad (constant, edge, reflect) joins `full` blocks, broadcast edge slices
// or single slices around x along each axis (padAxis, which convolutions
// and pools use too); negative pads crop with a slice.
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

#include <cmath>
#include <numeric>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

/// X (of dims `Dims`) with `Before` and `After` elements of `Fill` joined
/// along `Axis`; updates `Dims`. `Fill` is a number, or "edge"/"reflect".
std::string onnx_import::padAxis(Importer &I, const std::string &X, Shape &Dims,
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

namespace {

/// X cut by `Before`/`After` elements along Axis (negative pads).
std::string cropAxis(const std::string &X, Shape &Dims, int64_t Axis,
                     int64_t Before, int64_t After) {
  int64_t End = Dims[Axis] - After;
  Dims[Axis] = End - Before;
  return "slice(" + X + ", " + std::to_string(Axis) + ", " +
         std::to_string(Before) + ", " + std::to_string(End) + ")";
}

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

} // namespace

void onnx_import::registerPadOps(OpRegistry &R) { R["Pad"] = opPad; }
