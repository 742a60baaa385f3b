//===- OpsArith.cpp - ONNX arithmetic, comparisons, logic, casts ----------===//
//
// Two-operand operators broadcast as NumPy (opset 7 on); before opset 7
// Add/Sub/Mul/Div/Pow/And/... broadcast only with `broadcast = 1`, where B
// lines up with A's dims from `axis` on (default: the trailing ones), which
// a reshape of B to A's rank expresses. Booleans are f32 0/1, so And is a
// product, Or a max, Not `x == 0`. Integer division truncates as ONNX's
// does: the f32 quotient cast back to i32 (exact below 2^24). Constant
// operands are folded.
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

#include <cmath>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

namespace {

constexpr OnnxType Bool = onnx::TensorProto_DataType_BOOL;

/// Element `Flat` of the broadcast result `Out`, read from `In`'s data.
double broadcastAt(const Value &In, const Shape &Out, int64_t Flat) {
  int64_t Index = 0, Stride = 1;
  size_t Lead = Out.size() - In.Dims.size();
  for (size_t K = Out.size(); K-- > 0;) {
    int64_t Coord = Flat % Out[K];
    Flat /= Out[K];
    if (K < Lead)
      continue;
    int64_t D = In.Dims[K - Lead];
    if (D != 1)
      Index += Coord * Stride;
    Stride *= D;
  }
  return (*In.Data)[Index];
}

/// The operands' broadcast shape, or an error naming both.
Expected<Shape> broadcast(Importer &I, const Value &A, const Value &B) {
  std::optional<Shape> S = broadcastShapes(A.Dims, B.Dims);
  if (!S)
    return I.fail("cannot broadcast " + dimsText(A.Dims) + " and " +
                  dimsText(B.Dims));
  return *S;
}

/// Opset < 7: B broadcasts to A only with `broadcast = 1`, aligned at
/// `axis`; returns B's shape as NumPy would align it (trailing ones added).
Expected<Shape> legacyShape(Importer &I, const Value &A, const Value &B) {
  Expected<int64_t> On = I.attrInt("broadcast", 0);
  if (!On)
    return On.takeError();
  if (!*On) {
    if (A.Dims != B.Dims)
      return I.fail("operands " + dimsText(A.Dims) + " and " +
                    dimsText(B.Dims) + " differ, and 'broadcast' is not set");
    return B.Dims;
  }
  int64_t Rank = int64_t(A.Dims.size()), BRank = int64_t(B.Dims.size());
  Expected<int64_t> Axis = I.attrInt("axis", Rank - BRank);
  if (!Axis)
    return Axis.takeError();
  int64_t At = *Axis < 0 ? *Axis + Rank : *Axis;
  if (At < 0 || At + BRank > Rank)
    return I.fail("'axis' " + llvm::Twine(*Axis) + " does not place " +
                  dimsText(B.Dims) + " inside " + dimsText(A.Dims));
  Shape S = B.Dims;
  for (int64_t K = At + BRank; K < Rank; ++K)
    S.push_back(1);
  for (int64_t K = 0; K < BRank; ++K)
    if (B.Dims[K] != 1 && B.Dims[K] != A.Dims[At + K])
      return I.fail("cannot broadcast " + dimsText(B.Dims) + " into " +
                    dimsText(A.Dims) + " at axis " + llvm::Twine(At));
  return S;
}

struct BinaryOp {
  const char *Pattern; ///< The expression, with `$a` and `$b`.
  double (*Fold)(double, double);
};

/// A two-operand operator: output type `Elem` (-1: A's), the expression of
/// `Op` on the broadcast operands.
Error binary(Importer &I, const BinaryOp &Op, OnnxType Elem = -1,
             bool Legacy = false) {
  Expected<Value *> A = I.in(0);
  if (!A)
    return A.takeError();
  Expected<Value *> B = I.in(1);
  if (!B)
    return B.takeError();
  Value Bv; // B as NumPy aligns it (only its dims)
  Bv.Dims = (*B)->Dims;
  if (Legacy && I.opset() < 7) {
    Expected<Shape> S = legacyShape(I, **A, **B);
    if (!S)
      return S.takeError();
    Bv.Dims = *S;
  }
  Expected<Shape> Out = broadcast(I, **A, Bv);
  if (!Out)
    return Out.takeError();
  OnnxType T = Elem < 0 ? (*A)->Elem : Elem;
  if ((*A)->isConst() && (*B)->isConst() && foldable(*Out)) {
    Value Bc = **B;
    Bc.Dims = Bv.Dims;
    int64_t N = 1;
    for (int64_t D : *Out)
      N *= D;
    std::vector<double> D(N);
    for (int64_t K = 0; K < N; ++K)
      D[K] = Op.Fold(broadcastAt(**A, *Out, K), broadcastAt(Bc, *Out, K));
    return I.defineConst(0, T, *Out, std::move(D));
  }
  Expected<std::string> AE = I.use(**A);
  if (!AE)
    return AE.takeError();
  Expected<std::string> BE = I.use(**B);
  if (!BE)
    return BE.takeError();
  std::string BText = *BE;
  if (Bv.Dims != (*B)->Dims)
    BText = "reshape(" + BText + ", " + dimsText(Bv.Dims) + ")";
  std::string Expr = Op.Pattern, AText = *AE;
  // An operand the pattern repeats is bound once.
  auto Repeated = [&](const char *Key) {
    return Expr.find(Key) != Expr.rfind(Key);
  };
  if (Repeated("$a") && !isSimpleRef(AText))
    AText = I.temp(AText, "a");
  if (Repeated("$b") && !isSimpleRef(BText))
    BText = I.temp(BText, "b");
  for (size_t P; (P = Expr.find("$a")) != std::string::npos;)
    Expr.replace(P, 2, AText);
  for (size_t P; (P = Expr.find("$b")) != std::string::npos;)
    Expr.replace(P, 2, BText);
  return I.define(0, Expr, T, *Out);
}

/// The legacy attributes, which opsets before 7 allow on these operators.
Error checkArithAttrs(Importer &I) {
  return I.checkAttrs({"broadcast", "axis", "consumed_inputs"});
}

Error opAdd(Importer &I) {
  if (Error E = checkArithAttrs(I))
    return E;
  return binary(I, {"($a + $b)", [](double A, double B) { return A + B; }}, -1,
                true);
}
Error opSub(Importer &I) {
  if (Error E = checkArithAttrs(I))
    return E;
  return binary(I, {"($a - $b)", [](double A, double B) { return A - B; }}, -1,
                true);
}
Error opMul(Importer &I) {
  if (Error E = checkArithAttrs(I))
    return E;
  return binary(I, {"($a * $b)", [](double A, double B) { return A * B; }}, -1,
                true);
}

Error opDiv(Importer &I) {
  if (Error E = checkArithAttrs(I))
    return E;
  Expected<Value *> A = I.in(0);
  if (!A)
    return A.takeError();
  if (isFloatType((*A)->Elem))
    return binary(I, {"($a / $b)", [](double A, double B) { return A / B; }},
                  -1, true);
  // Integers: the quotient rounded toward zero (a zero divisor, undefined
  // in ONNX, saturates).
  return binary(I,
                {"i32(f32($a) / f32($b))",
                 [](double A, double B) {
                   return B ? std::trunc(A / B) : A < 0 ? INT32_MIN : INT32_MAX;
                 }},
                -1, true);
}

Error opPow(Importer &I) {
  if (Error E = checkArithAttrs(I))
    return E;
  Expected<Value *> A = I.in(0);
  if (!A)
    return A.takeError();
  Expected<Value *> B = I.in(1);
  if (!B)
    return B.takeError();
  auto Fold = [](double A, double B) {
    return double(std::pow(float(A), float(B)));
  };
  // The exponent may be of another type (from opset 12): the power is
  // taken in f32; an integer base's result is rounded back.
  bool IntExp = !isFloatType((*B)->Elem);
  if (isFloatType((*A)->Elem))
    return binary(I, {IntExp ? "pow($a, f32($b))" : "pow($a, $b)", Fold}, -1,
                  true);
  return binary(
      I,
      {IntExp ? "i32(round(pow(f32($a), f32($b))))"
              : "i32(round(pow(f32($a), $b)))",
       [](double A, double B) { return std::nearbyint(std::pow(A, B)); }},
      -1, true);
}

Error compare(Importer &I, const char *Pattern,
              double (*Fold)(double, double)) {
  if (Error E = checkArithAttrs(I))
    return E;
  return binary(I, {Pattern, Fold}, Bool, true);
}

Error opEqual(Importer &I) {
  return compare(I, "($a == $b)",
                 [](double A, double B) { return double(A == B); });
}
Error opLess(Importer &I) {
  return compare(I, "($a < $b)",
                 [](double A, double B) { return double(A < B); });
}
Error opGreater(Importer &I) {
  return compare(I, "($a > $b)",
                 [](double A, double B) { return double(A > B); });
}
Error opLessOrEqual(Importer &I) {
  return compare(I, "($a <= $b)",
                 [](double A, double B) { return double(A <= B); });
}
Error opGreaterOrEqual(Importer &I) {
  return compare(I, "($a >= $b)",
                 [](double A, double B) { return double(A >= B); });
}

/// Booleans are f32 0/1: and = a b, or = max(a, b), xor = a != b.
Error opAnd(Importer &I) {
  if (Error E = checkArithAttrs(I))
    return E;
  return binary(I, {"($a * $b)", [](double A, double B) { return A * B; }},
                Bool, true);
}
Error opOr(Importer &I) {
  if (Error E = checkArithAttrs(I))
    return E;
  return binary(
      I, {"max($a, $b)", [](double A, double B) { return std::max(A, B); }},
      Bool, true);
}
Error opXor(Importer &I) {
  if (Error E = checkArithAttrs(I))
    return E;
  return binary(
      I, {"($a != $b)", [](double A, double B) { return double(A != B); }},
      Bool, true);
}

Error opNot(Importer &I) {
  if (Error E = I.checkAttrs({}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  if ((*X)->isConst()) {
    std::vector<double> D = *(*X)->Data;
    for (double &V : D)
      V = V == 0;
    return I.defineConst(0, Bool, (*X)->Dims, std::move(D));
  }
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  return I.define(0, "(" + *XE + " == 0)", Bool, (*X)->Dims);
}

/// Sum/Mean/Max/Min of any number of inputs: the binary op folded left
/// (NumPy broadcasting from opset 8 on; the same shapes before).
Error variadic(Importer &I, const char *Pattern, bool Mean) {
  if (Error E = I.checkAttrs({"consumed_inputs"}))
    return E;
  if (I.numInputs() == 0)
    return I.fail("it has no inputs");
  std::string Expr;
  Shape Out;
  OnnxType Elem = 0;
  for (unsigned K = 0; K < I.numInputs(); ++K) {
    Expected<Value *> V = I.in(K);
    if (!V)
      return V.takeError();
    Expected<std::string> E = I.use(**V);
    if (!E)
      return E.takeError();
    if (K == 0) {
      Expr = *E;
      Out = (*V)->Dims;
      Elem = (*V)->Elem;
      continue;
    }
    std::optional<Shape> S = broadcastShapes(Out, (*V)->Dims);
    if (!S || (I.opset() < 8 && *S != Out))
      return I.fail("cannot broadcast " + dimsText(Out) + " and " +
                    dimsText((*V)->Dims));
    Out = *S;
    std::string Next = Pattern;
    Next.replace(Next.find("$a"), 2, Expr);
    Next.replace(Next.find("$b"), 2, *E);
    Expr = Next;
  }
  if (Mean) {
    if (!isFloatType(Elem))
      return I.unsupported("element type " + onnxTypeName(Elem));
    Expr = "(" + Expr + " / " + numberText(I.numInputs(), false) + ")";
  }
  if (I.numInputs() == 1)
    return I.alias(0, **I.in(0));
  return I.define(0, Expr, Elem, Out);
}

Error opSum(Importer &I) { return variadic(I, "($a + $b)", false); }
Error opMean(Importer &I) { return variadic(I, "($a + $b)", true); }
Error opMax(Importer &I) { return variadic(I, "max($a, $b)", false); }
Error opMin(Importer &I) { return variadic(I, "min($a, $b)", false); }

/// Clip: min(max(x, lo), hi); bounds are attributes before opset 11,
/// optional inputs after (any tensor broadcasting to x).
Error opClip(Importer &I) {
  if (Error E = I.checkAttrs({"min", "max", "consumed_inputs"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  std::string Expr = *XE;
  auto Bound = [&](const char *Name, unsigned Input, const char *Fn) -> Error {
    std::string B;
    if (I.opset() < 11) {
      if (!I.attr(Name))
        return Error::success();
      Expected<double> V = I.attrFloat(Name, 0);
      if (!V)
        return V.takeError();
      B = numberText(float(*V), !isFloatType((*X)->Elem));
    } else {
      if (!I.has(Input))
        return Error::success();
      Expected<Value *> V = I.in(Input);
      if (!V)
        return V.takeError();
      Expected<std::string> E = I.use(**V);
      if (!E)
        return E.takeError();
      B = *E;
    }
    Expr = std::string(Fn) + "(" + Expr + ", " + B + ")";
    return Error::success();
  };
  if (Error E = Bound("min", 1, "max"))
    return E;
  if (Error E = Bound("max", 2, "min"))
    return E;
  return I.define(0, Expr, (*X)->Elem, (*X)->Dims);
}

/// Where(c, a, b) = c a + (1 - c) b with c 0/1 (exact for finite values;
/// an infinity or NaN in the branch not taken leaks in, see docs/onnx.md).
Error opWhere(Importer &I) {
  if (Error E = I.checkAttrs({}))
    return E;
  std::vector<Value *> V;
  std::vector<std::string> E;
  for (unsigned K = 0; K < 3; ++K) {
    Expected<Value *> In = I.in(K);
    if (!In)
      return In.takeError();
    Expected<std::string> Ex = I.use(**In);
    if (!Ex)
      return Ex.takeError();
    V.push_back(*In);
    E.push_back(*Ex);
  }
  std::optional<Shape> S = broadcastShapes(V[0]->Dims, V[1]->Dims);
  if (S)
    S = broadcastShapes(*S, V[2]->Dims);
  if (!S)
    return I.fail("cannot broadcast " + dimsText(V[0]->Dims) + ", " +
                  dimsText(V[1]->Dims) + " and " + dimsText(V[2]->Dims));
  // c is f32 0/1; integer branches need it as i32.
  std::string C = V[1]->computed() == DType::I32
                      ? I.temp("i32(" + E[0] + ")", "cond")
                  : isSimpleRef(E[0]) ? E[0]
                                      : I.temp(E[0], "cond");
  return I.define(0,
                  "(" + C + " * " + E[1] + " + (1 - " + C + ") * " + E[2] + ")",
                  V[1]->Elem, *S);
}

/// Mod: fmod = 1 keeps the dividend's sign (a - b trunc(a / b)); fmod = 0,
/// integers only, the divisor's (a - b floor(a / b)).
Error opMod(Importer &I) {
  if (Error E = I.checkAttrs({"fmod"}))
    return E;
  Expected<int64_t> Fmod = I.attrInt("fmod", 0);
  if (!Fmod)
    return Fmod.takeError();
  Expected<Value *> A = I.in(0);
  if (!A)
    return A.takeError();
  if (isFloatType((*A)->Elem) && !*Fmod)
    return I.fail("fmod = 0 needs integer operands");
  if (isFloatType((*A)->Elem))
    // The quotient truncated by the cast (|a / b| < 2^31).
    return binary(I, {"($a - $b * f32(i32($a / $b)))",
                      [](double A, double B) { return std::fmod(A, B); }});
  if (*Fmod)
    return binary(I,
                  {"($a - $b * i32(f32($a) / f32($b)))",
                   [](double A, double B) { return B ? std::fmod(A, B) : 0; }});
  return binary(
      I, {"($a - $b * i32(floor(f32($a) / f32($b))))", [](double A, double B) {
            return B ? A - B * std::floor(A / B) : 0;
          }});
}

/// BitShift of unsigned integers: x times or divided by 2^y (rounded
/// down), through f32 (exact below 2^24).
Error opBitShift(Importer &I) {
  if (Error E = I.checkAttrs({"direction"}))
    return E;
  Expected<std::string> Dir = I.attrString("direction", "");
  if (!Dir)
    return Dir.takeError();
  if (*Dir == "LEFT")
    return binary(I, {"i32(f32($a) * pow(2.0, f32($b)))",
                      [](double A, double B) { return A * std::pow(2.0, B); }});
  if (*Dir == "RIGHT")
    return binary(
        I, {"i32(floor(f32($a) / pow(2.0, f32($b))))", [](double A, double B) {
              return std::floor(A / std::pow(2.0, B));
            }});
  return I.fail("direction '" + *Dir + "' is neither LEFT nor RIGHT");
}

} // namespace

void onnx_import::registerArithmeticOps(OpRegistry &R) {
  R["Add"] = opAdd;
  R["Sub"] = opSub;
  R["Mul"] = opMul;
  R["Div"] = opDiv;
  R["Pow"] = opPow;
  R["Equal"] = opEqual;
  R["Less"] = opLess;
  R["Greater"] = opGreater;
  R["LessOrEqual"] = opLessOrEqual;
  R["GreaterOrEqual"] = opGreaterOrEqual;
  R["And"] = opAnd;
  R["Or"] = opOr;
  R["Xor"] = opXor;
  R["Not"] = opNot;
  R["Sum"] = opSum;
  R["Mean"] = opMean;
  R["Max"] = opMax;
  R["Min"] = opMin;
  R["Clip"] = opClip;
  R["Where"] = opWhere;
  R["Mod"] = opMod;
  R["BitShift"] = opBitShift;
}
