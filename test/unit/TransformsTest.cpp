//===- TransformsTest.cpp - The graph optimizer ---------------------------===//
//
// What lit cannot show well: that -O2 never changes a value (every example's
// training step, evaluated by the reference interpreter on random leaves
// before and after optimization), that autodiff's own df/dx of
// examples/chain_rule.nn folds to a number once x is a constant, that
// --verify-each names a pass that breaks the graph, and the limits and
// refusals of single passes on hand-built graphs.
//
//===----------------------------------------------------------------------===//
#include "nnc/Autodiff/Optimizer.h"
#include "nnc/Graph/Evaluator.h"
#include "nnc/Graph/Verifier.h"
#include "nnc/Parse/Parser.h"
#include "nnc/Sema/Sema.h"
#include "nnc/Transforms/PassManager.h"
#include "nnc/Transforms/Passes.h"

#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

using namespace nnc;

namespace {

std::string examplePath(llvm::StringRef Name) {
  // Set by test/unit/CMakeLists.txt (__FILE__ may be relative under ccache).
  return (NNC_EXAMPLES_DIR "/" + Name).str();
}

/// A parsed, analyzed module whose models carry their training steps.
struct Loaded {
  DiagEngine Diags;
  std::unique_ptr<ast::File> File;
  std::unique_ptr<Module> M;
};

std::unique_ptr<Loaded> loadExample(llvm::StringRef Name) {
  auto L = std::make_unique<Loaded>();
  std::string Path = examplePath(Name);
  auto Buffer = llvm::MemoryBuffer::getFile(Path);
  if (!Buffer) {
    ADD_FAILURE() << "cannot read " << Path;
    return nullptr;
  }
  unsigned Id = L->Diags.addBuffer(std::move(*Buffer));
  L->File = parseFile(L->Diags, Id);
  if (L->Diags.hadErrors())
    return nullptr;
  L->M = analyze(*L->File, L->Diags, llvm::sys::path::parent_path(Path));
  if (!L->M || !buildTrainingSteps(*L->M, L->Diags))
    return nullptr;
  return L;
}

/// Random values for every non-constant leaf of `G`, drawn per interface
/// list position so that two graphs built from one source get equal leaves.
EvalValues randomLeaves(const Graph &G, uint64_t Seed) {
  std::mt19937_64 Rng(Seed);
  std::uniform_real_distribution<double> Signed(-1, 1), Positive(0.05, 1);
  EvalValues Leaves;
  auto Fill = [&](const std::vector<Node *> &List, bool Pos) {
    for (Node *N : List) {
      EvalTensor T = EvalTensor::zeros(N->Type);
      for (double &V : T.Data)
        V = N->dtype() == DType::I32 ? double(Rng() % 2)
            : Pos                    ? Positive(Rng)
                                     : Signed(Rng);
      // Through f32, as a real run would store it.
      Leaves[N] = toEval(fromEval(T));
    }
  };
  Fill(G.Inputs, false);
  Fill(G.Targets, true); // probabilities for binary cross-entropy
  Fill(G.Params, false);
  Fill(G.States, true); // Adam's second moment must not be negative
  Fill(G.Hypers, true);
  return Leaves;
}

/// Every value the interface exposes, in a fixed order.
std::vector<std::pair<std::string, const Node *>>
interfaceValues(const Graph &G) {
  std::vector<std::pair<std::string, const Node *>> V;
  if (G.Loss)
    V.push_back({"loss", G.Loss});
  for (const NamedValue &O : G.Outputs)
    V.push_back({"output " + O.Name, O.Value});
  for (const NamedValue &O : G.Metrics)
    V.push_back({"metric " + O.Name, O.Value});
  for (size_t I = 0; I < G.Grads.size(); ++I)
    V.push_back({"grad " + G.Params[I]->Name, G.Grads[I]});
  for (size_t I = 0; I < G.Updates.size(); ++I)
    V.push_back({"update " + G.Updates[I].Target->Name, G.Updates[I].NewValue});
  return V;
}

/// Evaluates the training step of `Name` unoptimized and at -O2 on the
/// same random leaves; every interface value must agree to 1e-5 relative
/// to the largest magnitude of its tensor (elementwise relative error is
/// meaningless for entries that cancel to ~0).
void expectO2KeepsValues(llvm::StringRef Name) {
  SCOPED_TRACE(Name.str());
  std::unique_ptr<Loaded> Ref = loadExample(Name), Opt = loadExample(Name);
  ASSERT_TRUE(Ref && Opt);
  ASSERT_EQ(Ref->M->Models.size(), Opt->M->Models.size());
  for (size_t MI = 0; MI < Ref->M->Models.size(); ++MI) {
    Graph &GR = *Ref->M->Models[MI], &GO = *Opt->M->Models[MI];
    // Kernels (loop nests): one per computing node, or per `fuse` kernel.
    // Nodes alone may grow: the softmax + cross-entropy rewrite trades a
    // few elementwise nodes for three fewer kernels.
    auto Kernels = [](const Graph &G) {
      std::set<int> Fused;
      size_t N = 0;
      for (const auto &X : G.nodes())
        if (X->Kernel >= 0)
          Fused.insert(X->Kernel);
        else
          N += !X->isLeaf();
      return N + Fused.size();
    };
    size_t Before = Kernels(GO);
    PassOptions PO;
    PO.OptLevel = 2;
    PO.VerifyEach = true;
    ASSERT_TRUE(optimizeGraph(GO, PO, Opt->Diags));
    EXPECT_LT(Kernels(GO), Before) << "-O2 removed nothing from " << GO.name();
    EvalValues VR = evaluate(GR, randomLeaves(GR, 42));
    EvalValues VO = evaluate(GO, randomLeaves(GO, 42));
    auto IR = interfaceValues(GR), IO = interfaceValues(GO);
    ASSERT_EQ(IR.size(), IO.size());
    for (size_t I = 0; I < IR.size(); ++I) {
      const EvalTensor &A = VR.find(IR[I].second)->second;
      const EvalTensor &B = VO.find(IO[I].second)->second;
      ASSERT_EQ(A.Type, B.Type) << IR[I].first;
      double Scale = 0;
      for (double X : A.Data)
        Scale = std::max(Scale, std::fabs(X));
      for (size_t E = 0; E < A.Data.size(); ++E) {
        if (std::isnan(A.Data[E])) {
          EXPECT_TRUE(std::isnan(B.Data[E])) << IR[I].first << "[" << E << "]";
          continue;
        }
        EXPECT_LE(std::fabs(A.Data[E] - B.Data[E]), 1e-5 * Scale + 1e-30)
            << IR[I].first << "[" << E << "]: " << A.Data[E] << " vs "
            << B.Data[E];
      }
    }
  }
}

TEST(TransformsTest, O2KeepsValuesXor) { expectO2KeepsValues("xor.nn"); }
TEST(TransformsTest, O2KeepsValuesGates) { expectO2KeepsValues("gates.nn"); }
TEST(TransformsTest, O2KeepsValuesChainRule) {
  expectO2KeepsValues("chain_rule.nn");
}
TEST(TransformsTest, O2KeepsValuesLogistic) {
  expectO2KeepsValues("logistic.nn");
}
TEST(TransformsTest, O2KeepsValuesMlp) { expectO2KeepsValues("mlp.nn"); }
TEST(TransformsTest, O2KeepsValuesLenet) { expectO2KeepsValues("lenet.nn"); }
TEST(TransformsTest, O2KeepsValuesSvm) { expectO2KeepsValues("svm.nn"); }

// examples/chain_rule.nn differentiated by autodiff (x a param), then x
// made the constant 1.5: both f and autodiff's df/dx fold to numbers.
TEST(TransformsTest, ChainRuleGradientFolds) {
  std::unique_ptr<Loaded> L = loadExample("chain_rule.nn");
  ASSERT_TRUE(L);
  Graph &G = *L->M->Models.front();
  ASSERT_EQ(G.Params.size(), 1u);
  Node *X = G.Params[0];
  // Keep df/dx reachable as an output, then drop the param.
  G.Outputs.push_back({"dfdx", G.Grads[0], {}});
  G.Grads.clear();
  G.Params.clear();
  Node *C = G.scalarConst(1.5);
  G.replaceAllUsesWith(X, C);
  G.topoSort();
  ASSERT_EQ(verifyGraph(G), "");

  PassOptions PO;
  PO.VerifyEach = true;
  ASSERT_TRUE(optimizeGraph(G, PO, L->Diags));
  ASSERT_TRUE(G.Loss->isScalarConst());
  double X0 = 1.5, H1 = std::cos(X0), H2 = X0 * X0;
  double F = H2 + std::exp(H1 * H2);
  double DF = 2 * X0 + std::exp(H1 * H2) * (H2 * -std::sin(X0) + H1 * 2 * X0);
  EXPECT_NEAR(G.Loss->scalarValue(), F, 1e-5 * F);
  const Node *D = G.Outputs.back().Value;
  ASSERT_TRUE(D->isScalarConst()) << "df/dx did not fold";
  EXPECT_NEAR(D->scalarValue(), DF, 1e-5);
  EXPECT_NEAR(D->scalarValue(), 0.6172528, 1e-6);
  // Nothing but the constants and the (now unused) param leaf survive.
  for (const auto &N : G.nodes())
    EXPECT_TRUE(N->isLeaf()) << opSpelling(N->Kind).str();
}

/// A deliberately wrong pass: gives the first non-leaf node a bogus type.
class BreakerPass : public Pass {
public:
  BreakerPass() : Pass("breaker") {}
  bool run(Graph &G) override {
    for (const auto &N : G.nodes())
      if (!N->isLeaf()) {
        N->Type = TensorType(DType::F32, {7, 7});
        return true;
      }
    return false;
  }
};

TEST(TransformsTest, VerifyEachNamesTheBrokenPass) {
  std::unique_ptr<Loaded> L = loadExample("xor.nn");
  ASSERT_TRUE(L);
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  DiagEngine Diags(OS);
  PassOptions PO;
  PO.VerifyEach = true;
  PassManager PM(PO, Diags);
  std::vector<std::unique_ptr<Pass>> Passes;
  Passes.push_back(createDCEPass());
  Passes.push_back(std::make_unique<BreakerPass>());
  PM.addGroup(std::move(Passes));
  EXPECT_FALSE(PM.run(*L->M->Models.front()));
  EXPECT_NE(Text.find("internal compiler error: pass 'breaker' left graph "
                      "'xor' invalid"),
            std::string::npos)
      << Text;
  EXPECT_EQ(Text.find("'dce'"), std::string::npos) << Text;
}

TEST(TransformsTest, WithoutVerifyEachNothingIsChecked) {
  std::unique_ptr<Loaded> L = loadExample("xor.nn");
  ASSERT_TRUE(L);
  PassOptions PO;
  PassManager PM(PO, L->Diags);
  std::vector<std::unique_ptr<Pass>> Passes;
  Passes.push_back(std::make_unique<BreakerPass>());
  PM.addGroup(std::move(Passes));
  EXPECT_TRUE(PM.run(*L->M->Models.front()));
  EXPECT_NE(verifyGraph(*L->M->Models.front()), "");
}

TEST(TransformsTest, PipelinesNameRegisteredPasses) {
  EXPECT_TRUE(pipelineForLevel(0).empty());
  for (unsigned Level = 1; Level <= 3; ++Level) {
    ASSERT_FALSE(pipelineForLevel(Level).empty());
    for (const PipelineEntry &E : pipelineForLevel(Level)) {
      PassOptions PO;
      PO.PassList = E.Passes;
      EXPECT_EQ(checkPassOptions(PO), "") << E.Passes;
    }
  }
  for (const PassInfo &P : registeredPasses())
    EXPECT_EQ(createPassByName(P.Name)->name(), P.Name);
  EXPECT_EQ(createPassByName("nope"), nullptr);
}

/// A one-model graph builder for single-pass tests.
struct Small {
  Graph G{"small"};
  Node *input(llvm::ArrayRef<int64_t> Dims) {
    Node *N = G.create(OpKind::Input, TensorType(DType::F32, Dims), {});
    G.Inputs.push_back(N);
    return N;
  }
  Node *output(Node *N) {
    G.Outputs.push_back({"out" + std::to_string(G.Outputs.size()), N, {}});
    return N;
  }
};

TEST(TransformsTest, ConstFoldRefusesHugeResults) {
  Small S;
  // A varied (non-splat) constant broadcast to 1025 x 1024 > 2^20 elements.
  Tensor K(TensorType(DType::F32, {1024}));
  for (int I = 0; I < 1024; ++I)
    K.F[I] = float(I);
  Node *C = S.G.constant(K);
  TensorType Big(DType::F32, {1025, 1024});
  Node *B = S.G.create(OpKind::Broadcast, Big, {C});
  Node *Sum = S.output(S.G.create(OpKind::Add, Big, {B, B}));
  auto P = createConstFoldPass();
  EXPECT_FALSE(P->run(S.G));
  EXPECT_EQ(S.G.Outputs[0].Value, Sum);
  ASSERT_EQ(P->statistics().size(), 1u);
  EXPECT_EQ(P->statistics()[0].Description, "folds refused (too big)");

  // The same on a small shape folds to a literal.
  Small T;
  Node *C2 = T.G.constant(K);
  TensorType Two(DType::F32, {2, 1024});
  Node *B2 = T.G.create(OpKind::Broadcast, Two, {C2});
  T.output(T.G.create(OpKind::Add, Two, {B2, B2}));
  EXPECT_TRUE(createConstFoldPass()->run(T.G));
  const Node *Folded = T.G.Outputs[0].Value;
  ASSERT_EQ(Folded->Kind, OpKind::Const);
  EXPECT_EQ(Folded->Value.F[1024 + 3], 6.0f);
  EXPECT_EQ(verifyGraph(T.G), "");
}

TEST(TransformsTest, NothingFoldsThroughLeaves) {
  Small S;
  Node *X = S.input({3});
  Node *One = S.G.scalarConst(1);
  Node *Two = S.G.scalarConst(2);
  Node *Sum = S.G.create(OpKind::Add, TensorType(DType::F32, {3}), {X, One});
  S.output(S.G.create(OpKind::Mul, TensorType(DType::F32, {3}), {Sum, Two}));
  EXPECT_FALSE(createConstFoldPass()->run(S.G));
}

TEST(TransformsTest, CSEKeepsDistinctLeaves) {
  Small S;
  Node *A = S.input({2}), *B = S.input({2});
  TensorType T(DType::F32, {2});
  S.output(S.G.create(OpKind::Exp, T, {A}));
  S.output(S.G.create(OpKind::Exp, T, {B}));
  S.output(S.G.create(OpKind::Exp, T, {A}));
  EXPECT_TRUE(createCSEPass()->run(S.G));
  EXPECT_EQ(S.G.Outputs[0].Value, S.G.Outputs[2].Value);
  EXPECT_NE(S.G.Outputs[0].Value, S.G.Outputs[1].Value);
  // A second run finds nothing more.
  EXPECT_FALSE(createCSEPass()->run(S.G));
}

TEST(TransformsTest, SimplifyReachesAFixedPoint) {
  // neg(neg(neg(neg x))) needs two rounds; -O2 repeats until stable.
  Small S;
  Node *X = S.input({2});
  Node *N = X;
  for (int I = 0; I < 4; ++I)
    N = S.G.create(OpKind::Neg, X->Type, {N});
  S.output(N);
  PassOptions PO;
  PO.VerifyEach = true;
  DiagEngine Diags;
  ASSERT_TRUE(optimizeGraph(S.G, PO, Diags));
  EXPECT_EQ(S.G.Outputs[0].Value, X);
  EXPECT_EQ(S.G.size(), 1u);
}

} // namespace
