//===- AutodiffGradCheckTest.cpp - Every gradient rule vs finite differences =//
//
// Each test builds a small forward graph around one op (params as operands,
// random shapes, broadcasting pairs, every axis variant), takes
// loss = sum(op(...) * K) with K a fixed random tensor — so the incoming
// adjoint is not uniform and a rule that mixes up elements is caught —
// differentiates it, and compares every gradient element with central finite
// differences from the reference evaluator. Also: the lecture's two-term loss
// L + lambda R against its hand-derived gradient, and a corrupted gradient
// that the check must flag.
//
//===----------------------------------------------------------------------===//
#include "nnc/Autodiff/Autodiff.h"
#include "nnc/Autodiff/CheckGrad.h"
#include "nnc/Graph/Evaluator.h"
#include "nnc/Graph/Printer.h"
#include "nnc/Graph/ShapeRules.h"
#include "nnc/Graph/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace nnc;

namespace {

TensorType f32(llvm::ArrayRef<int64_t> Dims) {
  return TensorType(DType::F32, Dims);
}

Attrs axis(int64_t Axis, bool Keep = false) {
  Attrs A;
  A.Axis = Axis;
  A.KeepDims = Keep;
  return A;
}

Attrs window(int64_t Size, int64_t Stride, int64_t Padding = 0) {
  Attrs A;
  A.Size = Size;
  A.Stride = Stride;
  A.Padding = Padding;
  return A;
}

std::string print(const Graph &G) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  printGraph(G, OS);
  return S;
}

/// A forward graph under test, typed by the shared shape rules.
struct OpGraph {
  Graph G{"t"};
  std::mt19937 Rand{42};

  /// A param drawn from normal(0, 1), or uniform(Lo, Hi) when Lo < Hi.
  Node *param(llvm::ArrayRef<int64_t> Dims, double Lo = 0, double Hi = 0) {
    Node *P = G.create(OpKind::Param, f32(Dims), {});
    P->Name = "p" + std::to_string(G.Params.size());
    P->Init.Kind = Lo < Hi ? InitSpec::Uniform : InitSpec::Normal;
    P->Init.A = Lo < Hi ? Lo : 0;
    P->Init.B = Lo < Hi ? Hi : 1;
    G.Params.push_back(P);
    return P;
  }
  Node *input(TensorType T) {
    Node *N = G.create(OpKind::Input, std::move(T), {});
    N->Name = "x" + std::to_string(G.Inputs.size());
    G.Inputs.push_back(N);
    return N;
  }
  Node *randomConst(llvm::ArrayRef<int64_t> Dims) {
    Tensor T(f32(Dims));
    std::normal_distribution<float> D;
    for (float &V : T.F)
      V = D(Rand);
    return G.constant(T);
  }
  Node *op(OpKind K, llvm::ArrayRef<Node *> Ops, Attrs A = {}) {
    std::vector<TensorType> Types;
    for (Node *O : Ops)
      Types.push_back(O->Type);
    std::string Why;
    std::optional<TensorType> T = inferResultType(K, Types, A, Why);
    EXPECT_TRUE(T.has_value()) << opSpelling(K).str() << ": " << Why;
    return G.create(K, T ? *T : f32({}), Ops, {}, A);
  }
  /// An op whose result type the builder chooses (reshape, broadcast,
  /// cast, the conv/pool backward kernels).
  Node *typed(OpKind K, TensorType T, llvm::ArrayRef<Node *> Ops,
              Attrs A = {}) {
    return G.create(K, std::move(T), Ops, {}, A);
  }

  /// loss = sum(Y * K): differentiates and checks every param.
  std::vector<ParamGradCheck> check(Node *Y) {
    Node *Weighted = op(OpKind::Mul, {Y, randomConst(Y->dims())});
    G.Loss = op(OpKind::ReduceSum, {Weighted}, axis(ALL_AXES));
    G.LossName = "L";
    DiagEngine Diags;
    EXPECT_TRUE(differentiate(G, Diags));
    EXPECT_EQ(verifyGraph(G), "") << print(G);
    GradCheckOptions Opts;
    Opts.MaxElementsPerParam = 64;
    return checkGradients(G, randomLeaves(G, 7), Opts);
  }
};

