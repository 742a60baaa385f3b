//===- OpsElementwise.cpp - ONNX elementwise operators --------------------===//
//
// Unary functions, arithmetic with NumPy broadcasting (and the legacy
// `broadcast`/`axis` attributes before opset 7), comparisons and logic on
// booleans (computed as f32 0/1), variadic Sum/Mean/Max/Min, Clip, PRelu.
// Each handler writes the `.nn` expression of docs/onnx.md's table; values
// known at import time are folded instead, so that shape arithmetic
// (Shape -> Mul -> Reshape) stays constant.
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

#include <cmath>
#include <cstring>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

namespace {

constexpr OnnxType Bool = onnx::TensorProto_DataType_BOOL;

/// `call(Fn, x)` on input 0, output of the input's type.
Error unaryCall(Importer &I, const std::string &Fn,
                double (*Fold)(double) = nullptr) {
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  if (Fold && (*X)->isConst()) {
    std::vector<double> D = *(*X)->Data;
    for (double &V : D)
      V = Fold(V);
    return I.defineConst(0, (*X)->Elem, (*X)->Dims, std::move(D));
  }
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  return I.define(0, Fn + "(" + *XE + ")", (*X)->Elem, (*X)->Dims);
}

/// A unary function written as an expression of `x` (Pattern's `$x`).
Error unaryExpr(Importer &I, llvm::StringRef Pattern, bool FloatOnly = true) {
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  if (FloatOnly && !isFloatType((*X)->Elem))
    return I.unsupported("element type " + onnxTypeName((*X)->Elem));
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  std::string Name = *XE;
  // A long operand used several times is bound once.
  if (Pattern.count("$x") > 1 && !isSimpleRef(Name))
    Name = I.temp(Name, "x");
  std::string Expr = Pattern.str();
  for (size_t P; (P = Expr.find("$x")) != std::string::npos;)
    Expr.replace(P, 2, Name);
  return I.define(0, Expr, (*X)->Elem, (*X)->Dims);
}

#define UNARY(Name, Fn, Fold)                                                  \
  Error op##Name(Importer &I) {                                                \
    if (Error E = I.checkAttrs({}))                                            \
      return E;                                                                \
    return unaryCall(I, Fn, Fold);                                             \
  }
UNARY(Relu, "relu", nullptr)
UNARY(Sigmoid, "sigmoid", nullptr)
UNARY(Tanh, "tanh", nullptr)
UNARY(Exp, "exp", nullptr)
UNARY(Log, "log", nullptr)
UNARY(Sin, "sin", nullptr)
UNARY(Cos, "cos", nullptr)
UNARY(Erf, "erf", nullptr)
UNARY(Softplus, "softplus", nullptr)
UNARY(Sqrt, "sqrt", [](double V) { return std::sqrt(V); })
UNARY(Floor, "floor", [](double V) { return std::floor(V); })
UNARY(Ceil, "ceil", [](double V) { return std::ceil(V); })
UNARY(Round, "round", [](double V) { return std::nearbyint(V); })
UNARY(Abs, "abs", [](double V) { return std::fabs(V); })
#undef UNARY

Error opNeg(Importer &I) {
  if (Error E = I.checkAttrs({}))
    return E;
  return unaryCall(I, "-", [](double V) { return -V; });
}

/// ONNX's sign(0) is 0, nnc's sign(0) is -1: two steps instead.
Error opSign(Importer &I) {
  if (Error E = I.checkAttrs({}))
    return E;
  return unaryExpr(I, "(step($x) - step(-$x))", false);
}

Error opReciprocal(Importer &I) {
  if (Error E = I.checkAttrs({}))
    return E;
  return unaryExpr(I, "(1.0 / $x)");
}

Error opSoftsign(Importer &I) {
  if (Error E = I.checkAttrs({}))
    return E;
  return unaryExpr(I, "($x / (1.0 + abs($x)))");
}

