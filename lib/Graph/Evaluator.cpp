//===- Evaluator.cpp - Reference interpreter of the graph IR --------------===//
//
// `evaluateOp` is one switch over OpKind (no `default`): elementwise ops are
// a formula each, handed to the broadcasting map kernels; the rest call the
// loops in EvaluatorKernels.cpp. `evaluate` runs a whole graph in order.
//
// Conventions follow docs/language.md and PyTorch: step(x) = x > 0, sign(x) =
// +1 for x > 0 else -1, softplus and sigmoid computed without overflow, max/min
// propagate NaN and keep the first operand on ties, cast to i32 truncates
// toward zero (saturating; NaN gives 0), and IEEE rules (inf, NaN) are left
// alone for div, log and sqrt.
//
//===----------------------------------------------------------------------===//
#include "nnc/Graph/Evaluator.h"

#include "EvaluatorKernels.h"

#include "nnc/Graph/DropoutMask.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numbers>

using namespace nnc;
using namespace nnc::eval;

/// Converts to the nearest i32 the way a C cast of a truncated value would,
/// but defined everywhere: out-of-range values saturate and NaN becomes 0.
static double truncToI32(double V) {
  if (std::isnan(V))
    return 0;
  double T = std::trunc(V);
  return std::clamp(T, double(std::numeric_limits<int32_t>::min()),
                    double(std::numeric_limits<int32_t>::max()));
}

EvalTensor nnc::toEval(const Tensor &T) {
  EvalTensor Out = EvalTensor::zeros(T.Type);
  for (int64_t I = 0; I < T.numElements(); ++I)
    Out.Data[I] = T.at(I);
  return Out;
}

Tensor nnc::fromEval(const EvalTensor &T) {
  Tensor Out(T.Type);
  for (int64_t I = 0; I < T.numElements(); ++I) {
    if (T.Type.Elem == DType::F32)
      Out.F[I] = float(T.Data[I]);
    else
      Out.I[I] = int32_t(truncToI32(T.Data[I]));
  }
  return Out;
}

/// 1 / (1 + e^-x) without overflowing e^-x for very negative x.
static double sigmoid(double X) {
  if (X >= 0)
    return 1 / (1 + std::exp(-X));
  double E = std::exp(X);
  return E / (1 + E);
}

/// log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exact for large |x|.
static double softplus(double X) {
  return std::max(X, 0.0) + std::log1p(std::exp(-std::fabs(X)));
}

/// max/min that propagate NaN (as torch.maximum does) and keep the first
/// operand on ties.
static double maxOf(double A, double B) {
  if (std::isnan(A) || std::isnan(B))
    return std::numeric_limits<double>::quiet_NaN();
  return A >= B ? A : B;
}
static double minOf(double A, double B) {
  if (std::isnan(A) || std::isnan(B))
    return std::numeric_limits<double>::quiet_NaN();
  return A <= B ? A : B;
}

