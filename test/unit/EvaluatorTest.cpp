//===- EvaluatorTest.cpp - The reference evaluator on hand-computed cases -===//
//
// The evaluator is the oracle for gradient checks and generated code, so
// every op is pinned here on small examples worked out by hand: broadcasting,
// every axis form, keepdims, convolution with stride and padding, pools, and
// the kink conventions (relu(0), sign(0), first maximum). The backward
// kernels are checked against finite differences of their forward ops. Each
// case also asks the shape rules whether its result type is legal, so the
// tests cannot drift away from what the verifier accepts.
//
//===----------------------------------------------------------------------===//
#include "nnc/Graph/Evaluator.h"
#include "nnc/Graph/ShapeRules.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace nnc;

namespace {

TensorType f32(llvm::ArrayRef<int64_t> Dims) {
  return TensorType(DType::F32, Dims);
}
TensorType i32(llvm::ArrayRef<int64_t> Dims) {
  return TensorType(DType::I32, Dims);
}
EvalTensor val(TensorType T, std::vector<double> Data) {
  EXPECT_EQ(int64_t(Data.size()), T.numElements());
  return {std::move(T), std::move(Data)};
}
EvalTensor scalar(double V) { return val(f32({}), {V}); }

Attrs axis(int64_t A, bool Keep = false) {
  Attrs At;
  At.Axis = A;
  At.KeepDims = Keep;
  return At;
}
Attrs window(int64_t Size, int64_t Stride, int64_t Padding = 0) {
  Attrs At;
  At.Size = Size;
  At.Stride = Stride;
  At.Padding = Padding;
  return At;
}
Attrs alpha(double A) {
  Attrs At;
  At.Alpha = A;
  return At;
}

/// Evaluates op `K` with result type `R`, after checking that the shape rules
/// accept that type.
EvalTensor run(OpKind K, TensorType R, std::vector<EvalTensor> Ops,
               Attrs A = {}) {
  std::vector<TensorType> Types;
  std::vector<const EvalTensor *> Ptrs;
  for (const EvalTensor &T : Ops) {
    Types.push_back(T.Type);
    Ptrs.push_back(&T);
  }
  std::string Why;
  EXPECT_TRUE(checkResultType(K, Types, A, R, Why)) << Why;
  Node N(K, R, {}, {});
  N.A = A;
  EvalTensor Out = evaluateOp(N, Ptrs);
  EXPECT_EQ(Out.Type, R);
  return Out;
}

/// Applies a unary op to a 1-D list.
std::vector<double> unary(OpKind K, std::vector<double> X, Attrs A = {}) {
  int64_t N = X.size();
  return run(K, f32({N}), {val(f32({N}), X)}, A).Data;
}

using Vec = std::vector<double>;
const double Inf = std::numeric_limits<double>::infinity();

void expectNear(const Vec &Got, const Vec &Want, double Tol = 1e-12) {
  ASSERT_EQ(Got.size(), Want.size());
  for (size_t I = 0; I < Got.size(); ++I)
    EXPECT_NEAR(Got[I], Want[I], Tol) << "at " << I;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

TEST(Evaluator, UnaryMath) {
  EXPECT_EQ(unary(OpKind::Neg, {1, -2, 0}), Vec({-1, 2, -0.0}));
  expectNear(unary(OpKind::Exp, {0, 1}), {1, std::exp(1.0)});
  expectNear(unary(OpKind::Sqrt, {4, 2}), {2, std::sqrt(2.0)});
  EXPECT_EQ(unary(OpKind::Abs, {-3, 0, 2}), Vec({3, 0, 2}));
  expectNear(unary(OpKind::Sin, {0, M_PI / 2}), {0, 1});
  expectNear(unary(OpKind::Cos, {0, M_PI}), {1, -1});
  expectNear(unary(OpKind::Tanh, {0, 1}), {0, std::tanh(1.0)});
}

TEST(Evaluator, IEEEEdgesDoNotTrap) {
  Vec L = unary(OpKind::Log, {1, 0, -1});
  EXPECT_EQ(L[0], 0);
  EXPECT_EQ(L[1], -Inf);
  EXPECT_TRUE(std::isnan(L[2]));
  EXPECT_TRUE(std::isnan(unary(OpKind::Sqrt, {-1})[0]));
  Vec D =
      run(OpKind::Div, f32({3}), {val(f32({3}), {1, -1, 0}), scalar(0)}).Data;
  EXPECT_EQ(D[0], Inf);
  EXPECT_EQ(D[1], -Inf);
  EXPECT_TRUE(std::isnan(D[2]));
}

TEST(Evaluator, SigmoidAndSoftplusAreStable) {
  Vec S = unary(OpKind::Sigmoid, {0, -1000, 1000, 2});
  expectNear(S, {0.5, 0, 1, 1 / (1 + std::exp(-2.0))});
  Vec P = unary(OpKind::Softplus, {0, 1000, -1000, 1});
  expectNear(P, {std::log(2.0), 1000, 0, std::log1p(std::exp(1.0))});
  EXPECT_FALSE(std::isnan(P[1]));
}

TEST(Evaluator, KinkConventions) {
  EXPECT_EQ(unary(OpKind::Relu, {-1, 0, 2}), Vec({0, 0, 2}));
  EXPECT_EQ(unary(OpKind::Step, {-1, 0, 2}), Vec({0, 0, 1}));
  // docs/language.md: sign(0) = -1 (the perceptron rule), not 0.
  EXPECT_EQ(unary(OpKind::Sign, {-3, 0, 0.5}), Vec({-1, -1, 1}));
  expectNear(unary(OpKind::LeakyRelu, {-2, 0, 3}, alpha(0.1)), {-0.2, 0, 3});
  expectNear(unary(OpKind::Elu, {-1, 0, 3}, alpha(2)),
             {2 * (std::exp(-1.0) - 1), 0, 3});
}

TEST(Evaluator, CastTruncatesTowardZero) {
  EvalTensor X = val(f32({5}), {2.7, -2.7, 0.5, 3e10, NAN});
  EXPECT_EQ(run(OpKind::Cast, i32({5}), {X}).Data,
            Vec({2, -2, 0, 2147483647, 0}));
  EvalTensor L = val(i32({2}), {3, -4});
  EXPECT_EQ(run(OpKind::Cast, f32({2}), {L}).Data, Vec({3, -4}));
}

TEST(Evaluator, BinaryBroadcasting) {
  EvalTensor Col = val(f32({2, 1}), {10, 20});
  EvalTensor Row = val(f32({3}), {1, 2, 3});
  EXPECT_EQ(run(OpKind::Add, f32({2, 3}), {Col, Row}).Data,
            Vec({11, 12, 13, 21, 22, 23}));
  EXPECT_EQ(run(OpKind::Sub, f32({2, 3}), {Row, Col}).Data,
            Vec({-9, -8, -7, -19, -18, -17}));
  EXPECT_EQ(run(OpKind::Mul, f32({3}), {scalar(2), Row}).Data, Vec({2, 4, 6}));
  EXPECT_EQ(run(OpKind::Div, f32({2, 3}), {Col, Row}).Data,
            Vec({10, 5, 10.0 / 3, 20, 10, 20.0 / 3}));
  // [2, 1, 2] with [3, 1]: both operands stretch.
  EvalTensor A = val(f32({2, 1, 2}), {1, 2, 3, 4});
  EvalTensor B = val(f32({3, 1}), {0, 10, 20});
  EXPECT_EQ(run(OpKind::Add, f32({2, 3, 2}), {A, B}).Data,
            Vec({1, 2, 11, 12, 21, 22, 3, 4, 13, 14, 23, 24}));
}

TEST(Evaluator, PowMaxMin) {
  EvalTensor X = val(f32({3}), {2, 3, -8});
  EXPECT_EQ(run(OpKind::Pow, f32({3}), {X, scalar(2)}).Data, Vec({4, 9, 64}));
  EXPECT_TRUE(std::isnan(
      run(OpKind::Pow, f32({1}), {val(f32({1}), {-8}), scalar(1.0 / 3)})
          .Data[0]));
  EvalTensor Y = val(f32({3}), {2, 1, NAN});
  Vec Max = run(OpKind::Max, f32({3}), {X, Y}).Data;
  EXPECT_EQ(Max[0], 2);
  EXPECT_EQ(Max[1], 3);
  EXPECT_TRUE(std::isnan(Max[2]));
  Vec Min = run(OpKind::Min, f32({3}), {X, Y}).Data;
  EXPECT_EQ(Min[1], 1);
  EXPECT_TRUE(std::isnan(Min[2]));
}

TEST(Evaluator, IntegerArithmeticIsExact) {
  EvalTensor A = val(i32({2}), {2147483000, -7});
  EvalTensor B = val(i32({2}), {600, 3});
  EXPECT_EQ(run(OpKind::Add, i32({2}), {A, B}).Data, Vec({2147483600, -4}));
  EXPECT_EQ(run(OpKind::Neg, i32({2}), {B}).Data, Vec({-600, -3}));
}

TEST(Evaluator, Comparisons) {
  EvalTensor X = val(f32({2, 3}), {1, 2, 3, 3, 2, 1});
  EvalTensor Y = val(f32({3}), {2, 2, 2});
  auto Cmp = [&](OpKind K) { return run(K, f32({2, 3}), {X, Y}).Data; };
  EXPECT_EQ(Cmp(OpKind::CmpEq), Vec({0, 1, 0, 0, 1, 0}));
  EXPECT_EQ(Cmp(OpKind::CmpNe), Vec({1, 0, 1, 1, 0, 1}));
  EXPECT_EQ(Cmp(OpKind::CmpLt), Vec({1, 0, 0, 0, 0, 1}));
  EXPECT_EQ(Cmp(OpKind::CmpLe), Vec({1, 1, 0, 0, 1, 1}));
  EXPECT_EQ(Cmp(OpKind::CmpGt), Vec({0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(Cmp(OpKind::CmpGe), Vec({0, 1, 1, 1, 1, 0}));
  // i32 operands compare to an f32 0/1 result.
  EvalTensor L = val(i32({3}), {0, 1, 2});
  EvalTensor P = val(i32({3}), {0, 2, 2});
  EXPECT_EQ(run(OpKind::CmpEq, f32({3}), {L, P}).Data, Vec({1, 0, 1}));
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

TEST(Evaluator, ReduceSumEveryAxisForm) {
  EvalTensor X = val(f32({2, 3}), {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(run(OpKind::ReduceSum, f32({3}), {X}, axis(0)).Data,
            Vec({5, 7, 9}));
  EXPECT_EQ(run(OpKind::ReduceSum, f32({2}), {X}, axis(1)).Data, Vec({6, 15}));
  EXPECT_EQ(run(OpKind::ReduceSum, f32({2, 1}), {X}, axis(1, true)).Data,
            Vec({6, 15}));
  EXPECT_EQ(run(OpKind::ReduceSum, f32({1, 3}), {X}, axis(0, true)).Data,
            Vec({5, 7, 9}));
  EXPECT_EQ(run(OpKind::ReduceSum, f32({}), {X}, axis(ALL_AXES)).Data,
            Vec({21}));
  EXPECT_EQ(run(OpKind::ReduceSum, f32({1, 1}), {X}, axis(ALL_AXES, true)).Data,
            Vec({21}));
  // The middle axis of a 3-D tensor: outer and inner both > 1.
  EvalTensor Y = val(f32({2, 2, 2}), {1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_EQ(run(OpKind::ReduceSum, f32({2, 2}), {Y}, axis(1)).Data,
            Vec({4, 6, 12, 14}));
  EXPECT_EQ(run(OpKind::ReduceSum, f32({}), {scalar(3)}, axis(ALL_AXES)).Data,
            Vec({3}));
}

TEST(Evaluator, ReduceMaxAndArgMaxTakeTheFirstMaximum) {
  EvalTensor X = val(f32({2, 3}), {1, 5, 5, 7, -1, 7});
  EXPECT_EQ(run(OpKind::ReduceMax, f32({3}), {X}, axis(0)).Data,
            Vec({7, 5, 7}));
  EXPECT_EQ(run(OpKind::ReduceMax, f32({2, 1}), {X}, axis(1, true)).Data,
            Vec({5, 7}));
  EXPECT_EQ(run(OpKind::ReduceMax, f32({}), {X}, axis(ALL_AXES)).Data,
            Vec({7}));
  EXPECT_EQ(run(OpKind::ArgMax, i32({2}), {X}, axis(1)).Data, Vec({1, 0}));
  EXPECT_EQ(run(OpKind::ArgMax, i32({3}), {X}, axis(0)).Data, Vec({1, 0, 1}));
  EXPECT_EQ(run(OpKind::ArgMax, i32({}), {X}, axis(ALL_AXES)).Data, Vec({3}));
  EXPECT_EQ(run(OpKind::ArgMax, i32({2, 1}), {X}, axis(1, true)).Data,
            Vec({1, 0}));
  EvalTensor Neg = val(f32({3}), {-5, -2, -3});
  EXPECT_EQ(run(OpKind::ReduceMax, f32({}), {Neg}, axis(0)).Data, Vec({-2}));
}

TEST(Evaluator, ArgMaxMask) {
  EvalTensor X = val(f32({2, 3}), {1, 5, 5, 7, -1, 7});
  EXPECT_EQ(run(OpKind::ArgMaxMask, f32({2, 3}), {X}, axis(1)).Data,
            Vec({0, 1, 0, 1, 0, 0}));
  EXPECT_EQ(run(OpKind::ArgMaxMask, f32({2, 3}), {X}, axis(0)).Data,
            Vec({0, 1, 0, 1, 0, 1}));
  EXPECT_EQ(run(OpKind::ArgMaxMask, f32({2, 3}), {X}, axis(ALL_AXES)).Data,
            Vec({0, 0, 0, 1, 0, 0}));
}

//===----------------------------------------------------------------------===//
// Data movement, matmul, softmax, one_hot
//===----------------------------------------------------------------------===//

TEST(Evaluator, ReshapeBroadcastTranspose) {
  EvalTensor X = val(f32({2, 3}), {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(run(OpKind::Reshape, f32({3, 2}), {X}).Data, X.Data);
  EXPECT_EQ(run(OpKind::Transpose, f32({3, 2}), {X}).Data,
            Vec({1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(
      run(OpKind::Broadcast, f32({2, 3}), {val(f32({3}), {1, 2, 3})}).Data,
      Vec({1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(
      run(OpKind::Broadcast, f32({2, 3}), {val(f32({2, 1}), {7, 8})}).Data,
      Vec({7, 7, 7, 8, 8, 8}));
  EXPECT_EQ(run(OpKind::Broadcast, f32({2, 2}), {scalar(4)}).Data,
            Vec({4, 4, 4, 4}));
}

TEST(Evaluator, MatMul) {
  EvalTensor A = val(f32({2, 3}), {1, 2, 3, 4, 5, 6});
  EvalTensor B = val(f32({3, 2}), {7, 8, 9, 10, 11, 12});
  EXPECT_EQ(run(OpKind::MatMul, f32({2, 2}), {A, B}).Data,
            Vec({58, 64, 139, 154}));
}

TEST(Evaluator, SoftmaxIsStableAlongItsAxis) {
  EvalTensor X = val(f32({2, 2}), {0, std::log(3.0), 1000, 1000});
  expectNear(run(OpKind::Softmax, f32({2, 2}), {X}, axis(1)).Data,
             {0.25, 0.75, 0.5, 0.5});
  expectNear(run(OpKind::LogSoftmax, f32({2, 2}), {X}, axis(1)).Data,
             {std::log(0.25), std::log(0.75), std::log(0.5), std::log(0.5)});
  EvalTensor Y = val(f32({2, 2}), {0, 1, 0, 1});
  expectNear(run(OpKind::Softmax, f32({2, 2}), {Y}, axis(0)).Data,
             {0.5, 0.5, 0.5, 0.5});
}

TEST(Evaluator, OneHotZeroesOutOfRangeLabels) {
  EvalTensor L = val(i32({4}), {0, 2, -1, 3});
  Attrs Three;
  Three.Size = 3;
  EXPECT_EQ(run(OpKind::OneHot, f32({4, 3}), {L}, Three).Data,
            Vec({1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

TEST(Evaluator, Conv2dValid) {
  // 3x3 image, 2x2 kernel [[1, 0], [0, -1]]: each output is x[i][j] -
  // x[i+1][j+1].
  EvalTensor X = val(f32({1, 1, 3, 3}), {1, 2, 3, 4, 5, 6, 7, 8, 9});
  EvalTensor W = val(f32({1, 1, 2, 2}), {1, 0, 0, -1});
  EXPECT_EQ(run(OpKind::Conv2d, f32({1, 1, 2, 2}), {X, W}, window(0, 1)).Data,
            Vec({-4, -4, -4, -4}));
}

TEST(Evaluator, Conv2dStridePaddingChannels) {
  // Two input channels, two filters, a 2x2 all-ones kernel per channel;
  // padding 1 and stride 2 over a 3x3 image take the four corners' windows.
  EvalTensor X = val(f32({1, 2, 3, 3}), {1, 2, 3, 4, 5, 6, 7, 8, 9, //
                                         1, 1, 1, 1, 1, 1, 1, 1, 1});
  Vec Ones(8, 1.0), Filter2 = {1, 0, 0, 0, 0, 0, 0, 0};
  Vec WData = Ones;
  WData.insert(WData.end(), Filter2.begin(), Filter2.end());
  EvalTensor W = val(f32({2, 2, 2, 2}), WData);
  EvalTensor Y =
      run(OpKind::Conv2d, f32({1, 2, 2, 2}), {X, W}, window(0, 2, 1));
  // Filter 1 windows (rows/cols -1..0, -1..0 / 1..2): sums over both channels.
  // (0,0): x00 = 1 (+1) = 2; (0,1): x01 + x02 = 5 (+2) = 7;
  // (1,0): x10 + x20 = 11 (+2) = 13; (1,1): 5+6+8+9 = 28 (+4) = 32.
  // Filter 2 reads only channel 0 at the window's top-left tap.
  EXPECT_EQ(Y.Data, Vec({2, 7, 13, 32, 0, 0, 0, 5}));
}

TEST(Evaluator, Pools) {
  EvalTensor X = val(f32({1, 1, 4, 4}), {1, 2, 3, 4, 5, 6, 7, 8, //
                                         9, 10, 11, 12, 13, 14, 15, 16});
  EXPECT_EQ(run(OpKind::MaxPool2d, f32({1, 1, 2, 2}), {X}, window(2, 2)).Data,
            Vec({6, 8, 14, 16}));
  EXPECT_EQ(run(OpKind::AvgPool2d, f32({1, 1, 2, 2}), {X}, window(2, 2)).Data,
            Vec({3.5, 5.5, 11.5, 13.5}));
  // Overlapping windows (stride 1) and a floor output size (3 / 2 -> 1).
  EXPECT_EQ(run(OpKind::MaxPool2d, f32({1, 1, 3, 3}), {X}, window(2, 1)).Data,
            Vec({6, 7, 8, 10, 11, 12, 14, 15, 16}));
  EvalTensor Odd = val(f32({1, 1, 3, 3}), {1, 2, 3, 4, 5, 6, 7, 8, 9});
  EXPECT_EQ(run(OpKind::AvgPool2d, f32({1, 1, 1, 1}), {Odd}, window(2, 2)).Data,
            Vec({3}));
}

TEST(Evaluator, MaxPoolGradGoesToTheFirstMaximum) {
  EvalTensor X = val(f32({1, 1, 2, 4}), {3, 3, 1, 2, //
                                         0, 3, 2, 2});
  EvalTensor DY = val(f32({1, 1, 1, 2}), {10, 20});
  EXPECT_EQ(
      run(OpKind::MaxPool2dGrad, f32({1, 1, 2, 4}), {X, DY}, window(2, 2)).Data,
      Vec({10, 0, 0, 20, 0, 0, 0, 0}));
  EXPECT_EQ(
      run(OpKind::AvgPool2dGrad, f32({1, 1, 2, 4}), {DY}, window(2, 2)).Data,
      Vec({2.5, 2.5, 5, 5, 2.5, 2.5, 5, 5}));
}

/// d/dθ sum(dy * f(θ)) by central differences, element by element.
Vec numericGrad(EvalTensor Theta, const EvalTensor &DY,
                const std::function<EvalTensor(const EvalTensor &)> &F) {
  Vec G(Theta.Data.size());
  const double H = 1e-6;
  for (size_t I = 0; I < G.size(); ++I) {
    double Saved = Theta.Data[I];
    auto Loss = [&](double V) {
      Theta.Data[I] = V;
      EvalTensor Y = F(Theta);
      double L = 0;
      for (size_t J = 0; J < Y.Data.size(); ++J)
        L += DY.Data[J] * Y.Data[J];
      return L;
    };
    G[I] = (Loss(Saved + H) - Loss(Saved - H)) / (2 * H);
    Theta.Data[I] = Saved;
  }
  return G;
}

Vec ramp(int64_t N, double Scale, double Shift) {
  Vec V(N);
  for (int64_t I = 0; I < N; ++I)
    V[I] = std::sin(Scale * double(I) + Shift);
  return V;
}

TEST(Evaluator, ConvGradientsMatchFiniteDifferences) {
  Attrs A = window(0, 2, 1);
  TensorType XT = f32({2, 2, 5, 4}), WT = f32({3, 2, 3, 2}),
             YT = f32({2, 3, 3, 3});
  EvalTensor X = val(XT, ramp(XT.numElements(), 0.7, 0.1));
  EvalTensor W = val(WT, ramp(WT.numElements(), 1.3, 0.4));
  EvalTensor DY = val(YT, ramp(YT.numElements(), 0.9, 0.2));
  EvalTensor DX = run(OpKind::Conv2dGradInput, XT, {DY, W}, A);
  EvalTensor DW = run(OpKind::Conv2dGradWeight, WT, {X, DY}, A);
  auto ConvX = [&](const EvalTensor &T) {
    return run(OpKind::Conv2d, YT, {T, W}, A);
  };
  auto ConvW = [&](const EvalTensor &T) {
    return run(OpKind::Conv2d, YT, {X, T}, A);
  };
  expectNear(DX.Data, numericGrad(X, DY, ConvX), 1e-6);
  expectNear(DW.Data, numericGrad(W, DY, ConvW), 1e-6);
}

TEST(Evaluator, PoolGradientsMatchFiniteDifferences) {
  Attrs A = window(2, 1);
  TensorType XT = f32({1, 2, 3, 4}), YT = f32({1, 2, 2, 3});
  EvalTensor X = val(XT, ramp(XT.numElements(), 2.1, 0.3));
  EvalTensor DY = val(YT, ramp(YT.numElements(), 0.5, 1.0));
  auto Max = [&](const EvalTensor &T) {
    return run(OpKind::MaxPool2d, YT, {T}, A);
  };
  auto Avg = [&](const EvalTensor &T) {
    return run(OpKind::AvgPool2d, YT, {T}, A);
  };
  expectNear(run(OpKind::MaxPool2dGrad, XT, {X, DY}, A).Data,
             numericGrad(X, DY, Max), 1e-6);
  expectNear(run(OpKind::AvgPool2dGrad, XT, {DY}, A).Data,
             numericGrad(X, DY, Avg), 1e-6);
}

//===----------------------------------------------------------------------===//
// Whole graphs and conversions
//===----------------------------------------------------------------------===//

TEST(Evaluator, WholeGraph) {
  // y = sigmoid(x @ W + b); loss = sum((y - t)^2) * 0.5
  Graph G("g");
  Node *X = G.create(OpKind::Input, f32({2, 2}), {});
  Node *T = G.create(OpKind::Target, f32({2, 1}), {});
  Node *W = G.create(OpKind::Param, f32({2, 1}), {});
  Tensor BV(f32({1}));
  BV.F = {-1};
  Node *B = G.constant(BV);
  Node *Mm = G.create(OpKind::MatMul, f32({2, 1}), {X, W});
  Node *Z = G.create(OpKind::Add, f32({2, 1}), {Mm, B});
  Node *Y = G.create(OpKind::Sigmoid, f32({2, 1}), {Z});
  Node *D = G.create(OpKind::Sub, f32({2, 1}), {Y, T});
  Node *Sq = G.create(OpKind::Pow, f32({2, 1}), {D, G.scalarConst(2)});
  Node *S = G.create(OpKind::ReduceSum, f32({}), {Sq}, {}, axis(ALL_AXES));
  Node *L = G.create(OpKind::Mul, f32({}), {S, G.scalarConst(0.5)});
  EvalValues Leaves;
  Leaves[X] = val(f32({2, 2}), {1, 0, 0, 1});
  Leaves[T] = val(f32({2, 1}), {1, 0});
  Leaves[W] = val(f32({2, 1}), {1, 3});
  EvalValues V = evaluate(G, Leaves);
  EXPECT_EQ(V[Z].Data, Vec({0, 2}));
  double Y1 = 1 / (1 + std::exp(-2.0));
  expectNear(V[L].Data, {0.5 * (0.25 + Y1 * Y1)});
  EXPECT_EQ(V[X].Data, Leaves[X].Data);
  EXPECT_EQ(V[B].Data, Vec({-1}));
  EXPECT_EQ(V.size(), G.size());
}

TEST(Evaluator, TensorConversions) {
  Tensor F(f32({3}));
  F.F = {0.1f, -2.5f, 1e-8f};
  EvalTensor E = toEval(F);
  EXPECT_EQ(E.Data[0], double(0.1f));
  EXPECT_EQ(fromEval(E).F, F.F);
  Tensor I(i32({2}));
  I.I = {-7, 2147483647};
  EXPECT_EQ(toEval(I).Data, Vec({-7, 2147483647}));
  EXPECT_EQ(fromEval(toEval(I)).I, I.I);
  EXPECT_EQ(fromEval(val(i32({2}), {-2.9, 1e12})).I,
            std::vector<int32_t>({-2, 2147483647}));
}

} // namespace
