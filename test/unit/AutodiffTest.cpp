//===- AutodiffTest.cpp - Reverse-mode differentiation and optimizer ------===//
//
// Structural tests of `differentiate` and `buildOptimizerUpdate` on
// hand-built graphs: the backward graph verifies, adjoints get readable names
// and source lines, broadcasting is undone, the gradient stops where it
// should, a missing rule is a diagnostic, and the optimizer creates the
// state leaves and updates PyTorch's rules need. Numerical correctness of
// every rule against finite differences is in AutodiffGradCheckTest.cpp.
//
//===----------------------------------------------------------------------===//
#include "nnc/Autodiff/Autodiff.h"
#include "nnc/Autodiff/Optimizer.h"
#include "nnc/Graph/Printer.h"
#include "nnc/Graph/ShapeRules.h"
#include "nnc/Graph/Verifier.h"

#include <gtest/gtest.h>

using namespace nnc;

namespace {

TensorType f32(llvm::ArrayRef<int64_t> Dims) {
  return TensorType(DType::F32, Dims);
}
SourceLoc line(uint32_t L) { return SourceLoc{llvm::SMLoc(), L, 1}; }

/// Builds forward graphs with result types from the shared shape rules.
struct Builder {
  Graph G{"m"};
  uint32_t Line = 1;

  Node *leaf(OpKind K, TensorType T, const char *Name) {
    Node *N = G.create(K, std::move(T), {}, line(Line++));
    N->Name = Name;
    if (K == OpKind::Param)
      G.Params.push_back(N);
    if (K == OpKind::Input)
      G.Inputs.push_back(N);
    if (K == OpKind::Target)
      G.Targets.push_back(N);
    return N;
  }
  Node *param(const char *Name, llvm::ArrayRef<int64_t> Dims) {
    return leaf(OpKind::Param, f32(Dims), Name);
  }
  Node *op(OpKind K, llvm::ArrayRef<Node *> Ops, Attrs A = {},
           const char *Name = "") {
    std::vector<TensorType> Types;
    for (Node *O : Ops)
      Types.push_back(O->Type);
    std::string Why;
    std::optional<TensorType> T = inferResultType(K, Types, A, Why);
    EXPECT_TRUE(T.has_value()) << Why;
    Node *N = G.create(K, T ? *T : f32({}), Ops, line(Line++), A);
    N->Name = Name;
    return N;
  }
  Node *scalar(double V) { return G.scalarConst(V, line(Line)); }
  void setLoss(Node *L, const char *Name = "L") {
    G.Loss = L;
    G.LossName = Name;
    G.LossLoc = L->Loc;
  }
};

Attrs axis(int64_t Axis, bool Keep = false) {
  Attrs A;
  A.Axis = Axis;
  A.KeepDims = Keep;
  return A;
}

std::string print(const Graph &G) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  printGraph(G, OS);
  return S;
}

const Node *findNamed(const Graph &G, llvm::StringRef Name) {
  for (const auto &N : G.nodes())
    if (N->Name == Name)
      return N.get();
  return nullptr;
}

/// Differentiates and checks the result is a well-formed graph.
void differentiateOk(Graph &G) {
  DiagEngine Diags;
  ASSERT_TRUE(differentiate(G, Diags));
  EXPECT_EQ(verifyGraph(G), "") << print(G);
  ASSERT_EQ(G.Grads.size(), G.Params.size());
}

TEST(Autodiff, ChainRuleNamesIntermediateAdjoints) {
  // The lecture's f(x) = x^2 + exp(cos(x) * x^2).
  Builder B;
  Node *X = B.param("x", {});
  Node *H1 = B.op(OpKind::Cos, {X}, {}, "h1");
  Node *H2 = B.op(OpKind::Pow, {X, B.scalar(2)}, {}, "h2");
  Node *E = B.op(OpKind::Exp, {B.op(OpKind::Mul, {H1, H2})});
  B.setLoss(B.op(OpKind::Add, {H2, E}, {}, "f"), "f");
  differentiateOk(B.G);

  for (const char *Name : {"d.f", "d.h1", "d.h2", "d.x"})
    EXPECT_NE(findNamed(B.G, Name), nullptr) << Name << "\n" << print(B.G);
  const Node *DX = B.G.Grads[0];
  EXPECT_EQ(DX->Name, "d.x");
  EXPECT_EQ(DX->Role, NodeRole::Backward);
  // d.x sums the paths through h1 and h2, so it is an add at x's line.
  EXPECT_EQ(DX->Kind, OpKind::Add);
  EXPECT_EQ(DX->Loc.Line, X->Loc.Line);
  // d.h1 is built by the rule of h1's user (the mul), at the mul's line.
  EXPECT_EQ(findNamed(B.G, "d.h1")->Kind, OpKind::Mul);
}