/// An activation with float attributes: `Pattern` with `$x` and each
/// attribute's `$name` replaced.
Error activation(Importer &I, llvm::StringRef Pattern,
                 std::initializer_list<std::pair<const char *, double>> Attrs) {
  std::vector<llvm::StringRef> Names;
  for (const auto &[Name, Default] : Attrs)
    Names.push_back(Name);
  std::string Expr = Pattern.str();
  for (const auto &[Name, Default] : Attrs) {
    Expected<double> V = I.attrFloat(Name, Default);
    if (!V)
      return V.takeError();
    std::string Key = std::string("$") + Name;
    for (size_t P; (P = Expr.find(Key)) != std::string::npos;)
      Expr.replace(P, Key.size(), numberText(float(*V), false));
  }
  // Opsets before 6 had `consumed_inputs` (a memory hint, no meaning).
  for (const onnx::AttributeProto &A : I.node().attribute())
    if (!llvm::is_contained(Names, llvm::StringRef(A.name())) &&
        A.name() != "consumed_inputs")
      return I.unsupported("attribute '" + A.name() + "' is not implemented");
  return unaryExpr(I, Expr);
}

Error opLeakyRelu(Importer &I) {
  return activation(I, "leaky_relu($x, alpha = $alpha)", {{"alpha", 0.01}});
}
Error opElu(Importer &I) {
  return activation(I, "elu($x, alpha = $alpha)", {{"alpha", 1.0}});
}
/// selu = gamma * elu(x, alpha)
Error opSelu(Importer &I) {
  return activation(I, "($gamma * elu($x, alpha = $alpha))",
                    {{"alpha", 1.67326319217681884765625},
                     {"gamma", 1.05070102214813232421875}});
}
/// max(0, min(1, alpha x + beta))
Error opHardSigmoid(Importer &I) {
  return activation(I, "clip($alpha * $x + $beta, 0, 1)",
                    {{"alpha", 0.2}, {"beta", 0.5}});
}
/// x max(0, min(1, x / 6 + 1/2))
Error opHardSwish(Importer &I) {
  return activation(I, "($x * clip($x / 6.0 + 0.5, 0, 1))", {});
}
/// x where x > alpha, else 0
Error opThresholdedRelu(Importer &I) {
  return activation(I, "($x * step($x - $alpha))", {{"alpha", 1.0}});
}
/// max(0, x) + min(0, alpha (exp(x / alpha) - 1))
Error opCelu(Importer &I) {
  return activation(I, "(relu($x) + min(0, $alpha * (exp($x / $alpha) - 1)))",
                    {{"alpha", 1.0}});
}

/// Trigonometry and hyperbolic functions nnc has no primitive for, from
/// exp, log, sqrt, sin and cos. atan reduces its argument twice by the
/// half-angle identity atan(x) = 2 atan(x / (1 + sqrt(1 + x^2))), to
/// |u| < tan(pi/8), where seven terms of its series are within 1e-6.
constexpr const char *AtanOf = "(4.0 * (($u) - ($u)^3 / 3.0 + ($u)^5 / 5.0 - "
                               "($u)^7 / 7.0 + ($u)^9 / 9.0 - ($u)^11 / 11.0 + "
                               "($u)^13 / 13.0))";

Error opTan(Importer &I) { return unaryExpr(I, "(sin($x) / cos($x))"); }
Error opSinh(Importer &I) {
  return unaryExpr(I, "((exp($x) - exp(-$x)) / 2.0)");
}
Error opCosh(Importer &I) {
  return unaryExpr(I, "((exp($x) + exp(-$x)) / 2.0)");
}
/// sign(x) log(|x| + sqrt(x^2 + 1)): no cancellation for negative x.
Error opAsinh(Importer &I) {
  return unaryExpr(I, "((step($x) - step(-$x)) * log(abs($x) + "
                      "sqrt(square($x) + 1.0)))");
}
Error opAcosh(Importer &I) {
  return unaryExpr(I, "log($x + sqrt(square($x) - 1.0))");
}
Error opAtanh(Importer &I) {
  return unaryExpr(I, "(0.5 * log((1.0 + $x) / (1.0 - $x)))");
}

/// `AtanOf` of the argument in `Pattern` ($x), reduced twice.
Error atanLike(Importer &I, llvm::StringRef Arg, llvm::StringRef Outer) {
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  if (!isFloatType((*X)->Elem))
    return I.unsupported("element type " + onnxTypeName((*X)->Elem));
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  std::string Xn = isSimpleRef(*XE) ? *XE : I.temp(*XE, "x");
  auto Sub = [&](std::string P, const char *Key, const std::string &V) {
    for (size_t At; (At = P.find(Key)) != std::string::npos;)
      P.replace(At, std::strlen(Key), V);
    return P;
  };
  std::string T = I.temp(Sub(Arg.str(), "$x", Xn), "t");
  std::string H1 = I.temp(T + " / (1.0 + sqrt(1.0 + square(" + T + ")))", "h");
  std::string U = I.temp(H1 + " / (1.0 + sqrt(1.0 + square(" + H1 + ")))", "u");
  std::string Atan = Sub(AtanOf, "$u", U);
  return I.define(0, Sub(Outer.str(), "$a", Atan), (*X)->Elem, (*X)->Dims);
}

