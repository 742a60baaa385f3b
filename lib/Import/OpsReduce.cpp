//===- OpsReduce.cpp - ONNX reductions, arg-max and softmax ---------------===//
//
// Reduce* over a list of axes is one `.nn` reduction per axis (keepdims,
// then a reshape when ONNX drops the axes); axes come from the attribute
// or, from opset 13 (ReduceSum) and 18 (the others), the optional input;
// no axes means all of them (or nothing with noop_with_empty_axes). The
// reductions nnc has no primitive for are decompositions:
//   ReduceL1 = sum |x|,  ReduceL2 = sqrt(sum x^2),  ReduceSumSquare = sum x^2,
//   ReduceLogSum = log(sum x),
//   ReduceLogSumExp = m + log(sum exp(x - m)) with m = max x (no overflow),
//   ReduceProd = the product of the axis's slices (axes up to 64 long).
// ArgMin is the arg-max of -x (ties: the first; with select_last_index,
// the first of x reversed, counted from the end); Softmax, LogSoftmax and
// Hardmax before opset 13 work on x flattened to 2-D at `axis`, after it
// along `axis`; Hardmax is one_hot(argmax), its class axis moved back.
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

#include <cmath>
#include <functional>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

namespace {

constexpr OnnxType Int64 = onnx::TensorProto_DataType_INT64;

/// The normalized, sorted axes a Reduce* node reduces; empty means none
/// (noop_with_empty_axes).
Expected<std::vector<int64_t>> reduceAxes(Importer &I, const Value &X,
                                          bool AxesInput) {
  int64_t Rank = int64_t(X.Dims.size());
  std::optional<std::vector<int64_t>> Given;
  if (AxesInput) {
    if (I.has(1)) {
      Expected<std::vector<int64_t>> A = I.intsIn(1, "axes");
      if (!A)
        return A.takeError();
      Given = *A;
    }
  } else {
    Expected<std::optional<std::vector<int64_t>>> A = I.attrInts("axes");
    if (!A)
      return A.takeError();
    Given = *A;
  }
  Expected<int64_t> Noop = I.attrInt("noop_with_empty_axes", 0);
  if (!Noop)
    return Noop.takeError();
  std::vector<int64_t> Axes;
  if (!Given || Given->empty()) {
    if (*Noop)
      return Axes;
    for (int64_t K = 0; K < Rank; ++K)
      Axes.push_back(K);
    return Axes;
  }
  std::vector<bool> Seen(Rank, false);
  for (int64_t A : *Given) {
    Expected<int64_t> K = normAxis(I, A, Rank);
    if (!K)
      return K.takeError();
    if (Seen[*K])
      return I.fail("axis " + llvm::Twine(A) + " is given twice");
    Seen[*K] = true;
  }
  for (int64_t K = 0; K < Rank; ++K)
    if (Seen[K])
      Axes.push_back(K);
  return Axes;
}

/// How one reduction writes: `Fn(x, axis = k, keepdims = true)` per axis,
/// around an optional elementwise `Pre` of x and `Post` of the result
/// (`$x` stands for the operand).
struct Reduction {
  const char *Fn;
  const char *Pre = "$x";
  const char *Post = "$x";
  bool FloatOnly = false;
};

std::string substitute(std::string Pattern, const std::string &X) {
  for (size_t P; (P = Pattern.find("$x")) != std::string::npos;)
    Pattern.replace(P, 2, X);
  return Pattern;
}

Error reduce(Importer &I, const Reduction &R) {
  if (Error E = I.checkAttrs({"axes", "keepdims", "noop_with_empty_axes"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  if (R.FloatOnly && !isFloatType((*X)->Elem))
    return I.unsupported("element type " + onnxTypeName((*X)->Elem));
  bool AxesInput =
      I.opset() >= 18 || (I.opset() >= 13 && I.node().op_type() == "ReduceSum");
  Expected<std::vector<int64_t>> Axes = reduceAxes(I, **X, AxesInput);
  if (!Axes)
    return Axes.takeError();
  Expected<int64_t> KeepDims = I.attrInt("keepdims", 1);
  if (!KeepDims)
    return KeepDims.takeError();
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  if (Axes->empty())
    return I.define(0, *XE, (*X)->Elem, (*X)->Dims);
  Shape Kept = (*X)->Dims, Dropped;
  for (int64_t A : *Axes)
    Kept[A] = 1;
  for (size_t K = 0; K < Kept.size(); ++K)
    if (!llvm::is_contained(*Axes, int64_t(K)))
      Dropped.push_back(Kept[K]);
  std::string Expr = substitute(R.Pre, *XE);
  for (int64_t A : *Axes)
    Expr = std::string(R.Fn) + "(" + Expr + ", axis = " + std::to_string(A) +
           ", keepdims = true)";
  Expr = substitute(R.Post, Expr);
  const Shape &Out = *KeepDims ? Kept : Dropped;
  if (Out != Kept)
    Expr = "reshape(" + Expr + ", " + dimsText(Out) + ")";
  return I.define(0, Expr, (*X)->Elem, Out);
}

Error opReduceSum(Importer &I) { return reduce(I, {"sum"}); }
Error opReduceMean(Importer &I) {
  return reduce(I, {"mean", "$x", "$x", true});
}
Error opReduceMax(Importer &I) { return reduce(I, {"max"}); }
Error opReduceMin(Importer &I) { return reduce(I, {"min"}); }
Error opReduceL1(Importer &I) { return reduce(I, {"sum", "abs($x)"}); }
Error opReduceL2(Importer &I) {
  return reduce(I, {"sum", "square($x)", "sqrt($x)", true});
}
Error opReduceSumSquare(Importer &I) {
  return reduce(I, {"sum", "square($x)"});
}
Error opReduceLogSum(Importer &I) {
  return reduce(I, {"sum", "$x", "log($x)", true});
}

/// m + log(sum exp(x - m)), m the max over the same axes (kept).
Error opReduceLogSumExp(Importer &I) {
  if (Error E = I.checkAttrs({"axes", "keepdims", "noop_with_empty_axes"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  if (!isFloatType((*X)->Elem))
    return I.unsupported("element type " + onnxTypeName((*X)->Elem));
  Expected<std::vector<int64_t>> Axes = reduceAxes(I, **X, I.opset() >= 18);
  if (!Axes)
    return Axes.takeError();
  Expected<int64_t> KeepDims = I.attrInt("keepdims", 1);
  if (!KeepDims)
    return KeepDims.takeError();
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  if (Axes->empty())
    return I.define(0, *XE, (*X)->Elem, (*X)->Dims);
  std::string Xn = isSimpleRef(*XE) ? *XE : I.temp(*XE, "x");
  std::string Max = Xn, Sum;
  for (int64_t A : *Axes)
    Max = "max(" + Max + ", axis = " + std::to_string(A) + ", keepdims = true)";
  Max = I.temp(Max, "max");
  Sum = "exp(" + Xn + " - " + Max + ")";
  for (int64_t A : *Axes)
    Sum = "sum(" + Sum + ", axis = " + std::to_string(A) + ", keepdims = true)";
  std::string Expr = "(" + Max + " + log(" + Sum + "))";
  Shape Kept = (*X)->Dims, Dropped;
  for (int64_t A : *Axes)
    Kept[A] = 1;
  for (size_t K = 0; K < Kept.size(); ++K)
    if (!llvm::is_contained(*Axes, int64_t(K)))
      Dropped.push_back(Kept[K]);
  const Shape &Out = *KeepDims ? Kept : Dropped;
  if (Out != Kept)
    Expr = "reshape(" + Expr + ", " + dimsText(Out) + ")";
  return I.define(0, Expr, (*X)->Elem, Out);
}

/// The product of the slices along each axis, one multiplication each.
Error opReduceProd(Importer &I) {
  if (Error E = I.checkAttrs({"axes", "keepdims", "noop_with_empty_axes"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<std::vector<int64_t>> Axes = reduceAxes(I, **X, I.opset() >= 18);
  if (!Axes)
    return Axes.takeError();
  Expected<int64_t> KeepDims = I.attrInt("keepdims", 1);
  if (!KeepDims)
    return KeepDims.takeError();
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  std::string Cur = *XE;
  Shape Kept = (*X)->Dims;
  for (int64_t A : *Axes) {
    if (Kept[A] > 64)
      return I.unsupported("products over axes longer than 64");
    if (Kept[A] == 1)
      continue;
    std::string Src = isSimpleRef(Cur) ? Cur : I.temp(Cur, "prod");
    Cur = "";
    for (int64_t K = 0; K < Kept[A]; ++K)
      Cur += (K ? " * " : "(") + std::string("slice(") + Src + ", " +
             std::to_string(A) + ", " + std::to_string(K) + ", " +
             std::to_string(K + 1) + ")";
    Cur += ")";
    Kept[A] = 1;
  }
  Shape Dropped;
  for (size_t K = 0; K < Kept.size(); ++K)
    if (!llvm::is_contained(*Axes, int64_t(K)))
      Dropped.push_back(Kept[K]);
  const Shape &Out = *KeepDims ? Kept : Dropped;
  if (Out != Kept)
    Cur = "reshape(" + Cur + ", " + dimsText(Out) + ")";
  return I.define(0, Cur, (*X)->Elem, Out);
}

/// ArgMax/ArgMin: argmax (of -x for ArgMin) along `axis`, as INT64.
Error argReduce(Importer &I, bool Min) {
  if (Error E = I.checkAttrs({"axis", "keepdims", "select_last_index"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<int64_t> Last = I.attrInt("select_last_index", 0);
  if (!Last)
    return Last.takeError();
  int64_t Rank = int64_t((*X)->Dims.size());
  Expected<int64_t> AxisAttr = I.attrInt("axis", 0);
  if (!AxisAttr)
    return AxisAttr.takeError();
  Expected<int64_t> Axis = normAxis(I, *AxisAttr, Rank);
  if (!Axis)
    return Axis.takeError();
  Expected<int64_t> KeepDims = I.attrInt("keepdims", 1);
  if (!KeepDims)
    return KeepDims.takeError();
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  Shape Out = (*X)->Dims;
  if (*KeepDims)
    Out[*Axis] = 1;
  else
    Out.erase(Out.begin() + *Axis);
  std::string Operand = Min ? "-" + *XE : *XE;
  int64_t Len = (*X)->Dims[*Axis];
  if (*Last && Len > 1) {
    // The last extreme is the first of x reversed along the axis, counted
    // from the end.
    if (Len > 64)
      return I.unsupported("select_last_index along axes longer than 64");
    std::string Src = isSimpleRef(Operand) ? Operand : I.temp(Operand, "x");
    Operand = "concat(";
    for (int64_t K = Len; K-- > 0;)
      Operand += "slice(" + Src + ", " + std::to_string(*Axis) + ", " +
                 std::to_string(K) + ", " + std::to_string(K + 1) + "), ";
    Operand += "axis = " + std::to_string(*Axis) + ")";
  }
  std::string Expr = "argmax(" + Operand + ", axis = " + std::to_string(*Axis) +
                     (*KeepDims ? ", keepdims = true)" : ")");
  if (*Last && Len > 1)
    Expr = "(" + std::to_string(Len - 1) + " - " + Expr + ")";
  return I.define(0, Expr, Int64, Out);
}

Error opArgMax(Importer &I) { return argReduce(I, false); }
Error opArgMin(Importer &I) { return argReduce(I, true); }

/// Softmax-like `Fn` of x: along `axis` (opset 13 on, default -1), or on x
/// flattened to 2-D at `axis` (before 13, default 1).
Error softmaxLike(Importer &I,
                  const std::function<std::string(
                      const std::string &X, int64_t Axis, int64_t Len)> &Fn) {
  if (Error E = I.checkAttrs({"axis"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  if (!isFloatType((*X)->Elem))
    return I.unsupported("element type " + onnxTypeName((*X)->Elem));
  int64_t Rank = int64_t((*X)->Dims.size());
  bool Legacy = I.opset() < 13;
  Expected<int64_t> AxisAttr = I.attrInt("axis", Legacy ? 1 : -1);
  if (!AxisAttr)
    return AxisAttr.takeError();
  int64_t At = *AxisAttr < 0 ? *AxisAttr + Rank : *AxisAttr;
  if (At < 0 || At > Rank - (Legacy ? 0 : 1) || Rank == 0)
    return I.fail("axis " + llvm::Twine(*AxisAttr) +
                  " is out of range for rank " + llvm::Twine(Rank));
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  const Shape &Dims = (*X)->Dims;
  if (!Legacy)
    return I.define(0, Fn(*XE, At, Dims[At]), (*X)->Elem, Dims);
  int64_t Outer = 1, Inner = 1;
  for (int64_t K = 0; K < Rank; ++K)
    (K < At ? Outer : Inner) *= Dims[K];
  std::string Flat = "reshape(" + *XE + ", " + dimsText({Outer, Inner}) + ")";
  return I.define(0,
                  "reshape(" + Fn(Flat, 1, Inner) + ", " + dimsText(Dims) + ")",
                  (*X)->Elem, Dims);
}

Error opSoftmax(Importer &I) {
  return softmaxLike(I, [](const std::string &X, int64_t Axis, int64_t) {
    return "softmax(" + X + ", axis = " + std::to_string(Axis) + ")";
  });
}

Error opLogSoftmax(Importer &I) {
  return softmaxLike(I, [](const std::string &X, int64_t Axis, int64_t) {
    return "log_softmax(" + X + ", axis = " + std::to_string(Axis) + ")";
  });
}

/// one_hot(argmax(x, axis), n) puts the class axis last; permute moves it
/// back to `axis`.
Error opHardmax(Importer &I) {
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  // The rank of the tensor the function sees (2 before opset 13).
  int64_t Rank = I.opset() < 13 ? 2 : int64_t((*X)->Dims.size());
  return softmaxLike(
      I, [Rank](const std::string &X, int64_t Axis, int64_t Len) {
        std::string Hot = "one_hot(argmax(" + X +
                          ", axis = " + std::to_string(Axis) + "), " +
                          std::to_string(Len) + ")";
        if (Axis == Rank - 1)
          return Hot;
        std::vector<int64_t> Perm;
        for (int64_t K = 0; K < Rank; ++K)
          Perm.push_back(K < Axis ? K : K == Axis ? Rank - 1 : K - 1);
        return "permute(" + Hot + ", " + dimsText(Perm) + ")";
      });
}

} // namespace

void onnx_import::registerReduceOps(OpRegistry &R) {
  R["ReduceSum"] = opReduceSum;
  R["ReduceMean"] = opReduceMean;
  R["ReduceMax"] = opReduceMax;
  R["ReduceMin"] = opReduceMin;
  R["ReduceL1"] = opReduceL1;
  R["ReduceL2"] = opReduceL2;
  R["ReduceSumSquare"] = opReduceSumSquare;
  R["ReduceLogSum"] = opReduceLogSum;
  R["ReduceLogSumExp"] = opReduceLogSumExp;
  R["ReduceProd"] = opReduceProd;
  R["ArgMax"] = opArgMax;
  R["ArgMin"] = opArgMin;
  R["Softmax"] = opSoftmax;
  R["LogSoftmax"] = opLogSoftmax;
  R["Hardmax"] = opHardmax;
}