TEST(Autodiff, BackwardNodesKeepTheirForwardLine) {
  Builder B;
  Node *W = B.param("W", {3});
  Node *S = B.op(OpKind::Sigmoid, {W}, {}, "s"); // line 2
  B.setLoss(B.op(OpKind::ReduceSum, {S}, axis(ALL_AXES)));
  differentiateOk(B.G);
  // Every node of the sigmoid rule carries the sigmoid's line.
  unsigned AtSigmoid = 0;
  for (const auto &N : B.G.nodes())
    if (N->Role == NodeRole::Backward && N->Loc.Line == S->Loc.Line)
      ++AtSigmoid;
  EXPECT_GE(AtSigmoid, 3u) << print(B.G);
}

TEST(Autodiff, BroadcastIsUndoneByReduceSum) {
  Builder B;
  Node *X = B.leaf(OpKind::Input, f32({4, 3}), "x");
  Node *Bias = B.param("b", {3});
  Node *Col = B.param("c", {4, 1});
  Node *Y = B.op(OpKind::Add, {B.op(OpKind::Add, {X, Bias}), Col});
  B.setLoss(B.op(OpKind::ReduceSum, {B.op(OpKind::Exp, {Y})}, axis(ALL_AXES)));
  differentiateOk(B.G);
  const Node *DB = B.G.Grads[0];
  EXPECT_EQ(DB->Type, f32({3}));
  // [4, 3] -> sum over the leading axis -> [3].
  EXPECT_EQ(DB->Kind, OpKind::ReduceSum);
  EXPECT_EQ(DB->A.Axis, 0);
  const Node *DC = B.G.Grads[1];
  EXPECT_EQ(DC->Type, f32({4, 1}));
  EXPECT_EQ(DC->Kind, OpKind::ReduceSum);
  EXPECT_EQ(DC->A.Axis, 1);
  EXPECT_TRUE(DC->A.KeepDims);
}

TEST(Autodiff, ScalarOperandGetsOneFullReduction) {
  Builder B;
  Node *X = B.leaf(OpKind::Input, f32({2, 5}), "x");
  Node *S = B.param("s", {});
  B.setLoss(
      B.op(OpKind::ReduceSum, {B.op(OpKind::Mul, {X, S})}, axis(ALL_AXES)));
  differentiateOk(B.G);
  EXPECT_EQ(B.G.Grads[0]->Kind, OpKind::ReduceSum);
  EXPECT_EQ(B.G.Grads[0]->A.Axis, ALL_AXES);
}

TEST(Autodiff, InputsGetNoGradient) {
  Builder B;
  Node *X = B.leaf(OpKind::Input, f32({2}), "x");
  Node *W = B.param("W", {2});
  B.setLoss(B.op(OpKind::ReduceSum, {B.op(OpKind::Mul, {X, W}, {}, "p")},
                 axis(ALL_AXES)));
  differentiateOk(B.G);
  EXPECT_EQ(findNamed(B.G, "d.x"), nullptr) << print(B.G);
  // The mul's rule builds dW = dy * x only: no adjoint for x.
  unsigned Muls = 0;
  for (const auto &N : B.G.nodes())
    if (N->Role == NodeRole::Backward && N->Kind == OpKind::Mul)
      ++Muls;
  EXPECT_EQ(Muls, 1u) << print(B.G);
}

TEST(Autodiff, UnusedParamGetsBroadcastZero) {
  Builder B;
  Node *W = B.param("W", {2});
  B.param("unused", {3, 2});
  B.setLoss(B.op(OpKind::ReduceSum, {W}, axis(ALL_AXES)));
  differentiateOk(B.G);
  const Node *D = B.G.Grads[1];
  EXPECT_EQ(D->Name, "d.unused");
  ASSERT_EQ(D->Kind, OpKind::Broadcast);
  EXPECT_EQ(D->Type, f32({3, 2}));
  EXPECT_TRUE(D->operand(0)->isScalarConst());
  EXPECT_EQ(D->operand(0)->scalarValue(), 0.0);
}