EvalTensor nnc::evaluateOp(const Node &N,
                           llvm::ArrayRef<const EvalTensor *> Ops) {
  assert(
      (opNumOperands(N.Kind) < 0 || int(Ops.size()) == opNumOperands(N.Kind)) &&
      "wrong operand count for evaluateOp");
  for ([[maybe_unused]] const EvalTensor *Op : Ops)
    assert(Op && int64_t(Op->Data.size()) == Op->numElements() &&
           "operand value does not match its type");
  const TensorType &R = N.Type;
  const Attrs &A = N.A;
  auto Unary = [&](UnaryFn F) { return mapUnary(*Ops[0], R, std::move(F)); };
  auto Binary = [&](BinaryFn F) {
    return mapBinary(*Ops[0], *Ops[1], R, std::move(F));
  };
  switch (N.Kind) {
  case OpKind::Const:
    return toEval(N.Value);
  case OpKind::Input:
  case OpKind::Target:
  case OpKind::Param:
  case OpKind::State:
  case OpKind::Hyper:
  case OpKind::Buffer:
    assert(false && "leaf values come from the caller, not evaluateOp");
    return EvalTensor::zeros(R);

  case OpKind::Neg:
    return Unary([](double X) { return -X; });
  case OpKind::Exp:
    return Unary([](double X) { return std::exp(X); });
  case OpKind::Log:
    return Unary([](double X) { return std::log(X); });
  case OpKind::Sqrt:
    return Unary([](double X) { return std::sqrt(X); });
  case OpKind::Abs:
    return Unary([](double X) { return std::fabs(X); });
  case OpKind::Sin:
    return Unary([](double X) { return std::sin(X); });
  case OpKind::Cos:
    return Unary([](double X) { return std::cos(X); });
  case OpKind::Tanh:
    return Unary([](double X) { return std::tanh(X); });
  case OpKind::Sigmoid:
    return Unary(sigmoid);
  case OpKind::Relu:
    return Unary([](double X) { return X > 0 ? X : 0.0; });
  case OpKind::Softplus:
    return Unary(softplus);
  case OpKind::LeakyRelu:
    return Unary([&](double X) { return X > 0 ? X : A.Alpha * X; });
  case OpKind::Elu:
    return Unary([&](double X) { return X > 0 ? X : A.Alpha * std::expm1(X); });
  case OpKind::Step:
    return Unary([](double X) { return X > 0 ? 1.0 : 0.0; });
  case OpKind::Sign:
    return Unary([](double X) { return X > 0 ? 1.0 : -1.0; });
  case OpKind::Erf:
    return Unary([](double X) { return std::erf(X); });
  case OpKind::Silu:
    return Unary([](double X) { return X * sigmoid(X); });
  case OpKind::Gelu: // x Phi(x), Phi through erfc: exact far below 0 too
    return Unary([](double X) {
      return 0.5 * X * std::erfc(-X * std::numbers::sqrt2 / 2);
    });
  case OpKind::Cast:
    if (R.Elem == DType::I32)
      return Unary(truncToI32);
    return Unary([](double X) { return X; });

  case OpKind::Add:
    return Binary([](double X, double Y) { return X + Y; });
  case OpKind::Sub:
    return Binary([](double X, double Y) { return X - Y; });
  case OpKind::Mul:
    return Binary([](double X, double Y) { return X * Y; });
  case OpKind::Div:
    return Binary([](double X, double Y) { return X / Y; });
  case OpKind::Pow:
    return Binary([](double X, double Y) { return std::pow(X, Y); });
  case OpKind::Max:
    return Binary(maxOf);
  case OpKind::Min:
    return Binary(minOf);

  case OpKind::CmpEq:
    return Binary([](double X, double Y) { return X == Y ? 1.0 : 0.0; });
  case OpKind::CmpNe:
    return Binary([](double X, double Y) { return X != Y ? 1.0 : 0.0; });
  case OpKind::CmpLt:
    return Binary([](double X, double Y) { return X < Y ? 1.0 : 0.0; });
  case OpKind::CmpLe:
    return Binary([](double X, double Y) { return X <= Y ? 1.0 : 0.0; });
  case OpKind::CmpGt:
    return Binary([](double X, double Y) { return X > Y ? 1.0 : 0.0; });
  case OpKind::CmpGe:
    return Binary([](double X, double Y) { return X >= Y ? 1.0 : 0.0; });

  case OpKind::ReduceSum:
    return reduce(ReduceKind::Sum, *Ops[0], A.Axis, R);
  case OpKind::ReduceMax:
    return reduce(ReduceKind::Max, *Ops[0], A.Axis, R);
  case OpKind::ArgMax:
    return reduce(ReduceKind::ArgMax, *Ops[0], A.Axis, R);
  case OpKind::ArgMaxMask:
    return reduce(ReduceKind::ArgMaxMask, *Ops[0], A.Axis, R);

  case OpKind::Reshape:
    return reshape(*Ops[0], R);
  case OpKind::Broadcast:
    return broadcastTo(*Ops[0], R);
  case OpKind::Transpose:
    return transpose(*Ops[0], R);
  case OpKind::Permute:
    return permute(*Ops[0], A.Perm, R);
  case OpKind::Slice:
    return slice(*Ops[0], A.Axis, A.Offset, R);
  case OpKind::Concat:
    return concat(Ops, A.Axis, R);

  case OpKind::MatMul:
    return matmul(*Ops[0], *Ops[1], R);
  case OpKind::Conv2d:
    return conv2d(*Ops[0], *Ops[1], A, R);
  case OpKind::MaxPool2d:
    return pool2d(*Ops[0], /*Max=*/true, A, R);
  case OpKind::AvgPool2d:
    return pool2d(*Ops[0], /*Max=*/false, A, R);
  case OpKind::Softmax:
    return softmax(*Ops[0], A.Axis, /*Log=*/false, R);
  case OpKind::LogSoftmax:
    return softmax(*Ops[0], A.Axis, /*Log=*/true, R);
  case OpKind::OneHot:
    return oneHot(*Ops[0], R);

  case OpKind::Conv2dGradInput:
    return conv2dGradInput(*Ops[0], *Ops[1], A, R);
  case OpKind::Conv2dGradWeight:
    return conv2dGradWeight(*Ops[0], *Ops[1], A, R);
  case OpKind::MaxPool2dGrad:
    return maxPool2dGrad(*Ops[0], *Ops[1], A, R);
  case OpKind::AvgPool2dGrad:
    return avgPool2dGrad(*Ops[0], A, R);

  case OpKind::ChannelSum: {
    EvalTensor Out = EvalTensor::zeros(R);
    const EvalTensor &X = *Ops[0];
    int64_t C = X.Type.Dims[1], Inner = X.numElements() / X.Type.Dims[0] / C;
    for (int64_t I = 0; I < X.numElements(); ++I)
      Out.Data[(I / Inner) % C] += X.Data[I];
    return Out;
  }
  case OpKind::DropoutMask: {
    EvalTensor Out = EvalTensor::zeros(R);
    auto Key = uint32_t(int64_t(Ops[0]->Data[0]));
    for (int64_t I = 0; I < Out.numElements(); ++I)
      Out.Data[I] =
          dropout::maskValue(Key, uint32_t(A.Stream), uint32_t(I), A.Rate);
    return Out;
  }

  case OpKind::BatchNorm:
  case OpKind::Dropout:
    assert(false && "specializeModes rewrites mode-dependent ops first");
    return EvalTensor::zeros(R);
  }
  assert(false && "unknown op kind");
  return EvalTensor::zeros(R);
}

