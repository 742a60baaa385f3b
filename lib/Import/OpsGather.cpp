//===- OpsGather.cpp - ONNX operators that index by computed indices ------===//
//
// nnc has no gather of computed indices; `one_hot` of the indices selects
// instead (exact for finite values: every other element is added times 0):
//   Gather (indices not known at import time, an embedding lookup):
//     one_hot(idx, D) @ x, x's axis moved first and the rest flattened;
//   GatherElements along axis a: sum(one_hot(idx) * x, over x's axis a),
//     both with axis a moved last;
//   NegativeLogLikelihoodLoss: the picked -x[n, t[n], ...] is
//     sum(x * one_hot(t) moved to axis 1) (ignore_index becomes the label
//     -1, whose one_hot row is all zeros), times the class weight picked
//     the same way; mean divides by the weights' sum;
//   SoftmaxCrossEntropyLoss: the same of log_softmax(scores, axis 1).
// Also here: Trilu (a 0/1 mask known at import time), CumSum (a product
// with a triangular 0/1 matrix), CastLike.
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

#include <numeric>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

namespace {

int64_t product(llvm::ArrayRef<int64_t> D) {
  return std::accumulate(D.begin(), D.end(), int64_t(1),
                         std::multiplies<int64_t>());
}

/// The permutation that moves axis `From` of a rank-`Rank` tensor to `To`.
std::vector<int64_t> moveAxis(int64_t Rank, int64_t From, int64_t To) {
  std::vector<int64_t> P;
  for (int64_t K = 0; K < Rank; ++K)
    if (K != From)
      P.push_back(K);
  P.insert(P.begin() + To, From);
  return P;
}

std::vector<int64_t> inverse(const std::vector<int64_t> &P) {
  std::vector<int64_t> Inv(P.size());
  for (size_t K = 0; K < P.size(); ++K)
    Inv[P[K]] = int64_t(K);
  return Inv;
}

std::string permuteText(const std::string &X, const std::vector<int64_t> &P) {
  for (size_t K = 0; K < P.size(); ++K)
    if (P[K] != int64_t(K))
      return "permute(" + X + ", " + dimsText(P) + ")";
  return X;
}

/// Indices made non-negative: idx + D where idx < 0 (an i32 expression).
std::string wrapIndices(const std::string &Idx, int64_t D) {
  return "(" + Idx + " + " + std::to_string(D) + " * i32(" + Idx + " < 0))";
}

/// Gather of indices computed at run time (opGather handles the others).
Error gatherComputed(Importer &I, Value &X, Value &Idx, int64_t Axis) {
  const Shape &XD = X.Dims;
  int64_t D = XD[Axis];
  Expected<std::string> XE = I.use(X), IE = I.use(Idx);
  if (!XE)
    return XE.takeError();
  if (!IE)
    return IE.takeError();
  std::string IS = isSimpleRef(*IE) ? *IE : I.temp(*IE, "indices");
  int64_t Rows = product(Idx.Dims);
  std::string Hot = "reshape(one_hot(" + wrapIndices(IS, D) + ", " +
                    std::to_string(D) + "), " + dimsText({Rows, D}) + ")";
  // x with its axis first, the rest flattened: [D, rest].
  int64_t Rank = int64_t(XD.size());
  std::vector<int64_t> P = moveAxis(Rank, Axis, 0);
  int64_t Rest = product(XD) / D;
  std::string Xf = X.computed() == DType::I32 ? "f32(" + *XE + ")" : *XE;
  std::string Mat =
      "reshape(" + permuteText(Xf, P) + ", " + dimsText({D, Rest}) + ")";
  // [idx..., x's other axes], then idx's axes moved to where the axis was.
  Shape Picked = Idx.Dims, Out(XD.begin(), XD.begin() + Axis);
  for (int64_t K = 0; K < Rank; ++K)
    if (K != Axis)
      Picked.push_back(XD[K]);
  Out.append(Idx.Dims.begin(), Idx.Dims.end());
  Out.append(XD.begin() + Axis + 1, XD.end());
  std::string Expr =
      "reshape((" + Hot + " @ " + Mat + "), " + dimsText(Picked) + ")";
  int64_t IR = int64_t(Idx.Dims.size());
  std::vector<int64_t> Back;
  for (int64_t K = 0; K < Axis; ++K)
    Back.push_back(IR + K);
  for (int64_t K = 0; K < IR; ++K)
    Back.push_back(K);
  for (int64_t K = Axis + 1; K < Rank; ++K)
    Back.push_back(IR + K - 1);
  Expr = permuteText(Expr, Back);
  if (X.computed() == DType::I32)
    Expr = "i32(" + Expr + ")";
  return I.define(0, Expr, X.Elem, Out);
}

Error opGatherElements(Importer &I) {
  if (Error E = I.checkAttrs({"axis"}))
    return E;
  Expected<Value *> X = I.in(0), Idx = I.in(1);
  if (!X)
    return X.takeError();
  if (!Idx)
    return Idx.takeError();
  const Shape &XD = (*X)->Dims, &ID = (*Idx)->Dims;
  int64_t Rank = int64_t(XD.size());
  if (int64_t(ID.size()) != Rank)
    return I.fail("indices " + dimsText(ID) + " and data " + dimsText(XD) +
                  " differ in rank");
  Expected<int64_t> AxisAttr = I.attrInt("axis", 0);
  if (!AxisAttr)
    return AxisAttr.takeError();
  Expected<int64_t> Axis = normAxis(I, *AxisAttr, Rank);
  if (!Axis)
    return Axis.takeError();
  Expected<std::string> XE = I.use(**X), IE = I.use(**Idx);
  if (!XE)
    return XE.takeError();
  if (!IE)
    return IE.takeError();
  // x cut to the indices' extent on the other axes.
  std::string Xs = (*X)->computed() == DType::I32 ? "f32(" + *XE + ")" : *XE;
  for (int64_t K = 0; K < Rank; ++K) {
    if (K == *Axis || ID[K] == XD[K])
      continue;
    if (ID[K] > XD[K])
      return I.fail("indices " + dimsText(ID) + " exceed data " + dimsText(XD) +
                    " on axis " + llvm::Twine(K));
    Xs = "slice(" + Xs + ", " + std::to_string(K) + ", 0, " +
         std::to_string(ID[K]) + ")";
  }
  int64_t D = XD[*Axis];
  std::vector<int64_t> P = moveAxis(Rank, *Axis, Rank - 1);
  Shape XP; // x permuted, with a 1 before its last axis
  for (int64_t K : P)
    XP.push_back(K == *Axis ? D : ID[K]);
  XP.insert(XP.end() - 1, 1);
  std::string Hot = "one_hot(" + permuteText(wrapIndices(*IE, D), P) + ", " +
                    std::to_string(D) + ")";
  std::string Expr = "sum(" + Hot + " * reshape(" + permuteText(Xs, P) + ", " +
                     dimsText(XP) + "), axis = -1)";
  Expr = permuteText(Expr, inverse(P));
  if ((*X)->computed() == DType::I32)
    Expr = "i32(" + Expr + ")";
  return I.define(0, Expr, (*X)->Elem, ID);
}

/// The NLL of log-probabilities `LogP` ([N, C, d...]) for `Target`
/// ([N, d...]); defines output 0 (and leaves output 1 to the caller).
Error nll(Importer &I, const std::string &LogP, const Shape &Dims,
          OnnxType Elem, unsigned TargetInput, unsigned WeightInput) {
  Expected<std::string> Reduction = I.attrString("reduction", "mean");
  if (!Reduction)
    return Reduction.takeError();
  if (*Reduction != "none" && *Reduction != "sum" && *Reduction != "mean")
    return I.fail("reduction '" + *Reduction + "' is not an ONNX value");
  Expected<Value *> T = I.in(TargetInput);
  if (!T)
    return T.takeError();
  Shape TD = Dims;
  TD.erase(TD.begin() + 1);
  if ((*T)->Dims != TD)
    return I.fail("target " + dimsText((*T)->Dims) + " does not match " +
                  dimsText(Dims) + " without its class axis");
  Expected<std::string> TE = I.use(**T);
  if (!TE)
    return TE.takeError();
  int64_t C = Dims[1], Rank = int64_t(Dims.size());
  std::string Target = *TE;
  if (I.attr("ignore_index")) {
    Expected<int64_t> Ignore = I.attrInt("ignore_index", 0);
    if (!Ignore)
      return Ignore.takeError();
    std::string TS = isSimpleRef(Target) ? Target : I.temp(Target, "target");
    // The ignored label becomes -1, whose one_hot row is all zeros.
    Target = "(" + TS + " + " + std::to_string(-1 - *Ignore) + " * i32(" + TS +
             " == " + std::to_string(*Ignore) + "))";
  }
  std::string Hot =
      I.temp(permuteText("one_hot(" + Target + ", " + std::to_string(C) + ")",
                         moveAxis(Rank, Rank - 1, 1)),
             "onehot");
  std::string Picked = "sum(" + LogP + " * " + Hot + ", axis = 1)";
  std::string Weight = "sum(" + Hot + ", axis = 1)";
  if (I.has(WeightInput)) {
    Expected<std::string> WE = I.useIn(WeightInput);
    if (!WE)
      return WE.takeError();
    Shape WD{C};
    for (int64_t K = 2; K < Rank; ++K)
      WD.push_back(1);
    std::string W =
        WD.size() == 1 ? *WE : "reshape(" + *WE + ", " + dimsText(WD) + ")";
    Weight = "sum(" + Hot + " * " + W + ", axis = 1)";
  }
  std::string WT = I.temp(Weight, "weight");
  std::string Loss = "(-" + Picked + " * " + WT + ")";
  if (*Reduction == "none")
    return I.define(0, Loss, Elem, TD);
  if (*Reduction == "sum")
    return I.define(0, "sum(" + Loss + ")", Elem, {});
  return I.define(0, "(sum(" + Loss + ") / sum(" + WT + "))", Elem, {});
}

Error opNegativeLogLikelihoodLoss(Importer &I) {
  if (Error E = I.checkAttrs({"reduction", "ignore_index"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  if ((*X)->Dims.size() < 2)
    return I.fail("input " + dimsText((*X)->Dims) + " has no class axis");
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  return nll(I, *XE, (*X)->Dims, (*X)->Elem, 1, 2);
}

Error opSoftmaxCrossEntropyLoss(Importer &I) {
  if (Error E = I.checkAttrs({"reduction", "ignore_index"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  if ((*X)->Dims.size() < 2)
    return I.fail("scores " + dimsText((*X)->Dims) + " have no class axis");
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  std::string LogP = I.temp("log_softmax(" + *XE + ", axis = 1)", "logprob");
  if (Error E = nll(I, LogP, (*X)->Dims, (*X)->Elem, 1, 2))
    return E;
  return I.define(1, LogP, (*X)->Elem, (*X)->Dims);
}

/// Trilu: x times the 0/1 mask of its upper (j - i >= k) or lower
/// (j - i <= k) triangle, built here.
Error opTrilu(Importer &I) {
  if (Error E = I.checkAttrs({"upper"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  const Shape &D = (*X)->Dims;
  if (D.size() < 2)
    return I.fail("x " + dimsText(D) + " is no matrix");
  int64_t K = 0;
  if (I.has(1)) {
    Expected<std::vector<int64_t>> KV = I.intsIn(1, "k");
    if (!KV)
      return KV.takeError();
    if (KV->size() != 1)
      return I.fail("k must be one integer");
    K = KV->front();
  }
  Expected<int64_t> Upper = I.attrInt("upper", 1);
  if (!Upper)
    return Upper.takeError();
  int64_t N = D[D.size() - 2], M = D.back();
  if (!foldable({N, M}))
    return I.unsupported("masks of more than 2^24 elements");
  std::vector<double> Mask;
  for (int64_t R = 0; R < N; ++R)
    for (int64_t C = 0; C < M; ++C)
      Mask.push_back(*Upper ? C - R >= K : C - R <= K);
  bool IsInt = (*X)->computed() == DType::I32;
  Expected<std::string> MaskE =
      I.constant(IsInt ? onnx::TensorProto_DataType_INT32
                       : onnx::TensorProto_DataType_FLOAT,
                 {N, M}, std::move(Mask), "mask");
  if (!MaskE)
    return MaskE.takeError();
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  return I.define(0, "(" + *XE + " * " + *MaskE + ")", (*X)->Elem, D);
}

/// CumSum along `axis` (an input known at import time): the axis moved
/// last, times the triangular 0/1 matrix of (exclusive, reverse) sums.
Error opCumSum(Importer &I) {
  if (Error E = I.checkAttrs({"exclusive", "reverse"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<std::vector<int64_t>> AxisV = I.intsIn(1, "axis");
  if (!AxisV)
    return AxisV.takeError();
  if (AxisV->size() != 1)
    return I.fail("axis must be one integer");
  const Shape &D = (*X)->Dims;
  int64_t Rank = int64_t(D.size());
  Expected<int64_t> Axis = normAxis(I, AxisV->front(), Rank);
  if (!Axis)
    return Axis.takeError();
  Expected<int64_t> Excl = I.attrInt("exclusive", 0),
                    Rev = I.attrInt("reverse", 0);
  if (!Excl)
    return Excl.takeError();
  if (!Rev)
    return Rev.takeError();
  int64_t N = D[*Axis];
  if (N > 4096)
    return I.unsupported("cumulative sums along axes longer than 4096");
  // T[i][j] = 1 where input i adds into output j.
  std::vector<double> T;
  for (int64_t R = 0; R < N; ++R)
    for (int64_t C = 0; C < N; ++C)
      T.push_back(*Rev ? (*Excl ? R > C : R >= C) : (*Excl ? R < C : R <= C));
  Expected<std::string> TE = I.constant(onnx::TensorProto_DataType_FLOAT,
                                        {N, N}, std::move(T), "triangle");
  if (!TE)
    return TE.takeError();
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  bool IsInt = (*X)->computed() == DType::I32;
  std::string Xf = IsInt ? "f32(" + *XE + ")" : *XE;
  std::vector<int64_t> P = moveAxis(Rank, *Axis, Rank - 1);
  Shape PD;
  for (int64_t K : P)
    PD.push_back(D[K]);
  std::string Expr = "reshape((reshape(" + permuteText(Xf, P) + ", " +
                     dimsText({product(D) / N, N}) + ") @ " + *TE + "), " +
                     dimsText(PD) + ")";
  Expr = permuteText(Expr, inverse(P));
  if (IsInt)
    Expr = "i32(" + Expr + ")";
  return I.define(0, Expr, (*X)->Elem, D);
}

/// CastLike: Cast to the second input's element type.
Error opCastLike(Importer &I) {
  if (Error E = I.checkAttrs({"saturate"}))
    return E;
  Expected<Value *> X = I.in(0), Like = I.in(1);
  if (!X)
    return X.takeError();
  if (!Like)
    return Like.takeError();
  return castTo(I, **X, (*Like)->Elem);
}

} // namespace

Error onnx_import::gatherComputedIndices(Importer &I, Value &X, Value &Idx,
                                         int64_t Axis) {
  return gatherComputed(I, X, Idx, Axis);
}

void onnx_import::registerGatherOps(OpRegistry &R) {
  R["GatherElements"] = opGatherElements;
  R["NegativeLogLikelihoodLoss"] = opNegativeLogLikelihoodLoss;
  R["SoftmaxCrossEntropyLoss"] = opSoftmaxCrossEntropyLoss;
  R["Trilu"] = opTrilu;
  R["CumSum"] = opCumSum;
  R["CastLike"] = opCastLike;
}