TEST(Autodiff, NonDifferentiableOpsStopTheGradient) {
  // loss = sum(step(W) * V + (W > 0)): W's gradient is exactly zero.
  Builder B;
  Node *W = B.param("W", {2});
  Node *V = B.param("V", {2});
  Node *St = B.op(OpKind::Step, {W});
  Node *Gt = B.op(OpKind::CmpGt, {W, B.scalar(0)});
  Node *Y = B.op(OpKind::Add, {B.op(OpKind::Mul, {St, V}), Gt});
  B.setLoss(B.op(OpKind::ReduceSum, {Y}, axis(ALL_AXES)));
  differentiateOk(B.G);
  EXPECT_EQ(B.G.Grads[0]->Kind, OpKind::Broadcast) << print(B.G);
  EXPECT_EQ(B.G.Grads[1]->Kind, OpKind::Mul);
  llvm::DenseSet<const Node *> Carriers = gradientCarriers(B.G);
  EXPECT_FALSE(Carriers.count(St));
  EXPECT_FALSE(Carriers.count(Gt));
}

TEST(Autodiff, SignPassesTheGradientStraightThrough) {
  Builder B;
  Node *W = B.param("W", {2});
  Node *U = B.param("U", {2});
  Node *S = B.op(OpKind::Sign, {W});
  B.setLoss(
      B.op(OpKind::ReduceSum, {B.op(OpKind::Mul, {S, U})}, axis(ALL_AXES)));
  differentiateOk(B.G);
  EXPECT_TRUE(gradientPassesThroughSign(B.G, W));
  EXPECT_FALSE(gradientPassesThroughSign(B.G, U));
  // dW = unbroadcast(dy * U) passes sign unchanged: a mul of U.
  EXPECT_EQ(B.G.Grads[0]->Kind, OpKind::Mul);
}

TEST(Autodiff, SharedAdjointGetsItsOwnGradientNode) {
  // loss = sum(W + V): both params receive the same dy.
  Builder B;
  Node *W = B.param("W", {2});
  Node *V = B.param("V", {2});
  B.setLoss(
      B.op(OpKind::ReduceSum, {B.op(OpKind::Add, {W, V})}, axis(ALL_AXES)));
  differentiateOk(B.G);
  EXPECT_EQ(B.G.Grads[0]->Name, "d.W");
  EXPECT_EQ(B.G.Grads[1]->Name, "d.V");
  EXPECT_NE(B.G.Grads[0], B.G.Grads[1]);
}

TEST(Autodiff, MissingRuleIsADiagnostic) {
  Builder B;
  Node *X = B.leaf(OpKind::Input, f32({1, 1, 4, 4}), "x");
  Node *W = B.param("W", {1, 1, 2, 2});
  Attrs Pool;
  Pool.Size = 2;
  Pool.Stride = 2;
  // An op upstream of the rule-less one must not trip the walk.
  Node *G = B.op(OpKind::MaxPool2dGrad, {X, B.op(OpKind::Exp, {W})}, Pool);
  B.setLoss(B.op(OpKind::ReduceSum, {G}, axis(ALL_AXES)));
  std::string Err;
  llvm::raw_string_ostream OS(Err);
  DiagEngine Diags(OS);
  EXPECT_FALSE(differentiate(B.G, Diags));
  EXPECT_EQ(Diags.errorCount(), 1u);
  EXPECT_NE(Err.find("no gradient rule for op 'maxpool2d_grad'"),
            std::string::npos)
      << Err;
}

TEST(Autodiff, NonScalarLossIsADiagnostic) {
  Builder B;
  Node *W = B.param("W", {2});
  B.setLoss(B.op(OpKind::Exp, {W}));
  std::string Err;
  llvm::raw_string_ostream OS(Err);
  DiagEngine Diags(OS);
  EXPECT_FALSE(differentiate(B.G, Diags));
  EXPECT_NE(Err.find("the loss must be a scalar"), std::string::npos) << Err;
}

/// A two-param regression: loss = sum((x @ W + b)^2).
struct Regression : Builder {
  Regression() {
    Node *X = leaf(OpKind::Input, f32({4, 3}), "x");
    Node *W = param("W", {3, 2});
    Node *Bias = param("b", {2});
    Node *Y = op(OpKind::Add, {op(OpKind::MatMul, {X, W}), Bias}, {}, "y");
    setLoss(op(OpKind::ReduceSum, {op(OpKind::Mul, {Y, Y})}, axis(ALL_AXES)));
    DiagEngine Diags;
    EXPECT_TRUE(differentiate(G, Diags));
  }
  Node *targetOf(Node *N) const {
    for (const Update &U : G.Updates)
      if (U.Target == N)
        return U.NewValue;
    return nullptr;
  }
  std::vector<std::string> stateNames() const {
    std::vector<std::string> Names;
    for (const Node *S : G.States)
      Names.push_back(S->Name);
    return Names;
  }
  /// Whether `N` reads `Operand` directly.
  static bool reads(const Node *N, const Node *Operand) {
    return llvm::is_contained(N->Operands, Operand);
  }
};

