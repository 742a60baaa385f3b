//===- GradRules.cpp - The table of gradient rules ------------------------===//
//
// One short function per op, its calculus in the comment above it. Each rule
// receives dy, the adjoint of the op's result y, and returns the adjoint of
// every operand that wants one (the chain rule: dx = dy * dy/dx). Elementwise
// binary rules compute their adjoints in the (broadcast) result shape and
// `unbroadcast` them back to each operand's shape. Kinks follow PyTorch:
// relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = alpha, ties of max/min go to
// the first operand, reductions and pools send the gradient to the first
// maximum.
//
// The table itself is `gradRule` at the end of the file.
//
//===----------------------------------------------------------------------===//
#include "GradRules.h"

#include <cassert>
#include <cmath>
#include <numbers>

using namespace nnc;

namespace {

/// For an elementwise unary op: dx = dy * Factor.
Adjoints scaled(GradContext &C, Node *Factor) {
  return {C.B.mul(C.DY, Factor)};
}

/// For an elementwise binary op: the adjoints in the result's shape, each
/// built only when wanted, then summed back to the operand's shape.
template <typename FnA, typename FnB>
Adjoints binaryAdjoints(GradContext &C, FnA MakeA, FnB MakeB) {
  Adjoints R(2, nullptr);
  if (C.wants(0))
    R[0] = C.B.unbroadcast(MakeA(), C.x(0)->dims());
  if (C.wants(1))
    R[1] = C.B.unbroadcast(MakeB(), C.x(1)->dims());
  return R;
}

/// The keepdims shape of a reduction of `X` over `Axis`.
Shape keptShape(const Node *X, int64_t Axis) {
  Shape S(X->dims().begin(), X->dims().end());
  if (Axis == ALL_AXES)
    S.assign(S.size(), 1);
  else
    S[Axis] = 1;
  return S;
}

Attrs axisAttrs(int64_t Axis) {
  Attrs A;
  A.Axis = Axis;
  return A;
}

//===--- Elementwise, one operand -----------------------------------------===//

// d/dx -x = -1
Adjoints gradNeg(GradContext &C) { return {C.B.neg(C.DY)}; }

// d/dx exp(x) = exp(x) = y
Adjoints gradExp(GradContext &C) { return scaled(C, C.y()); }

// d/dx log(x) = 1/x
Adjoints gradLog(GradContext &C) { return {C.B.div(C.DY, C.x(0))}; }

// d/dx sqrt(x) = 1 / (2 sqrt(x)) = 0.5 / y
Adjoints gradSqrt(GradContext &C) {
  return scaled(C, C.B.div(C.B.scalar(0.5), C.y()));
}

// d/dx |x| = sign(x), and 0 at x = 0: (x > 0) - (x < 0)
Adjoints gradAbs(GradContext &C) {
  GradBuilder &B = C.B;
  // One node per statement: argument evaluation order is unspecified in
  // C++, and dumps must list nodes in the same order on every compiler.
  Node *Zero = B.scalar(0);
  Node *Pos = B.binary(OpKind::CmpGt, C.x(0), Zero);
  Node *Neg = B.binary(OpKind::CmpLt, C.x(0), Zero);
  return scaled(C, B.sub(Pos, Neg));
}

// d/dx sin(x) = cos(x)
Adjoints gradSin(GradContext &C) {
  return scaled(C, C.B.unary(OpKind::Cos, C.x(0)));
}

// d/dx cos(x) = -sin(x)
Adjoints gradCos(GradContext &C) {
  return {C.B.neg(C.B.mul(C.DY, C.B.unary(OpKind::Sin, C.x(0))))};
}

// d/dx tanh(x) = 1 - tanh(x)^2 = 1 - y*y
Adjoints gradTanh(GradContext &C) {
  return scaled(C, C.B.sub(1, C.B.mul(C.y(), C.y())));
}

// d/dx sigmoid(x) = sigmoid(x) (1 - sigmoid(x)) = y (1 - y)
Adjoints gradSigmoid(GradContext &C) {
  return scaled(C, C.B.mul(C.y(), C.B.sub(1, C.y())));
}

// d/dx relu(x) = 1 if x > 0 else 0 (relu'(0) = 0) = step(x)
Adjoints gradRelu(GradContext &C) {
  return scaled(C, C.B.unary(OpKind::Step, C.x(0)));
}

// d/dx softplus(x) = d/dx log(1 + exp(x)) = sigmoid(x)
Adjoints gradSoftplus(GradContext &C) {
  return scaled(C, C.B.unary(OpKind::Sigmoid, C.x(0)));
}

// d/dx leaky_relu(x) = 1 if x > 0 else alpha = alpha + (1 - alpha) step(x)
Adjoints gradLeakyRelu(GradContext &C) {
  double Alpha = C.N.A.Alpha;
  GradBuilder &B = C.B;
  return scaled(C,
                B.add(B.mul(1 - Alpha, B.unary(OpKind::Step, C.x(0))), Alpha));
}

// d/dx elu(x) = 1 if x > 0 else alpha exp(x) = y + alpha
//             = step(x) + (x <= 0) (y + alpha)
Adjoints gradElu(GradContext &C) {
  GradBuilder &B = C.B;
  Node *Pos = B.unary(OpKind::Step, C.x(0));
  Node *NonPos = B.binary(OpKind::CmpLe, C.x(0), B.scalar(0));
  return scaled(C, B.add(Pos, B.mul(NonPos, B.add(C.y(), C.N.A.Alpha))));
}

// d/dx erf(x) = 2/sqrt(pi) exp(-x^2)
Adjoints gradErf(GradContext &C) {
  GradBuilder &B = C.B;
  Node *Square = B.mul(C.x(0), C.x(0));
  Node *Gauss = B.unary(OpKind::Exp, B.neg(Square));
  return scaled(C, B.mul(2 * std::numbers::inv_sqrtpi, Gauss));
}

// gelu(x) = x Phi(x), Phi the standard normal CDF and phi its density:
// d/dx gelu(x) = Phi(x) + x phi(x)
//              = (1 + erf(x / sqrt 2)) / 2 + x exp(-x^2 / 2) / sqrt(2 pi)
Adjoints gradGelu(GradContext &C) {
  GradBuilder &B = C.B;
  Node *X = C.x(0);
  Node *Erf = B.unary(OpKind::Erf, B.mul(1 / std::numbers::sqrt2, X));
  Node *Phi = B.mul(0.5, B.add(Erf, 1));
  Node *Square = B.mul(X, X);
  Node *Gauss = B.unary(OpKind::Exp, B.mul(-0.5, Square));
  Node *Density = B.mul(std::numbers::inv_sqrtpi / std::numbers::sqrt2, Gauss);
  return scaled(C, B.add(Phi, B.mul(X, Density)));
}

// silu(x) = x s, s = sigmoid(x), s' = s (1 - s):
// d/dx silu(x) = s + x s (1 - s) = s + y (1 - s)
Adjoints gradSilu(GradContext &C) {
  GradBuilder &B = C.B;
  Node *S = B.unary(OpKind::Sigmoid, C.x(0));
  return scaled(C, B.add(S, B.mul(C.y(), B.sub(1, S))));
}

// sign(x) is piecewise constant; docs/language.md ("Built-in functions")
// passes the gradient straight through instead (the perceptron rule):
// d/dx sign(x) := 1
Adjoints gradSign(GradContext &C) { return {C.DY}; }

//===--- Elementwise, two operands ----------------------------------------===//

// d/da (a + b) = 1, d/db (a + b) = 1
Adjoints gradAdd(GradContext &C) {
  return binaryAdjoints(C, [&] { return C.DY; }, [&] { return C.DY; });
}

// d/da (a - b) = 1, d/db (a - b) = -1
Adjoints gradSub(GradContext &C) {
  return binaryAdjoints(C, [&] { return C.DY; }, [&] { return C.B.neg(C.DY); });
}

// d/da (a * b) = b, d/db (a * b) = a; and d/da (a * a) = 2a
Adjoints gradMul(GradContext &C) {
  if (C.x(0) == C.x(1)) // square(x): one term instead of two equal ones
    return {C.B.mul(C.DY, C.B.mul(2, C.x(0))), nullptr};
  return binaryAdjoints(
      C, [&] { return C.B.mul(C.DY, C.x(1)); },
      [&] { return C.B.mul(C.DY, C.x(0)); });
}

// d/da (a / b) = 1/b, d/db (a / b) = -a/b^2 = -y/b
Adjoints gradDiv(GradContext &C) {
  GradBuilder &B = C.B;
  return binaryAdjoints(
      C, [&] { return B.div(C.DY, C.x(1)); },
      [&] { return B.neg(B.div(B.mul(C.DY, C.y()), C.x(1))); });
}

// d/da a^c = c a^(c-1), d/db a^b = log(a) a^b = log(a) y
// (the exponent's rule is built only if the exponent needs a gradient, so
// a negative base with a constant exponent never meets the log)
Adjoints gradPow(GradContext &C) {
  GradBuilder &B = C.B;
  Node *Base = C.x(0), *Exponent = C.x(1);
  auto BaseFactor = [&]() -> Node * {
    if (!Exponent->isScalarConst())
      return B.mul(Exponent, B.pow(Base, B.add(Exponent, -1.0)));
    // A constant exponent, the common x^2: fold c - 1 now.
    double E = Exponent->scalarValue();
    if (E == 1)
      return nullptr;
    Node *Power = E == 2 ? Base : B.pow(Base, B.scalar(E - 1));
    return B.mul(E, Power);
  };
  return binaryAdjoints(
      C,
      [&] {
        Node *F = BaseFactor();
        return F ? B.mul(C.DY, F) : C.DY;
      },
      [&] { return B.mul(C.DY, B.mul(B.unary(OpKind::Log, Base), C.y())); });
}

// d/da max(a, b) = [a >= b], d/db max(a, b) = [a < b] (ties: to a)
Adjoints gradMax(GradContext &C) {
  GradBuilder &B = C.B;
  return binaryAdjoints(
      C, [&] { return B.mul(C.DY, B.binary(OpKind::CmpGe, C.x(0), C.x(1))); },
      [&] { return B.mul(C.DY, B.binary(OpKind::CmpLt, C.x(0), C.x(1))); });
}

// d/da min(a, b) = [a <= b], d/db min(a, b) = [a > b] (ties: to a)
Adjoints gradMin(GradContext &C) {
  GradBuilder &B = C.B;
  return binaryAdjoints(
      C, [&] { return B.mul(C.DY, B.binary(OpKind::CmpLe, C.x(0), C.x(1))); },
      [&] { return B.mul(C.DY, B.binary(OpKind::CmpGt, C.x(0), C.x(1))); });
}

//===--- Reductions -------------------------------------------------------===//

// d/dx_i sum_j x_j = 1: every reduced element gets dy, broadcast back.
Adjoints gradReduceSum(GradContext &C) {
  Node *X = C.x(0);
  // A full reduction's dy (scalar, or all ones with keepdims) broadcasts
  // as it is; otherwise the reduced axis comes back as 1 first.
  if (C.N.A.Axis == ALL_AXES)
    return {C.B.broadcastTo(C.DY, X->dims())};
  Node *Kept = C.B.reshape(C.DY, keptShape(X, C.N.A.Axis));
  return {C.B.broadcastTo(Kept, X->dims())};
}

// y_c = sum of x over every axis but 1: every x_{n,c,...} gets dy_c, the
// [C] vector laid along axis 1 and broadcast.
Adjoints gradChannelSum(GradContext &C) {
  Node *X = C.x(0);
  Shape Along(X->Type.rank(), 1);
  Along[1] = X->dims()[1];
  return {C.B.broadcastTo(C.B.reshape(C.DY, Along), X->dims())};
}

// d/dx_i max_j x_j = 1 at the first maximum, else 0: argmax_mask(x) * dy.
Adjoints gradReduceMax(GradContext &C) {
  Node *X = C.x(0);
  Node *Mask = C.B.make(OpKind::ArgMaxMask, TensorType(DType::F32, X->dims()),
                        {X}, axisAttrs(C.N.A.Axis));
  return {C.B.mul(Mask, C.B.reshape(C.DY, keptShape(X, C.N.A.Axis)))};
}

//===--- Data movement ----------------------------------------------------===//

// reshape moves no value: dx = reshape(dy) back to x's shape.
Adjoints gradReshape(GradContext &C) {
  return {C.B.reshape(C.DY, C.x(0)->dims())};
}

// broadcast copies x along the stretched axes: dx sums them back.
Adjoints gradBroadcast(GradContext &C) {
  return {C.B.unbroadcast(C.DY, C.x(0)->dims())};
}

// y = x^T: dx = dy^T
Adjoints gradTranspose(GradContext &C) { return {C.B.transpose(C.DY)}; }

// y = permute(x, p) moves x's axis p[k] to axis k: dx = permute(dy, p^-1),
// which moves each back.
Adjoints gradPermute(GradContext &C) {
  unsigned Rank = C.DY->Type.rank();
  int64_t Inverse[MaxPermRank];
  for (unsigned K = 0; K < Rank; ++K)
    Inverse[permAxis(C.N.A.Perm, K)] = K;
  return {C.B.permute(C.DY, packPerm(Inverse, Rank))};
}

// y = x[o : o + n] along the axis: y's elements go back where they came
// from and the rest of x gets 0, dx = dy padded with zeros to x's length:
// concat(zeros[o], dy, zeros[len - o - n]), the zeros a broadcast 0 (a
// splat to the optimizer). There is no pad op: slices enter graphs as the
// adjoints of concat, so this rule runs only for a second derivative (or a
// test), which does not earn a kernel of its own; concat copies the zeros.
Adjoints gradSlice(GradContext &C) {
  Node *X = C.x(0);
  int64_t Axis = C.N.A.Axis, Before = C.N.A.Offset;
  int64_t After = X->dims()[Axis] - Before - C.N.A.Size;
  auto Zeros = [&](int64_t Len) {
    Shape Dims(X->dims().begin(), X->dims().end());
    Dims[Axis] = Len;
    Node *Zero = C.B.scalar(0);
    return C.B.broadcastTo(Zero, Dims);
  };
  llvm::SmallVector<Node *, 3> Parts;
  if (Before > 0)
    Parts.push_back(Zeros(Before));
  Parts.push_back(C.DY);
  if (After > 0)
    Parts.push_back(Zeros(After));
  return {C.B.concat(Parts, Axis)};
}

// y = concat(x_0, ..., x_k) along the axis: x_i is the piece of y from o_i
// (the lengths of x_0 .. x_i-1 summed) on, dx_i = slice(dy, o_i, len_i).
Adjoints gradConcat(GradContext &C) {
  int64_t Axis = C.N.A.Axis, Offset = 0;
  Adjoints R(C.N.Operands.size(), nullptr);
  for (unsigned I = 0; I < R.size(); ++I) {
    int64_t Len = C.x(I)->dims()[Axis];
    if (C.wants(I))
      R[I] = C.B.slice(C.DY, Axis, Offset, Len);
    Offset += Len;
  }
  return R;
}

//===--- Compound ops -----------------------------------------------------===//

// Y = A B: dA = dY B^T, dB = A^T dY. A 1-D operand is promoted as NumPy
// does ([K] -> [1, K] on the left, [K, 1] on the right) and the adjoints are
// reshaped back.
Adjoints gradMatMul(GradContext &C) {
  GradBuilder &B = C.B;
  Node *A = C.x(0), *W = C.x(1);
  assert(A->Type.rank() <= 2 && W->Type.rank() <= 2 && "matmul is 2-D");
  auto Promote = [&](Node *V, bool Left) -> Node * {
    if (V->Type.rank() == 2)
      return V;
    int64_t K = V->dims()[0];
    return B.reshape(V, Left ? Shape{1, K} : Shape{K, 1});
  };
  // The adjoint of y as a matrix: [M, N] even when y lost a promoted axis.
  int64_t M = A->Type.rank() == 2 ? A->dims()[0] : 1;
  int64_t N = W->Type.rank() == 2 ? W->dims()[1] : 1;
  Node *DY = B.reshape(C.DY, {M, N});
  Adjoints R(2, nullptr);
  if (C.wants(0))
    R[0] = B.reshape(B.matmul(DY, B.transpose(Promote(W, false))), A->dims());
  if (C.wants(1))
    R[1] = B.reshape(B.matmul(B.transpose(Promote(A, true)), DY), W->dims());
  return R;
}

// conv2d is bilinear in (x, w); its adjoints are the transposed convolution
// of dy with w (for x) and the correlation of x with dy (for w).
Adjoints gradConv2d(GradContext &C) {
  Adjoints R(2, nullptr);
  if (C.wants(0))
    R[0] =
        C.B.make(OpKind::Conv2dGradInput, C.x(0)->Type, {C.DY, C.x(1)}, C.N.A);
  if (C.wants(1))
    R[1] =
        C.B.make(OpKind::Conv2dGradWeight, C.x(1)->Type, {C.x(0), C.DY}, C.N.A);
  return R;
}

// Each window's maximum gets its dy (the first maximum on ties).
Adjoints gradMaxPool2d(GradContext &C) {
  return {C.B.make(OpKind::MaxPool2dGrad, C.x(0)->Type, {C.x(0), C.DY}, C.N.A)};
}

// Each element of a window gets dy / (size*size) of every window it is in.
Adjoints gradAvgPool2d(GradContext &C) {
  return {C.B.make(OpKind::AvgPool2dGrad, C.x(0)->Type, {C.DY}, C.N.A)};
}

// y = softmax(x): dx = y (dy - sum(dy y, axis, keepdims))
Adjoints gradSoftmax(GradContext &C) {
  GradBuilder &B = C.B;
  Node *Dot = B.reduceSum(B.mul(C.DY, C.y()), C.N.A.Axis, /*KeepDims=*/true);
  return {B.mul(C.y(), B.sub(C.DY, Dot))};
}

// y = log_softmax(x): dx = dy - softmax(x) sum(dy, axis, keepdims)
Adjoints gradLogSoftmax(GradContext &C) {
  GradBuilder &B = C.B;
  Node *Sum = B.reduceSum(C.DY, C.N.A.Axis, /*KeepDims=*/true);
  Node *P = B.make(OpKind::Softmax, TensorType(DType::F32, C.x(0)->dims()),
                   {C.x(0)}, axisAttrs(C.N.A.Axis));
  return {B.sub(C.DY, B.mul(P, Sum))};
}

//===--- Backward kernels (second derivatives) ----------------------------===//
// The backward kernels are linear in their gradient operand, and the conv
// ones bilinear, so their adjoints are the forward ops again: for
// <dy, conv2d(x, w)> = <conv2d_grad_input(dy, w), x>
//                    = <conv2d_grad_weight(x, dy), w>.

// z = conv2d_grad_input(dy, w): d(dy) = conv2d(dz, w), dw = grad_weight(dz, dy)
Adjoints gradConv2dGradInput(GradContext &C) {
  Adjoints R(2, nullptr);
  if (C.wants(0))
    R[0] = C.B.make(OpKind::Conv2d, C.x(0)->Type, {C.DY, C.x(1)}, C.N.A);
  if (C.wants(1))
    R[1] =
        C.B.make(OpKind::Conv2dGradWeight, C.x(1)->Type, {C.DY, C.x(0)}, C.N.A);
  return R;
}

// z = conv2d_grad_weight(x, dy): dx = grad_input(dy, dz), d(dy) = conv2d(x, dz)
Adjoints gradConv2dGradWeight(GradContext &C) {
  Adjoints R(2, nullptr);
  if (C.wants(0))
    R[0] =
        C.B.make(OpKind::Conv2dGradInput, C.x(0)->Type, {C.x(1), C.DY}, C.N.A);
  if (C.wants(1))
    R[1] = C.B.make(OpKind::Conv2d, C.x(1)->Type, {C.x(0), C.DY}, C.N.A);
  return R;
}

// z = avgpool2d_grad(dy) spreads each dy over its window: d(dy) = avgpool2d(dz)
Adjoints gradAvgPool2dGrad(GradContext &C) {
  return {C.B.make(OpKind::AvgPool2d, C.x(0)->Type, {C.DY}, C.N.A)};
}

} // namespace

// The table is Ops.def's Grad column: an op marked `Rule` differentiates
// through the function grad<Name> above (a row without one is a compile
// error), the others need no code here.
GradRule nnc::gradRule(OpKind K) {
  switch (K) {
#define NNC_GRAD_Rule(Name) {GradRule::Rule, grad##Name}
#define NNC_GRAD_Stop(Name) {GradRule::NonDifferentiable}
#define NNC_GRAD_Leaf(Name) {GradRule::Leaf}
#define NNC_GRAD_Missing(Name) {GradRule::Missing}
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  case OpKind::Name:                                                           \
    return NNC_GRAD_##Grad(Name);
#include "nnc/Graph/Ops.def"
#undef NNC_GRAD_Rule
#undef NNC_GRAD_Stop
#undef NNC_GRAD_Leaf
#undef NNC_GRAD_Missing
  }
  return {GradRule::Missing};
}