Error opAtan(Importer &I) { return atanLike(I, "$x", "$a"); }
/// asin(x) = 2 atan(x / (1 + sqrt(1 - x^2))), finite at x = +-1.
Error opAsin(Importer &I) {
  return atanLike(I, "($x / (1.0 + sqrt(1.0 - square($x))))", "(2.0 * $a)");
}
Error opAcos(Importer &I) {
  return atanLike(I, "($x / (1.0 + sqrt(1.0 - square($x))))",
                  "(1.57079637 - 2.0 * $a)");
}

/// NaN is the one value unequal to itself.
Error opIsNaN(Importer &I) {
  if (Error E = I.checkAttrs({}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  std::string Xn = isSimpleRef(*XE) ? *XE : I.temp(*XE, "x");
  return I.define(0, "(" + Xn + " != " + Xn + ")",
                  onnx::TensorProto_DataType_BOOL, (*X)->Dims);
}

/// Beyond the largest finite f32 is infinity.
Error opIsInf(Importer &I) {
  if (Error E = I.checkAttrs({"detect_negative", "detect_positive"}))
    return E;
  Expected<int64_t> Neg = I.attrInt("detect_negative", 1),
                    Pos = I.attrInt("detect_positive", 1);
  if (!Neg)
    return Neg.takeError();
  if (!Pos)
    return Pos.takeError();
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  std::string Test = *Neg && *Pos ? "(abs(" + *XE + ") > 3.40282347e38)"
                     : *Pos       ? "(" + *XE + " > 3.40282347e38)"
                     : *Neg       ? "(" + *XE + " < (-3.40282347e38))"
                                  : "(" + *XE + " != " + *XE + ") * 0";
  return I.define(0, Test, onnx::TensorProto_DataType_BOOL, (*X)->Dims);
}

/// Shrink: x + bias below -lambd, x - bias above lambd, else 0.
Error opShrink(Importer &I) {
  return activation(I,
                    "(($x + $bias) * ($x < -$lambd) + ($x - $bias) * "
                    "($x > $lambd))",
                    {{"bias", 0.0}, {"lambd", 0.5}});
}

} // namespace

void onnx_import::registerElementwiseOps(OpRegistry &R) {
  R["Relu"] = opRelu;
  R["Sigmoid"] = opSigmoid;
  R["Tanh"] = opTanh;
  R["Exp"] = opExp;
  R["Log"] = opLog;
  R["Sin"] = opSin;
  R["Cos"] = opCos;
  R["Erf"] = opErf;
  R["Softplus"] = opSoftplus;
  R["Sqrt"] = opSqrt;
  R["Abs"] = opAbs;
  R["Floor"] = opFloor;
  R["Ceil"] = opCeil;
  R["Round"] = opRound;
  R["Neg"] = opNeg;
  R["Sign"] = opSign;
  R["Reciprocal"] = opReciprocal;
  R["Softsign"] = opSoftsign;
  R["LeakyRelu"] = opLeakyRelu;
  R["Elu"] = opElu;
  R["Selu"] = opSelu;
  R["HardSigmoid"] = opHardSigmoid;
  R["HardSwish"] = opHardSwish;
  R["ThresholdedRelu"] = opThresholdedRelu;
  R["Celu"] = opCelu;
  R["Tan"] = opTan;
  R["Sinh"] = opSinh;
  R["Cosh"] = opCosh;
  R["Asinh"] = opAsinh;
  R["Acosh"] = opAcosh;
  R["Atanh"] = opAtanh;
  R["Atan"] = opAtan;
  R["Asin"] = opAsin;
  R["Acos"] = opAcos;
  R["IsNaN"] = opIsNaN;
  R["IsInf"] = opIsInf;
  R["Shrink"] = opShrink;
}