TEST(Optimizer, PlainSgdHasNoState) {
  Regression R;
  OptimizerSpec Opt;
  buildOptimizerUpdate(R.G, Opt);
  EXPECT_EQ(verifyGraph(R.G), "") << print(R.G);
  ASSERT_EQ(R.G.Hypers.size(), 1u);
  EXPECT_EQ(R.G.Hypers[0]->Name, "lr");
  EXPECT_EQ(R.G.Hypers[0]->Kind, OpKind::Hyper);
  EXPECT_TRUE(R.G.States.empty());
  ASSERT_EQ(R.G.Updates.size(), 2u);
  // W <- W - lr * dW
  const Node *NewW = R.targetOf(R.G.Params[0]);
  ASSERT_NE(NewW, nullptr);
  EXPECT_EQ(NewW->Kind, OpKind::Sub);
  EXPECT_EQ(NewW->Role, NodeRole::Update);
  EXPECT_EQ(NewW->operand(0), R.G.Params[0]);
  EXPECT_EQ(NewW->operand(1)->operand(0), R.G.Hypers[0]);
  EXPECT_EQ(NewW->operand(1)->operand(1), R.G.Grads[0]);
}

TEST(Optimizer, SgdMomentumKeepsAVelocityPerParam) {
  Regression R;
  OptimizerSpec Opt;
  Opt.Momentum = 0.9;
  Opt.WeightDecay = 1e-4;
  buildOptimizerUpdate(R.G, Opt);
  EXPECT_EQ(verifyGraph(R.G), "") << print(R.G);
  ASSERT_EQ(R.G.States.size(), 2u);
  EXPECT_EQ(R.G.States[0]->Name, "v.W");
  EXPECT_EQ(R.G.States[1]->Name, "v.b");
  EXPECT_EQ(R.G.States[0]->Type, R.G.Params[0]->Type);
  EXPECT_EQ(R.G.Updates.size(), 4u);
  // W <- W - lr * v', where v' is the velocity's new value.
  Node *NewV = R.targetOf(R.G.States[0]);
  EXPECT_EQ(R.targetOf(R.G.Params[0])->operand(1)->operand(1), NewV);
}

TEST(Optimizer, AdamHasMomentsAndAStepCount) {
  Regression R;
  OptimizerSpec Opt;
  Opt.Kind = OptimizerSpec::Adam;
  buildOptimizerUpdate(R.G, Opt);
  EXPECT_EQ(verifyGraph(R.G), "") << print(R.G);
  std::vector<std::string> Names;
  for (const Node *S : R.G.States)
    Names.push_back(S->Name);
  EXPECT_EQ(Names,
            (std::vector<std::string>{"adam.t", "m.W", "v.W", "m.b", "v.b"}));
  EXPECT_EQ(R.G.States[0]->Type, f32({}));
  // t <- t + 1; every state and param is updated.
  EXPECT_EQ(R.targetOf(R.G.States[0])->Kind, OpKind::Add);
  EXPECT_EQ(R.G.Updates.size(), 1u + 3u * 2u);
}

TEST(Optimizer, NesterovStepsAlongTheNewVelocity) {
  Regression R;
  OptimizerSpec Opt;
  Opt.Momentum = 0.9;
  Opt.Nesterov = true;
  buildOptimizerUpdate(R.G, Opt);
  EXPECT_EQ(verifyGraph(R.G), "") << print(R.G);
  EXPECT_EQ(R.stateNames(), (std::vector<std::string>{"v.W", "v.b"}));
  // W <- W - lr (g + mu v'): the step adds the gradient to mu v'.
  Node *NewV = R.targetOf(R.G.States[0]);
  const Node *Step = R.targetOf(R.G.Params[0])->operand(1)->operand(1);
  ASSERT_EQ(Step->Kind, OpKind::Add);
  EXPECT_EQ(Step->operand(0), R.G.Grads[0]);
  EXPECT_EQ(Step->operand(1)->Kind, OpKind::Mul);
  EXPECT_TRUE(Regression::reads(Step->operand(1), NewV));
}

