//===- ConstExpr.cpp - Compile-time integer and number expressions --------===//
//
// Shapes, dims, axes, initializer arguments and train-block values are
// compile-time expressions: number literals, `dim` names and integer fn
// arguments combined with unary `-` and `+ - * / ^`. Integer arithmetic is
// exact and overflow-checked (an overflowing value is marked rather than
// wrapped, so `dim B = 99999999999999999999` says "too large" instead of
// using a wrapped number); `/` of integers stays an integer only when it
// divides exactly, so `1/255` is the float a reader expects.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include <llvm/Support/CheckedArithmetic.h>

#include <cmath>

using namespace nnc;
using namespace nnc::sema;

bool ConstNum::isIntegral() const {
  if (Overflow)
    return false;
  if (IsInt)
    return I >= INT32_MIN && I <= INT32_MAX;
  return std::floor(F) == F && std::fabs(F) <= double(INT32_MAX);
}

std::string sema::formatConst(double V) {
  if (std::floor(V) == V && std::fabs(V) < 1e15)
    return std::to_string(int64_t(V));
  char Buf[32];
  snprintf(Buf, sizeof(Buf), "%g", V);
  return Buf;
}

/// An overflowed integer: the double approximation, marked.
static ConstNum overflowed(double F) { return {F, 0, false, true}; }

/// Integer power by squaring, nullopt on overflow.
static std::optional<int64_t> checkedPow(int64_t Base, int64_t Exp) {
  int64_t Result = 1;
  while (Exp > 0) {
    if (Exp & 1) {
      auto R = llvm::checkedMul(Result, Base);
      if (!R)
        return std::nullopt;
      Result = *R;
    }
    Exp >>= 1;
    if (Exp) {
      auto B = llvm::checkedMul(Base, Base);
      if (!B)
        return std::nullopt;
      Base = *B;
    }
  }
  return Result;
}

std::optional<ConstNum> Analyzer::fold(ast::BinaryOp Op, ConstNum L, ConstNum R,
                                       SourceLoc Loc, bool Quiet) {
  using ast::BinaryOp;
  bool IntLike = (L.IsInt || L.Overflow) && (R.IsInt || R.Overflow);
  bool Exact = L.IsInt && R.IsInt;
  auto Cmp = [](bool B) { return ConstNum::ofFloat(B ? 1 : 0); };
  switch (Op) {
  case BinaryOp::Add:
  case BinaryOp::Sub:
  case BinaryOp::Mul: {
    double F = Op == BinaryOp::Add   ? L.F + R.F
               : Op == BinaryOp::Sub ? L.F - R.F
                                     : L.F * R.F;
    if (!IntLike)
      return ConstNum::ofFloat(F);
    if (!Exact)
      return overflowed(F);
    std::optional<int64_t> V = Op == BinaryOp::Add ? llvm::checkedAdd(L.I, R.I)
                               : Op == BinaryOp::Sub
                                   ? llvm::checkedSub(L.I, R.I)
                                   : llvm::checkedMul(L.I, R.I);
    return V ? ConstNum::ofInt(*V) : overflowed(F);
  }
  case BinaryOp::Div:
    if (R.F == 0) {
      if (!Quiet)
        error(Loc, "division by zero in a constant expression");
      return std::nullopt;
    }
    if (Exact && R.I != -1 && L.I % R.I == 0)
      return ConstNum::ofInt(L.I / R.I);
    if (Exact && R.I == -1)
      return fold(BinaryOp::Sub, ConstNum::ofInt(0), L, Loc, Quiet);
    return ConstNum::ofFloat(L.F / R.F);
  case BinaryOp::Pow:
    if (Exact && R.I >= 0) {
      if (auto V = checkedPow(L.I, R.I))
        return ConstNum::ofInt(*V);
      return overflowed(std::pow(L.F, R.F));
    }
    return ConstNum::ofFloat(std::pow(L.F, R.F));
  case BinaryOp::Eq:
    return Cmp(L.F == R.F);
  case BinaryOp::Ne:
    return Cmp(L.F != R.F);
  case BinaryOp::Lt:
    return Cmp(L.F < R.F);
  case BinaryOp::Le:
    return Cmp(L.F <= R.F);
  case BinaryOp::Gt:
    return Cmp(L.F > R.F);
  case BinaryOp::Ge:
    return Cmp(L.F >= R.F);
  case BinaryOp::MatMul:
    if (!Quiet)
      error(Loc, "'@' needs tensor operands, not numbers");
    return std::nullopt;
  }
  return std::nullopt;
}

