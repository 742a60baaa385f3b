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
  const char *Pattern; ///< The expression, with `$a` and `$b` (once each).
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
  if ((*A)->isConst() && (*B)->isConst()) {
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
  std::string Expr = Op.Pattern;
  Expr.replace(Expr.find("$a"), 2, *AE);
  Expr.replace(Expr.find("$b"), 2, BText);
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
  if (!isFloatType((*A)->Elem))
    return I.unsupported("integer powers");
  return binary(
      I,
      {"pow($a, $b)",
       [](double A, double B) { return double(std::pow(float(A), float(B))); }},
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
}