TEST(Optimizer, AdamDecaysTheGradientAdamWTheWeights) {
  for (auto Kind : {OptimizerSpec::Adam, OptimizerSpec::AdamW}) {
    SCOPED_TRACE(Kind == OptimizerSpec::Adam ? "adam" : "adamw");
    Regression R;
    OptimizerSpec Opt;
    Opt.Kind = Kind;
    Opt.WeightDecay = 0.1;
    buildOptimizerUpdate(R.G, Opt);
    EXPECT_EQ(verifyGraph(R.G), "") << print(R.G);
    EXPECT_EQ(R.stateNames(),
              (std::vector<std::string>{"adam.t", "m.W", "v.W", "m.b", "v.b"}));
    // m' = b1 m + (1 - b1) g: adam's g is dW + wd W, adamw's the raw dW.
    const Node *MomentGrad = R.targetOf(R.G.States[1])->operand(1)->operand(1);
    const Node *NewW = R.targetOf(R.G.Params[0]);
    if (Kind == OptimizerSpec::Adam) {
      EXPECT_EQ(MomentGrad->Kind, OpKind::Add);
      EXPECT_EQ(MomentGrad->operand(0), R.G.Grads[0]);
      EXPECT_EQ(NewW->operand(0), R.G.Params[0]);
    } else {
      EXPECT_EQ(MomentGrad, R.G.Grads[0]);
      // W <- W (1 - lr wd) - step
      const Node *Shrunk = NewW->operand(0);
      ASSERT_EQ(Shrunk->Kind, OpKind::Mul);
      EXPECT_EQ(Shrunk->operand(0), R.G.Params[0]);
      EXPECT_EQ(Shrunk->operand(1)->Kind, OpKind::Sub);
    }
  }
}

TEST(Optimizer, AdagradAndRmspropKeepSquaredGradients) {
  Regression Ada;
  OptimizerSpec Opt;
  Opt.Kind = OptimizerSpec::Adagrad;
  buildOptimizerUpdate(Ada.G, Opt);
  EXPECT_EQ(verifyGraph(Ada.G), "") << print(Ada.G);
  EXPECT_EQ(Ada.stateNames(), (std::vector<std::string>{"sum.W", "sum.b"}));
  EXPECT_EQ(Ada.targetOf(Ada.G.States[0])->Kind, OpKind::Add);
  EXPECT_EQ(Ada.G.Updates.size(), 4u);

  Opt.Kind = OptimizerSpec::RmsProp;
  Regression Plain;
  buildOptimizerUpdate(Plain.G, Opt);
  EXPECT_EQ(Plain.stateNames(), (std::vector<std::string>{"sq.W", "sq.b"}));
  Opt.Momentum = 0.5;
  Regression Mom;
  buildOptimizerUpdate(Mom.G, Opt);
  EXPECT_EQ(verifyGraph(Mom.G), "") << print(Mom.G);
  EXPECT_EQ(Mom.stateNames(),
            (std::vector<std::string>{"sq.W", "buf.W", "sq.b", "buf.b"}));
  // W <- W - lr buf', where buf' is the buffer's new value.
  EXPECT_EQ(Mom.targetOf(Mom.G.Params[0])->operand(1)->operand(1),
            Mom.targetOf(Mom.G.States[1]));
}

TEST(Optimizer, ClipNormScalesEveryGradientByOneFactor) {
  Regression R;
  OptimizerSpec Opt;
  Opt.ClipNorm = 1.5;
  Node *DW = R.G.Grads[0], *DB = R.G.Grads[1];
  buildOptimizerUpdate(R.G, Opt);
  EXPECT_EQ(verifyGraph(R.G), "") << print(R.G);
  // The raw gradients stay the interface's (the grad entry point).
  EXPECT_EQ(R.G.Grads[0], DW);
  EXPECT_EQ(R.G.Grads[1], DB);
  std::vector<const Node *> Mins;
  for (const auto &N : R.G.nodes())
    if (N->Kind == OpKind::Min)
      Mins.push_back(N.get());
  ASSERT_EQ(Mins.size(), 1u);
  // W <- W - lr (dW * factor), the same factor for b.
  for (size_t I = 0; I < 2; ++I) {
    const Node *Clipped = R.targetOf(R.G.Params[I])->operand(1)->operand(1);
    ASSERT_EQ(Clipped->Kind, OpKind::Mul);
    EXPECT_EQ(Clipped->operand(0), R.G.Grads[I]);
    EXPECT_EQ(Clipped->operand(1), Mins[0]);
    EXPECT_EQ(Clipped->Role, NodeRole::Update);
  }
}

} // namespace
