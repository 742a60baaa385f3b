//===- Rounding.cpp - floor, ceil and round as decompositions -------------===//
//
// nnc has no rounding primitive; the cast to i32 rounds toward zero, which
// the others are built from (docs/language.md, "Decompositions"):
//   t = f32(i32(x))                     x without its fraction (|x| < 2^31)
//   floor(x) = t - step(t - x)          one less where that rounded up
//   big = step(|x| - 2^23 + 1/2)        f32s from 2^23 on are integers
//   floor(x) -> f + (x - f) big         those (and infinities) stay x
//   ceil(x) = -floor(-x)
//   round(x) = r - tie odd(r), r = floor(x + 1/2), tie = (r - x == 1/2),
//              odd(r) = r - 2 floor(r / 2): halves go to the even neighbour
//              (IEEE, numpy.round, ONNX Round).
// NaN stays NaN (the cast gives 0, the last step adds NaN times 0 or 1).
// The gradient, through the primitives, is 0 (step and cast stop it) but
// for |x| >= 2^23, where it is 1.
//
//===----------------------------------------------------------------------===//
#include "Builtins.h"

using namespace nnc;
using namespace nnc::sema;

namespace {

Node *floorOf(Analyzer &A, Node *X, SourceLoc L) {
  Node *T = A.cast(A.cast(X, DType::I32, L), DType::F32, L);
  Node *F = A.elementwise(
      OpKind::Sub, T,
      A.make(OpKind::Step, {A.elementwise(OpKind::Sub, T, X, L, "-")}, L), L,
      "-");
  Node *Big = A.make(OpKind::Step,
                     {A.elementwise(OpKind::Sub, A.make(OpKind::Abs, {X}, L),
                                    A.scalar(8388607.5, L), L, "-")},
                     L);
  return A.elementwise(OpKind::Add, F,
                       A.elementwise(OpKind::Mul,
                                     A.elementwise(OpKind::Sub, X, F, L, "-"),
                                     Big, L, "*"),
                       L, "+");
}

} // namespace

/// floor(x), ceil(x), round(x) (f32): see above.
template <int Mode>
Val sema::lowerRounding(Analyzer &A, const ast::CallExpr &C,
                        llvm::ArrayRef<Arg> Args) {
  Node *X = A.floatArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  SourceLoc L = C.Loc;
  if (Mode == 0)
    return Val::tensor(floorOf(A, X, L));
  if (Mode == 1)
    return Val::tensor(
        A.make(OpKind::Neg, {floorOf(A, A.make(OpKind::Neg, {X}, L), L)}, L));
  Node *R =
      floorOf(A, A.elementwise(OpKind::Add, X, A.scalar(0.5, L), L, "+"), L);
  Node *Tie =
      A.make(OpKind::CmpEq,
             {A.elementwise(OpKind::Sub, R, X, L, "-"), A.scalar(0.5, L)}, L);
  Node *Half =
      floorOf(A, A.elementwise(OpKind::Mul, R, A.scalar(0.5, L), L, "*"), L);
  Node *Odd = A.elementwise(
      OpKind::Sub, R, A.elementwise(OpKind::Mul, Half, A.scalar(2, L), L, "*"),
      L, "-");
  return Val::tensor(A.elementwise(
      OpKind::Sub, R, A.elementwise(OpKind::Mul, Tie, Odd, L, "*"), L, "-"));
}
template Val sema::lowerRounding<0>(Analyzer &, const ast::CallExpr &,
                                    llvm::ArrayRef<Arg>);
template Val sema::lowerRounding<1>(Analyzer &, const ast::CallExpr &,
                                    llvm::ArrayRef<Arg>);
template Val sema::lowerRounding<2>(Analyzer &, const ast::CallExpr &,
                                    llvm::ArrayRef<Arg>);