/// Every param's gradient matches finite differences.
::testing::AssertionResult matches(const std::vector<ParamGradCheck> &Checks,
                                   const Graph &G) {
  if (Checks.empty())
    return ::testing::AssertionFailure() << "no param was checked";
  for (const ParamGradCheck &C : Checks) {
    if (C.Status != ParamGradCheck::Ok || C.Elements == 0)
      return ::testing::AssertionFailure()
             << C.Param->Name << ": max-abs-err " << C.MaxAbsErr
             << ", max-rel-err " << C.MaxRelErr << "\n"
             << print(G);
  }
  return ::testing::AssertionSuccess();
}

#define EXPECT_GRADS_MATCH(T, Y)                                               \
  do {                                                                         \
    auto Checks = (T).check(Y);                                                \
    EXPECT_TRUE(matches(Checks, (T).G));                                       \
  } while (false)

//===--- Elementwise, one operand -----------------------------------------===//

struct UnaryCase {
  OpKind Kind;
  double Lo = 0, Hi = 0; ///< The operand's range, when the op needs one.
  double Alpha = 0;
};

class UnaryGrad : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryGrad, MatchesFiniteDifferences) {
  const UnaryCase &C = GetParam();
  for (Shape Dims : {Shape{}, Shape{5}, Shape{3, 4}, Shape{2, 3, 2}}) {
    OpGraph T;
    Attrs A;
    A.Alpha = C.Alpha;
    EXPECT_GRADS_MATCH(T, T.op(C.Kind, {T.param(Dims, C.Lo, C.Hi)}, A));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Autodiff, UnaryGrad,
    ::testing::Values(UnaryCase{OpKind::Neg}, UnaryCase{OpKind::Exp},
                      UnaryCase{OpKind::Log, 0.2, 3},
                      UnaryCase{OpKind::Sqrt, 0.2, 3}, UnaryCase{OpKind::Abs},
                      UnaryCase{OpKind::Sin}, UnaryCase{OpKind::Cos},
                      UnaryCase{OpKind::Tanh}, UnaryCase{OpKind::Sigmoid},
                      UnaryCase{OpKind::Relu}, UnaryCase{OpKind::Softplus},
                      UnaryCase{OpKind::LeakyRelu, 0, 0, 0.1},
                      UnaryCase{OpKind::Elu, 0, 0, 1.0},
                      UnaryCase{OpKind::Elu, 0, 0, 0.5}, UnaryCase{OpKind::Erf},
                      UnaryCase{OpKind::Gelu}, UnaryCase{OpKind::Silu},
                      // step has gradient 0, and so does the difference.
                      UnaryCase{OpKind::Step}),
    [](const auto &Info) {
      return opSpelling(Info.param.Kind).str() + "_" +
             std::to_string(Info.index);
    });

TEST(AutodiffGrad, SignIsStraightThroughAndNotCompared) {
  OpGraph T;
  Node *W = T.param({4});
  auto Checks = T.check(T.op(OpKind::Sign, {W}));
  ASSERT_EQ(Checks.size(), 1u);
  EXPECT_EQ(Checks[0].Status, ParamGradCheck::StraightThrough);
}

TEST(AutodiffGrad, CastStopsTheGradient) {
  // y = cast(cast(3 W) to i32) + W: only the second term has a gradient.
  OpGraph T;
  Node *W = T.param({6});
  Node *Scaled = T.op(OpKind::Mul, {W, T.G.scalarConst(3)});
  Node *Int = T.typed(OpKind::Cast, TensorType(DType::I32, {6}), {Scaled});
  Node *Back = T.typed(OpKind::Cast, f32({6}), {Int});
  EXPECT_GRADS_MATCH(T, T.op(OpKind::Add, {Back, W}));
}

//===--- Elementwise, two operands, with broadcasting ---------------------===//

struct BinaryCase {
  OpKind Kind;
  double Lo = 0, Hi = 0; ///< Range of both operands, when needed.
};

class BinaryGrad : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(BinaryGrad, MatchesFiniteDifferencesUnderBroadcasting) {
  const BinaryCase &C = GetParam();
  std::pair<Shape, Shape> Pairs[] = {
      {{3, 4}, {3, 4}}, {{3, 4}, {4}},         {{4}, {3, 4}},
      {{3, 1}, {1, 4}}, {{2, 3, 4}, {3, 1}},   {{}, {3, 4}},
      {{3, 4}, {}},     {{1, 3, 1}, {2, 1, 4}}};
  for (auto &[DA, DB] : Pairs) {
    OpGraph T;
    Node *A = T.param(DA, C.Lo, C.Hi);
    Node *B = T.param(DB, C.Lo, C.Hi);
    EXPECT_GRADS_MATCH(T, T.op(C.Kind, {A, B}));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Autodiff, BinaryGrad,
    ::testing::Values(BinaryCase{OpKind::Add}, BinaryCase{OpKind::Sub},
                      BinaryCase{OpKind::Mul}, BinaryCase{OpKind::Div, 0.5, 2},
                      BinaryCase{OpKind::Pow, 0.5, 2}, BinaryCase{OpKind::Max},
                      BinaryCase{OpKind::Min}),
    [](const auto &Info) { return opSpelling(Info.param.Kind).str(); });

TEST(AutodiffGrad, PowWithConstantExponents) {
  for (double E : {2.0, 3.0, 1.0, 0.5, -1.5}) {
    OpGraph T;
    Node *X = T.param({3, 2}, 0.3, 2);
    EXPECT_GRADS_MATCH(T, T.op(OpKind::Pow, {X, T.G.scalarConst(E)}));
  }
}

TEST(AutodiffGrad, ComparisonsStopTheGradient) {
  // y = (A > B) * A + (A == B): only the mul's A operand has a gradient.
  for (OpKind K : {OpKind::CmpEq, OpKind::CmpNe, OpKind::CmpLt, OpKind::CmpLe,
                   OpKind::CmpGt, OpKind::CmpGe}) {
    OpGraph T;
    Node *A = T.param({3, 4});
    Node *B = T.param({4});
    Node *Mask = T.op(K, {A, B});
    EXPECT_GRADS_MATCH(T, T.op(OpKind::Add, {T.op(OpKind::Mul, {Mask, A}),
                                             T.op(OpKind::Mul, {Mask, B})}));
  }
}

//===--- Reductions -------------------------------------------------------===//

TEST(AutodiffGrad, ReductionsOverEveryAxis) {
  for (OpKind K : {OpKind::ReduceSum, OpKind::ReduceMax})
    for (int64_t Axis : {int64_t(0), int64_t(1), int64_t(2), ALL_AXES})
      for (bool Keep : {false, true}) {
        OpGraph T;
        Node *X = T.param({2, 3, 4});
        SCOPED_TRACE(opSpelling(K).str() + " axis " + std::to_string(Axis) +
                     (Keep ? " keepdims" : ""));
        EXPECT_GRADS_MATCH(T, T.op(K, {X}, axis(Axis, Keep)));
      }
}

TEST(AutodiffGrad, ArgMaxAndItsMaskStopTheGradient) {
  OpGraph T;
  Node *X = T.param({3, 4});
  Node *Idx = T.op(OpKind::ArgMax, {X}, axis(1, true));
  Node *IdxF = T.typed(OpKind::Cast, f32({3, 1}), {Idx});
  Node *Mask = T.op(OpKind::ArgMaxMask, {X}, axis(0));
  Node *Y = T.op(OpKind::Mul, {T.op(OpKind::Add, {IdxF, Mask}), X});
  EXPECT_GRADS_MATCH(T, Y);
}

//===--- Data movement ----------------------------------------------------===//

TEST(AutodiffGrad, ReshapeBroadcastTranspose) {
  {
    OpGraph T;
    EXPECT_GRADS_MATCH(
        T, T.typed(OpKind::Reshape, f32({4, 6}), {T.param({2, 3, 4})}));
  }
  {
    OpGraph T;
    EXPECT_GRADS_MATCH(
        T, T.typed(OpKind::Broadcast, f32({2, 3, 4}), {T.param({3, 1})}));
  }
  {
    OpGraph T;
    EXPECT_GRADS_MATCH(T,
                       T.typed(OpKind::Broadcast, f32({2, 3}), {T.param({})}));
  }
  {
    OpGraph T;
    EXPECT_GRADS_MATCH(T, T.op(OpKind::Transpose, {T.param({3, 5})}));
  }
  // permute's adjoint is the inverse permutation (not the same one: a
  // 3-cycle tells them apart).
  {
    OpGraph T;
    Attrs A;
    int64_t P[] = {1, 2, 0};
    A.Perm = packPerm(P, 3);
    EXPECT_GRADS_MATCH(T, T.op(OpKind::Permute, {T.param({2, 3, 4})}, A));
  }
}

// slice at the start, inside and at the end of each axis (its adjoint is
// dy with zeros on neither, both or one side); concat of two and three
// operands along each axis, one of them twice.
TEST(AutodiffGrad, SliceAndConcat) {
  struct Cut {
    int64_t Axis, Offset, Size;
  };
  for (Cut C : {Cut{0, 0, 2}, Cut{1, 1, 2}, Cut{2, 3, 2}, Cut{2, 0, 5}}) {
    OpGraph T;
    Attrs A = axis(C.Axis);
    A.Offset = C.Offset;
    A.Size = C.Size;
    EXPECT_GRADS_MATCH(T, T.op(OpKind::Slice, {T.param({3, 4, 5})}, A));
  }
  for (int64_t Axis : {0, 1, 2}) {
    OpGraph T;
    Shape Other{2, 3, 4};
    Other[Axis] = 1;
    Node *A = T.param({2, 3, 4});
    Node *B = T.param(Other);
    EXPECT_GRADS_MATCH(T, T.op(OpKind::Concat, {A, B, A}, axis(Axis)));
  }
  {
    OpGraph T;
    Node *A = T.param({4, 2});
    Node *B = T.param({4, 3});
    EXPECT_GRADS_MATCH(
        T, T.op(OpKind::Concat, {T.op(OpKind::Exp, {A}), B}, axis(1)));
  }
}

//===--- Compound ops -----------------------------------------------------===//

TEST(AutodiffGrad, MatMul) {
  for (auto [M, K, N] : {std::tuple{3, 4, 5}, {1, 3, 1}, {4, 1, 2}}) {
    OpGraph T;
    Node *A = T.param({M, K});
    Node *B = T.param({K, N});
    EXPECT_GRADS_MATCH(T, T.op(OpKind::MatMul, {A, B}));
  }
}

TEST(AutodiffGrad, Conv2dWithStrideAndPadding) {
  struct Case {
    Shape X, W;
    int64_t Stride, Padding;
  } Cases[] = {{{2, 3, 6, 5}, {4, 3, 3, 2}, 1, 0},
               {{1, 2, 7, 7}, {3, 2, 3, 3}, 2, 1},
               {{2, 1, 5, 6}, {2, 1, 2, 3}, 2, 0}};
  for (const Case &C : Cases) {
    OpGraph T;
    Node *X = T.param(C.X);
    Node *W = T.param(C.W);
    Attrs A = window(0, C.Stride, C.Padding);
    EXPECT_GRADS_MATCH(T, T.op(OpKind::Conv2d, {X, W}, A));
  }
}

TEST(AutodiffGrad, Pools) {
  for (OpKind K : {OpKind::MaxPool2d, OpKind::AvgPool2d})
    for (auto [Size, Stride] : {std::pair{2, 2}, {3, 2}, {2, 1}}) {
      OpGraph T;
      SCOPED_TRACE(opSpelling(K).str() + " size " + std::to_string(Size));
      EXPECT_GRADS_MATCH(
          T, T.op(K, {T.param({2, 3, 7, 6})}, window(Size, Stride)));
    }
}

TEST(AutodiffGrad, SoftmaxAndLogSoftmaxOverEveryAxis) {
  for (OpKind K : {OpKind::Softmax, OpKind::LogSoftmax})
    for (int64_t Axis : {0, 1, 2}) {
      OpGraph T;
      SCOPED_TRACE(opSpelling(K).str() + " axis " + std::to_string(Axis));
      EXPECT_GRADS_MATCH(T, T.op(K, {T.param({3, 4, 2})}, axis(Axis)));
    }
}

TEST(AutodiffGrad, CrossEntropyThroughOneHot) {
  // mean over rows of -sum(one_hot(t) * log_softmax(s)), as Sema decomposes
  // cross_entropy with i32 labels.
  OpGraph T;
  Node *Labels = T.input(TensorType(DType::I32, {5}));
  Node *S = T.param({5, 4});
  Attrs Hot;
  Hot.Size = 4;
  Node *OneHot = T.op(OpKind::OneHot, {Labels}, Hot);
  Node *LogP = T.op(OpKind::LogSoftmax, {S}, axis(1));
  Node *PerRow =
      T.op(OpKind::ReduceSum, {T.op(OpKind::Mul, {OneHot, LogP})}, axis(1));
  EXPECT_GRADS_MATCH(T, T.op(OpKind::Neg, {PerRow}));
}

//===--- Backward kernels (second derivatives) ----------------------------===//

TEST(AutodiffGrad, ConvAndAvgPoolBackwardKernels) {
  Attrs A = window(0, 2, 1);
  {
    OpGraph T; // conv2d_grad_input(dy, w): x is [1, 2, 7, 7]
    Node *DY = T.param({1, 3, 4, 4});
    Node *W = T.param({3, 2, 3, 3});
    EXPECT_GRADS_MATCH(
        T, T.typed(OpKind::Conv2dGradInput, f32({1, 2, 7, 7}), {DY, W}, A));
  }
  {
    OpGraph T; // conv2d_grad_weight(x, dy): w is [3, 2, 3, 3]
    Node *X = T.param({1, 2, 7, 7});
    Node *DY = T.param({1, 3, 4, 4});
    EXPECT_GRADS_MATCH(
        T, T.typed(OpKind::Conv2dGradWeight, f32({3, 2, 3, 3}), {X, DY}, A));
  }
  {
    OpGraph T; // avgpool2d_grad(dy): x is [2, 1, 6, 6]
    Node *DY = T.param({2, 1, 3, 3});
    EXPECT_GRADS_MATCH(T, T.typed(OpKind::AvgPool2dGrad, f32({2, 1, 6, 6}),
                                  {DY}, window(2, 2)));
  }
}

//===--- Whole models -----------------------------------------------------===//

TEST(AutodiffGrad, FanOutIsSummed) {
  // y = W * W + exp(W) @ W: W is used four times.
  OpGraph T;
  Node *W = T.param({3, 3});
  Node *Sq = T.op(OpKind::Mul, {W, W});
  Node *Mm = T.op(OpKind::MatMul, {T.op(OpKind::Exp, {W}), W});
  EXPECT_GRADS_MATCH(T, T.op(OpKind::Add, {Sq, Mm}));
}

TEST(AutodiffGrad, TwoTermLossMatchesTheHandDerivedGradient) {
  // The lecture's L + lambda R with L = sum((x w - t)^2), R = 1/2 sum(w^2):
  // dL/dw + lambda dR/dw = 2 x^T (x w - t) + lambda w.
  const double Lambda = 0.3;
  OpGraph T;
  Node *X = T.input(f32({4, 3}));
  Node *Tgt = T.G.create(OpKind::Target, f32({4, 1}), {});
  T.G.Targets.push_back(Tgt);
  Node *W = T.param({3, 1});
  Node *Err = T.op(OpKind::Sub, {T.op(OpKind::MatMul, {X, W}), Tgt});
  Node *L =
      T.op(OpKind::ReduceSum, {T.op(OpKind::Pow, {Err, T.G.scalarConst(2)})},
           axis(ALL_AXES));
  Node *Half =
      T.op(OpKind::Mul, {T.G.scalarConst(0.5), T.op(OpKind::Mul, {W, W})});
  Node *R = T.op(OpKind::ReduceSum, {Half}, axis(ALL_AXES));
  T.G.Loss =
      T.op(OpKind::Add, {L, T.op(OpKind::Mul, {T.G.scalarConst(Lambda), R})});
  DiagEngine Diags;
  ASSERT_TRUE(differentiate(T.G, Diags));

  EvalValues Leaves = randomLeaves(T.G, 3);
  EvalValues V = evaluate(T.G, Leaves);
  const std::vector<double> &Xv = V[X].Data, &Tv = V[Tgt].Data, &Wv = V[W].Data,
                            &Dw = V[T.G.Grads[0]].Data;
  for (int J = 0; J < 3; ++J) {
    double Expected = Lambda * Wv[J];
    for (int I = 0; I < 4; ++I) {
      double Residual = -Tv[I];
      for (int K = 0; K < 3; ++K)
        Residual += Xv[I * 3 + K] * Wv[K];
      Expected += 2 * Xv[I * 3 + J] * Residual;
    }
    EXPECT_NEAR(Dw[J], Expected, 1e-5 * std::max(1.0, std::fabs(Expected)));
  }
}

TEST(AutodiffGrad, ReferenceGradientsAreTheEvaluatorsValues) {
  // What `--check-grad --out` writes: the loss and the gradients in param
  // order, exactly as evaluating the whole graph gives them.
  OpGraph T;
  Node *W = T.param({3, 2});
  Node *V = T.param({2});
  Node *Y = T.op(OpKind::Tanh, {T.op(OpKind::Mul, {W, V})});
  T.G.Loss = T.op(OpKind::ReduceSum, {Y}, axis(ALL_AXES));
  DiagEngine Diags;
  ASSERT_TRUE(differentiate(T.G, Diags));
  EvalValues Leaves = randomLeaves(T.G, 5);
  ReferenceGradients R = referenceGradients(T.G, Leaves);
  EvalValues All = evaluate(T.G, Leaves);
  EXPECT_EQ(R.Loss.Data, All[T.G.Loss].Data);
  ASSERT_EQ(R.Grads.size(), 2u);
  EXPECT_EQ(R.Grads[0].Type, W->Type);
  EXPECT_EQ(R.Grads[0].Data, All[T.G.Grads[0]].Data);
  EXPECT_EQ(R.Grads[1].Data, All[T.G.Grads[1]].Data);
}

TEST(AutodiffGrad, CorruptedGradientIsFlagged) {
  // The check must be able to fail: scale one analytic gradient by 1.01.
  OpGraph T;
  Node *W = T.param({3, 2});
  Node *V = T.param({2});
  Node *Y = T.op(OpKind::Tanh, {T.op(OpKind::Add, {W, V})});
  T.G.Loss = T.op(OpKind::ReduceSum, {Y}, axis(ALL_AXES));
  DiagEngine Diags;
  ASSERT_TRUE(differentiate(T.G, Diags));
  T.G.Grads[1] = T.op(OpKind::Mul, {T.G.Grads[1], T.G.scalarConst(1.01)});
  auto Checks = checkGradients(T.G, randomLeaves(T.G, 1), GradCheckOptions());
  ASSERT_EQ(Checks.size(), 2u);
  EXPECT_EQ(Checks[0].Status, ParamGradCheck::Ok);
  EXPECT_EQ(Checks[1].Status, ParamGradCheck::Failed);
  EXPECT_GT(Checks[1].MaxRelErr, 5e-3);

  std::string Table;
  llvm::raw_string_ostream OS(Table);
  printGradCheck(T.G, Checks, OS);
  EXPECT_NE(Table.find("param  shape      max-abs-err  max-rel-err  status"),
            std::string::npos)
      << Table;
  EXPECT_NE(Table.find("FAILED: 1 of 2 params"), std::string::npos) << Table;
}

} // namespace
