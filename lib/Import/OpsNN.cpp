//===- OpsNN.cpp - ONNX products, convolutions and normalizations ---------===//
//
//   Gemm         alpha (A' @ B') + beta C, A' = transpose(A) with transA
//   MatMul       `@` for matrices (and a batch of A times one B, as one
//                matrix product); batched products with broadcasting as
//                sum(A[..., M, K, 1] * B[..., 1, K, N], axis = K's)
//   Conv         conv2d / conv1d; asymmetric or 1-D padding as `full(0)`
//                blocks joined around x, dilation as zero rows and columns
//                joined into the kernel, groups as one convolution per
//                group joined along the channels, bias added per channel
//   BatchNormalization (inference), InstanceNormalization,
//   LayerNormalization: their formulas with the per-channel tensors
//                reshaped to broadcast
//   PRelu        relu(x) + slope min(x, 0)
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

#include <cmath>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

namespace {

/// Per-channel tensor `V` ([C]) reshaped to broadcast along axis 1 of a
/// rank-`Rank` tensor: [C, 1, ...].
std::string perChannel(const std::string &V, int64_t C, size_t Rank) {
  Shape D{C};
  for (size_t K = 2; K < Rank; ++K)
    D.push_back(1);
  if (D.size() == 1)
    return V;
  return "reshape(" + V + ", " + dimsText(D) + ")";
}

Error opGemm(Importer &I) {
  if (Error E =
          I.checkAttrs({"alpha", "beta", "transA", "transB", "broadcast"}))
    return E;
  Expected<Value *> A = I.in(0);
  if (!A)
    return A.takeError();
  Expected<Value *> B = I.in(1);
  if (!B)
    return B.takeError();
  if ((*A)->Dims.size() != 2 || (*B)->Dims.size() != 2)
    return I.fail("A " + dimsText((*A)->Dims) + " and B " +
                  dimsText((*B)->Dims) + " must be matrices");
  Expected<int64_t> TA = I.attrInt("transA", 0), TB = I.attrInt("transB", 0);
  if (!TA)
    return TA.takeError();
  if (!TB)
    return TB.takeError();
  Expected<double> Alpha = I.attrFloat("alpha", 1),
                   Beta = I.attrFloat("beta", 1);
  if (!Alpha)
    return Alpha.takeError();
  if (!Beta)
    return Beta.takeError();
  int64_t M = (*A)->Dims[*TA ? 1 : 0], K = (*A)->Dims[*TA ? 0 : 1];
  int64_t K2 = (*B)->Dims[*TB ? 1 : 0], N = (*B)->Dims[*TB ? 0 : 1];
  if (K != K2)
    return I.fail("inner dimensions " + llvm::Twine(K) + " and " +
                  llvm::Twine(K2) + " differ");
  Expected<std::string> AE = I.use(**A), BE = I.use(**B);
  if (!AE)
    return AE.takeError();
  if (!BE)
    return BE.takeError();
  std::string Expr = "(" + (*TA ? "transpose(" + *AE + ")" : *AE) + " @ " +
                     (*TB ? "transpose(" + *BE + ")" : *BE) + ")";
  if (*Alpha != 1)
    Expr = "(" + numberText(float(*Alpha), false) + " * " + Expr + ")";
  Shape Out{M, N};
  if (I.has(2) && *Beta != 0) {
    Expected<Value *> C = I.in(2);
    if (!C)
      return C.takeError();
    std::optional<Shape> S = broadcastShapes(Out, (*C)->Dims);
    if (!S || *S != Out)
      return I.fail("C " + dimsText((*C)->Dims) + " does not broadcast to " +
                    dimsText(Out));
    Expected<std::string> CE = I.use(**C);
    if (!CE)
      return CE.takeError();
    std::string CT = *CE;
    if (*Beta != 1)
      CT = "(" + numberText(float(*Beta), false) + " * " + CT + ")";
    Expr = "(" + Expr + " + " + CT + ")";
  }
  return I.define(0, Expr, (*A)->Elem, Out);
}

Error opMatMul(Importer &I) {
  if (Error E = I.checkAttrs({}))
    return E;
  Expected<Value *> A = I.in(0);
  if (!A)
    return A.takeError();
  Expected<Value *> B = I.in(1);
  if (!B)
    return B.takeError();
  if (!isFloatType((*A)->Elem))
    return I.unsupported("element type " + onnxTypeName((*A)->Elem));
  Shape AD = (*A)->Dims, BD = (*B)->Dims;
  if (AD.empty() || BD.empty())
    return I.fail("its operands must have a rank of at least 1");
  Expected<std::string> AE = I.use(**A), BE = I.use(**B);
  if (!AE)
    return AE.takeError();
  if (!BE)
    return BE.takeError();
  // NumPy: a vector is a row (A) or a column (B), dropped from the result.
  bool AVec = AD.size() == 1, BVec = BD.size() == 1;
  if (AVec)
    AD.insert(AD.begin(), 1);
  if (BVec)
    BD.push_back(1);
  int64_t M = AD[AD.size() - 2], K = AD.back(), N = BD.back();
  if (BD[BD.size() - 2] != K)
    return I.fail("inner dimensions of " + dimsText((*A)->Dims) + " and " +
                  dimsText((*B)->Dims) + " differ");
  Shape ABatch(AD.begin(), AD.end() - 2), BBatch(BD.begin(), BD.end() - 2);
  std::optional<Shape> Batch = broadcastShapes(ABatch, BBatch);
  if (!Batch)
    return I.fail("batch dimensions of " + dimsText((*A)->Dims) + " and " +
                  dimsText((*B)->Dims) + " do not broadcast");
  Shape Out = *Batch;
  if (!AVec)
    Out.push_back(M);
  if (!BVec)
    Out.push_back(N);
  std::string AT =
      AD == (*A)->Dims ? *AE : "reshape(" + *AE + ", " + dimsText(AD) + ")";
  std::string BT =
      BD == (*B)->Dims ? *BE : "reshape(" + *BE + ", " + dimsText(BD) + ")";
  std::string Expr;
  bool BMatrix = llvm::all_of(BBatch, [](int64_t D) { return D == 1; }) &&
                 BBatch.size() <= ABatch.size();
  if (AD.size() == 2 && BD.size() == 2) {
    Expr = "(" + AT + " @ " + BT + ")";
  } else if (BMatrix) {
    // Every row of every matrix of A times one B: one matrix product.
    int64_t Rows = M;
    for (int64_t D : ABatch)
      Rows *= D;
    if (!BBatch.empty())
      BT = "reshape(" + BT + ", " + dimsText({K, N}) + ")";
    Expr = "(reshape(" + AT + ", " + dimsText({Rows, K}) + ") @ " + BT + ")";
  } else {
    // [..., M, K, 1] * [..., 1, K, N], summed over K.
    Shape A3 = AD, B3 = BD;
    A3.push_back(1);
    B3.insert(B3.end() - 2, 1);
    size_t Rank = std::max(A3.size(), B3.size());
    Expr = "sum(reshape(" + AT + ", " + dimsText(A3) + ") * reshape(" + BT +
           ", " + dimsText(B3) + "), axis = " + std::to_string(Rank - 2) + ")";
  }
  Shape Natural = *Batch;
  Natural.push_back(M);
  Natural.push_back(N);
  if (Natural != Out || (BMatrix && !(AD.size() == 2 && BD.size() == 2)))
    Expr = "reshape(" + Expr + ", " + dimsText(Out) + ")";
  return I.define(0, Expr, (*A)->Elem, Out);
}

/// Inference-mode BatchNormalization: (x - mean) (scale / sqrt(var + eps))
/// + B, per channel (axis 1).
Error opBatchNormalization(Importer &I) {
  if (Error E = I.checkAttrs({"epsilon", "momentum", "is_test", "spatial",
                              "training_mode", "consumed_inputs"}))
    return E;
  Expected<int64_t> Training = I.attrInt("training_mode", 0);
  if (!Training)
    return Training.takeError();
  Expected<int64_t> Spatial = I.attrInt("spatial", 1);
  if (!Spatial)
    return Spatial.takeError();
  if (*Training || I.hasOutput(1) || I.hasOutput(2) || I.hasOutput(3) ||
      I.hasOutput(4))
    return I.unsupported("training mode (nnc imports the inference graph)");
  if (!*Spatial)
    return I.unsupported("spatial = 0");
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<double> Eps = I.attrFloat("epsilon", 1e-5);
  if (!Eps)
    return Eps.takeError();
  const Shape &D = (*X)->Dims;
  if (D.size() < 2)
    return I.fail("x " + dimsText(D) + " has no channel axis");
  std::vector<std::string> P;
  for (unsigned K = 0; K < 5; ++K) {
    Expected<Value *> V = I.in(K);
    if (!V)
      return V.takeError();
    if (K > 0 && (*V)->Dims != Shape{D[1]})
      return I.fail("input " + llvm::Twine(K) + " is " + dimsText((*V)->Dims) +
                    ", not [" + llvm::Twine(D[1]) +
                    "] (one value per channel)");
    Expected<std::string> E = I.use(**V);
    if (!E)
      return E.takeError();
    P.push_back(*E);
  }
  std::string Scale = "(" + P[1] + " / sqrt(" + P[4] + " + " +
                      numberText(float(*Eps), false) + "))";
  return I.define(0,
                  "((" + P[0] + " - " + perChannel(P[3], D[1], D.size()) +
                      ") * " + perChannel(Scale, D[1], D.size()) + " + " +
                      perChannel(P[2], D[1], D.size()) + ")",
                  (*X)->Elem, D);
}

/// Normalizes x over `Axes` (kept): (x - m) / sqrt(v + eps), m and v the
/// mean and the biased variance; returns the expression and binds m and
/// 1 / sqrt(v + eps) as temporaries named in `Mean`, `InvStd`.
std::string normalize(Importer &I, const std::string &X,
                      llvm::ArrayRef<int64_t> Axes, double Eps,
                      std::string &Mean, std::string &InvStd) {
  auto Over = [&](const std::string &E) {
    std::string R = E;
    for (int64_t A : Axes)
      R = "mean(" + R + ", axis = " + std::to_string(A) + ", keepdims = true)";
    return R;
  };
  std::string Xn = isSimpleRef(X) ? X : I.temp(X, "x");
  Mean = I.temp(Over(Xn), "mean");
  std::string Centered = I.temp("(" + Xn + " - " + Mean + ")", "centered");
  InvStd = I.temp("(1.0 / sqrt(" + Over("square(" + Centered + ")") + " + " +
                      numberText(float(Eps), false) + "))",
                  "invstd");
  return "(" + Centered + " * " + InvStd + ")";
}

Error opInstanceNormalization(Importer &I) {
  if (Error E = I.checkAttrs({"epsilon"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<double> Eps = I.attrFloat("epsilon", 1e-5);
  if (!Eps)
    return Eps.takeError();
  const Shape &D = (*X)->Dims;
  if (D.size() < 3)
    return I.fail("x " + dimsText(D) + " has no spatial axes");
  Expected<std::string> XE = I.use(**X), SE = I.useIn(1), BE = I.useIn(2);
  if (!XE)
    return XE.takeError();
  if (!SE)
    return SE.takeError();
  if (!BE)
    return BE.takeError();
  std::vector<int64_t> Axes;
  for (size_t K = 2; K < D.size(); ++K)
    Axes.push_back(int64_t(K));
  std::string Mean, InvStd;
  std::string N = normalize(I, *XE, Axes, *Eps, Mean, InvStd);
  return I.define(0,
                  "(" + N + " * " + perChannel(*SE, D[1], D.size()) + " + " +
                      perChannel(*BE, D[1], D.size()) + ")",
                  (*X)->Elem, D);
}

/// LayerNormalization (opset 17): over the axes from `axis` on; outputs
/// Mean and InvStdDev when asked for.
Error opLayerNormalization(Importer &I) {
  if (Error E = I.checkAttrs({"axis", "epsilon", "stash_type"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  const Shape &D = (*X)->Dims;
  Expected<int64_t> AxisAttr = I.attrInt("axis", -1);
  if (!AxisAttr)
    return AxisAttr.takeError();
  Expected<int64_t> Axis = normAxis(I, *AxisAttr, int64_t(D.size()));
  if (!Axis)
    return Axis.takeError();
  Expected<double> Eps = I.attrFloat("epsilon", 1e-5);
  if (!Eps)
    return Eps.takeError();
  Expected<std::string> XE = I.use(**X), SE = I.useIn(1);
  if (!XE)
    return XE.takeError();
  if (!SE)
    return SE.takeError();
  std::vector<int64_t> Axes;
  for (int64_t K = *Axis; K < int64_t(D.size()); ++K)
    Axes.push_back(K);
  std::string Mean, InvStd;
  std::string Expr =
      "(" + normalize(I, *XE, Axes, *Eps, Mean, InvStd) + " * " + *SE + ")";
  if (I.has(2)) {
    Expected<std::string> BE = I.useIn(2);
    if (!BE)
      return BE.takeError();
    Expr = "(" + Expr + " + " + *BE + ")";
  }
  if (Error E = I.define(0, Expr, (*X)->Elem, D))
    return E;
  Shape Stat = D;
  for (int64_t A : Axes)
    Stat[A] = 1;
  if (Error E = I.define(1, Mean, (*X)->Elem, Stat))
    return E;
  return I.define(2, InvStd, (*X)->Elem, Stat);
}

/// PRelu = relu(x) + slope min(x, 0); before opset 7 a [C] slope applies
/// per channel.
Error opPRelu(Importer &I) {
  if (Error E = I.checkAttrs({"consumed_inputs"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<Value *> S = I.in(1);
  if (!S)
    return S.takeError();
  Expected<std::string> XE = I.use(**X), SE = I.use(**S);
  if (!XE)
    return XE.takeError();
  if (!SE)
    return SE.takeError();
  const Shape &D = (*X)->Dims;
  std::string Slope = *SE;
  std::optional<Shape> B = broadcastShapes(D, (*S)->Dims);
  if (!B || *B != D) {
    // A [C] slope per channel (the meaning before opset 7, and what
    // exporters mean by it).
    if ((*S)->Dims.size() == 1 && D.size() >= 2 && (*S)->Dims[0] == D[1])
      Slope = perChannel(Slope, D[1], D.size());
    else
      return I.fail("slope " + dimsText((*S)->Dims) +
                    " does not broadcast to " + dimsText(D));
  }
  std::string Xn = isSimpleRef(*XE) ? *XE : I.temp(*XE, "x");
  return I.define(0, "(relu(" + Xn + ") + " + Slope + " * min(" + Xn + ", 0))",
                  (*X)->Elem, D);
}

/// MeanVarianceNormalization: (x - mean) / sqrt(variance + 1e-9) over
/// `axes` (default N, H, W), ONNX's function body.
Error opMeanVarianceNormalization(Importer &I) {
  if (Error E = I.checkAttrs({"axes"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  int64_t Rank = int64_t((*X)->Dims.size());
  Expected<std::optional<std::vector<int64_t>>> A = I.attrInts("axes");
  if (!A)
    return A.takeError();
  std::vector<int64_t> Axes = A->value_or(std::vector<int64_t>{0, 2, 3});
  for (int64_t &K : Axes) {
    Expected<int64_t> N = normAxis(I, K, Rank);
    if (!N)
      return N.takeError();
    K = *N;
  }
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  std::string Mean, InvStd;
  return I.define(0, normalize(I, *XE, Axes, 1e-9, Mean, InvStd), (*X)->Elem,
                  (*X)->Dims);
}

} // namespace

void onnx_import::registerNNOps(OpRegistry &R) {
  R["Gemm"] = opGemm;
  R["MatMul"] = opMatMul;
  R["BatchNormalization"] = opBatchNormalization;
  R["InstanceNormalization"] = opInstanceNormalization;
  R["LayerNormalization"] = opLayerNormalization;
  R["PRelu"] = opPRelu;
  R["MeanVarianceNormalization"] = opMeanVarianceNormalization;
}