/// The value of a number literal: exact when written as an integer.
static ConstNum literalValue(const ast::NumberExpr &N) {
  if (!N.IsInteger)
    return ConstNum::ofFloat(N.Value);
  int64_t V;
  // getAsInteger fails on overflow; the double keeps the magnitude.
  if (!N.Text.empty() && !llvm::StringRef(N.Text).getAsInteger(10, V))
    return ConstNum::ofInt(V);
  if (N.Text.empty() && std::fabs(N.Value) < 9e18)
    return ConstNum::ofInt(int64_t(N.Value));
  return overflowed(N.Value);
}

std::optional<ConstNum> Analyzer::evalConst(const ast::Expr &E, bool Quiet) {
  switch (E.Kind) {
  case ast::ExprKind::Number:
    return literalValue(static_cast<const ast::NumberExpr &>(E));
  case ast::ExprKind::Name: {
    const auto &N = static_cast<const ast::NameExpr &>(E);
    const Binding *B = Frames.empty() ? nullptr : lookup(N.Name);
    if (!B) {
      if (!Quiet) {
        if (Frames.empty())
          error(E.Loc,
                "expected a constant, but '" + N.Name + "' is not known here");
        else
          unknownName(N.Name, E.Loc);
      }
      return std::nullopt;
    }
    if (B->V.Kind == Val::Num)
      return B->V.C;
    if (B->V.Kind == Val::Tensor && !Quiet)
      error(E.Loc, "'" + N.Name + "' is a tensor, not a compile-time constant");
    return std::nullopt;
  }
  case ast::ExprKind::Unary: {
    auto V = evalConst(*static_cast<const ast::UnaryExpr &>(E).Operand, Quiet);
    if (!V)
      return std::nullopt;
    return fold(ast::BinaryOp::Sub, ConstNum::ofInt(0), *V, E.Loc, Quiet);
  }
  case ast::ExprKind::Binary: {
    const auto &B = static_cast<const ast::BinaryExpr &>(E);
    auto L = evalConst(*B.LHS, Quiet);
    auto R = evalConst(*B.RHS, Quiet);
    if (!L || !R)
      return std::nullopt;
    return fold(B.Op, *L, *R, E.Loc, Quiet);
  }
  case ast::ExprKind::String:
  case ast::ExprKind::Bool:
  case ast::ExprKind::List:
  case ast::ExprKind::Call:
    if (!Quiet)
      error(E.Loc, "expected a compile-time constant (a number, a dim, or "
                   "arithmetic on those)");
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<int64_t> Analyzer::evalInt(const ast::Expr &E,
                                         llvm::StringRef What) {
  auto C = evalConst(E);
  if (!C)
    return std::nullopt;
  if (C->Overflow) {
    error(E.Loc, What + " is too large");
    return std::nullopt;
  }
  if (!C->IsInt) {
    error(E.Loc, What + " must be an integer, but it is " + formatConst(C->F));
    return std::nullopt;
  }
  return C->I;
}

std::optional<int64_t> Analyzer::evalDim(const ast::Expr &E) {
  auto V = evalInt(E, "dimension");
  if (!V)
    return std::nullopt;
  if (*V <= 0) {
    error(E.Loc, "dimension must be positive, but it is " + llvm::Twine(*V));
    return std::nullopt;
  }
  if (*V > MaxDim) {
    error(E.Loc, "dimension is too large (" + llvm::Twine(*V) +
                     "; the limit is " + llvm::Twine(MaxDim) + ")");
    return std::nullopt;
  }
  return V;
}

std::optional<double> Analyzer::evalNumber(const ast::Expr &E,
                                           llvm::StringRef What) {
  auto C = evalConst(E);
  if (!C)
    return std::nullopt;
  if (!std::isfinite(C->F)) {
    error(E.Loc, What + " is not a finite number");
    return std::nullopt;
  }
  return C->F;
}