EvalValues nnc::evaluate(const Graph &G, const EvalValues &Leaves) {
  // Results live in a vector while evaluating: references into a DenseMap
  // would dangle when it grows.
  std::vector<EvalTensor> Results(G.size());
  llvm::DenseMap<const Node *, size_t> Slot;
  for (size_t I = 0; I < G.size(); ++I) {
    const Node &N = *G.nodes()[I];
    Slot[&N] = I;
    if (N.isLeaf() && N.Kind != OpKind::Const) {
      auto It = Leaves.find(&N);
      assert(It != Leaves.end() && "no value given for a leaf");
      assert(It != Leaves.end() && It->second.Type == N.Type &&
             int64_t(It->second.Data.size()) == N.Type.numElements() &&
             "leaf value does not match the leaf's type");
      Results[I] = It != Leaves.end() ? It->second : EvalTensor::zeros(N.Type);
      continue;
    }
    llvm::SmallVector<const EvalTensor *, 2> Operands;
    for (const Node *Op : N.Operands) {
      assert(Slot.count(Op) && "operand evaluated after its user");
      Operands.push_back(&Results[Slot.lookup(Op)]);
    }
    Results[I] = evaluateOp(N, Operands);
  }
  EvalValues Values;
  for (size_t I = 0; I < G.size(); ++I)
    Values[G.nodes()[I].get()] = std::move(Results[I]);
  return Values;
}
