//===- NonFiniteFlagTest.cpp - The update entries' non-finite flag --------===//
//
// train_step, train_grad and apply_update return whether a value they wrote
// into a param, state or buffer slot is a NaN or an infinity (ModelABI.h,
// lib/CodeGen/NonFinite.h), and the runtime scans the slots only when one
// says so. A hand-made training graph gives every path a new value can
// take: an optimizer update (fused into its gradient's kernel, or single
// elementwise kernels), a buffer's update in train_grad, a product and
// reduction whose result is the new value (tested by a pass after its
// kernel), a copy of another slot, and constants. Each scenario plants one
// non-finite value (or none); at graph -O0 and -O2 (fused) and LLVM -O0 and
// -O2 the flag of every entry must be set exactly when a slot the entry
// writes holds a non-finite value afterwards.
//
//===----------------------------------------------------------------------===//
#include "SlotBuffers.h"
#include "nnc/Autodiff/Autodiff.h"
#include "nnc/Autodiff/Optimizer.h"
#include "nnc/CodeGen/CodeGen.h"
#include "nnc/Graph/Evaluator.h"
#include "nnc/JIT/JIT.h"
#include "nnc/Runtime/Callbacks.h"
#include "nnc/Transforms/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

using namespace nnc;
using nnc::test::Slots;

namespace {

constexpr double Inf = std::numeric_limits<double>::infinity();
constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

TensorType f32(llvm::ArrayRef<int64_t> Dims) {
  return TensorType(DType::F32, Dims);
}

/// The test graph. `Bad` makes its constant new values non-finite.
///
///   params W [3, 4], b [4]; input x [5, 3]
///   loss = sum(tanh(x @ W + b)^2), SGD with momentum: W, b, v.W, v.b
///   buffer r [3]  := 0.9 r + 0.1 sum(x, axis 0)   (train_grad writes it)
///   state c [4]   := sum(P @ Q, axis 0)            (P, Q states)
///   state d [4]   := s                             (a copy of state s)
///   state e [2]   := [1, 2]   or [1, inf]          (a constant)
///   state f       := 3        or nan               (a scalar constant)
std::unique_ptr<Graph> buildGraph(bool Bad) {
  auto G = std::make_unique<Graph>("m");
  auto Leaf = [&](OpKind K, TensorType T, const char *Name,
                  std::vector<Node *> &List) {
    Node *N = G->create(K, std::move(T), {});
    N->Name = Name;
    List.push_back(N);
    return N;
  };
  auto Op = [&](OpKind K, TensorType T, std::vector<Node *> Ops, Attrs A = {}) {
    return G->create(K, std::move(T), Ops, {}, A);
  };
  Attrs Axis0;
  Axis0.Axis = 0;
  Attrs All;
  All.Axis = ALL_AXES;

  Node *W = Leaf(OpKind::Param, f32({3, 4}), "W", G->Params);
  Node *B = Leaf(OpKind::Param, f32({4}), "b", G->Params);
  Node *X = Leaf(OpKind::Input, f32({5, 3}), "x", G->Inputs);
  Node *Y = Op(OpKind::Tanh, f32({5, 4}),
               {Op(OpKind::Add, f32({5, 4}),
                   {Op(OpKind::MatMul, f32({5, 4}), {X, W}), B})});
  G->Loss = Op(OpKind::ReduceSum, f32({}),
               {Op(OpKind::Mul, f32({5, 4}), {Y, Y})}, All);
  G->LossName = "L";
  DiagEngine Diags;
  EXPECT_TRUE(differentiate(*G, Diags));
  OptimizerSpec Opt;
  Opt.Momentum = 0.9;
  buildOptimizerUpdate(*G, Opt);

  Node *R = Leaf(OpKind::Buffer, f32({3}), "r", G->Buffers);
  Node *Sum = Op(OpKind::ReduceSum, f32({3}), {X}, Axis0);
  G->Updates.push_back(
      {R, Op(OpKind::Add, f32({3}),
             {Op(OpKind::Mul, f32({3}), {G->scalarConst(0.9), R}),
              Op(OpKind::Mul, f32({3}), {G->scalarConst(0.1), Sum})})});
  Node *P = Leaf(OpKind::State, f32({3, 3}), "P", G->States);
  Node *Q = Leaf(OpKind::State, f32({3, 4}), "Q", G->States);
  Node *C = Leaf(OpKind::State, f32({4}), "c", G->States);
  G->Updates.push_back(
      {C, Op(OpKind::ReduceSum, f32({4}),
             {Op(OpKind::MatMul, f32({3, 4}), {P, Q})}, Axis0)});
  Node *S = Leaf(OpKind::State, f32({4}), "s", G->States);
  Node *D = Leaf(OpKind::State, f32({4}), "d", G->States);
  G->Updates.push_back({D, S});
  Node *E = Leaf(OpKind::State, f32({2}), "e", G->States);
  Tensor EValue(f32({2}));
  EValue.F = {1.0f, Bad ? float(Inf) : 2.0f};
  G->Updates.push_back({E, G->constant(EValue)});
  Node *F = Leaf(OpKind::State, f32({}), "f", G->States);
  G->Updates.push_back({F, G->scalarConst(Bad ? NaN : 3.0)});
  return G;
}

std::unique_ptr<ModelJIT> compile(const Graph &G, unsigned OptLevel) {
  auto Ctx = std::make_unique<llvm::LLVMContext>();
  auto M = lowerGraph(G, nullptr, *Ctx);
  if (!M) {
    ADD_FAILURE() << llvm::toString(M.takeError());
    return nullptr;
  }
  TargetOptions Opts;
  Opts.OptLevel = OptLevel;
  auto J = ModelJIT::create(std::move(*M), std::move(Ctx), Opts,
                            rt::callbackSymbols());
  if (!J) {
    ADD_FAILURE() << llvm::toString(J.takeError());
    return nullptr;
  }
  return std::move(*J);
}

/// One planted value: `Value` into element 0 of slot `Slot`, or into all
/// of it with `Whole` (nothing when `Slot` is empty).
struct Scenario {
  const char *Slot;
  double Value;
  bool Whole = false;
  /// Some slot the step writes is not finite afterwards.
  bool NonFinite = true;
};

const Scenario Scenarios[] = {
    {"", 0, false, false},   // nothing: every new value is finite
    {"x", 1e3, true, false}, // large inputs, but everything stays finite
    {"lr", Inf},             // the param steps overflow
    {"v.W", NaN},            // a velocity, and so its param
    {"Q", NaN},              // c, the product's reduction
    {"P", 3.4e38, true},     // c overflows in the product
    {"s", Inf},              // d, the copy
    {"r", NaN},              // the buffer, in train_grad
    {"x", 3e38, true},       // the buffer's sum overflows
    {"W", -Inf},             // the forward pass, and W itself
};

/// Finite leaves for every slot the entries read.
void setLeaves(Slots &S, const Graph &G) {
  std::mt19937 Rng(7);
  std::uniform_real_distribution<double> U(-1, 1);
  for (const auto *List : {&G.Params, &G.States, &G.Buffers, &G.Inputs})
    for (const Node *N : *List) {
      EvalTensor T = EvalTensor::zeros(N->Type);
      for (double &V : T.Data)
        V = U(Rng);
      S.set(N->Name, T);
    }
  for (const Node *H : G.Hypers)
    S.set(H->Name, EvalTensor::zeros(H->Type));
  EvalTensor Lr = EvalTensor::zeros(f32({}));
  Lr.Data[0] = 0.1;
  S.set("lr", Lr);
}

void plant(Slots &S, const Scenario &Sc) {
  if (!*Sc.Slot)
    return;
  std::vector<double> V = S.get(Sc.Slot);
  EvalTensor T = EvalTensor::zeros(f32({int64_t(V.size())}));
  T.Data = V;
  for (size_t I = 0; I < (Sc.Whole ? V.size() : 1); ++I)
    T.Data[I] = Sc.Value;
  S.set(Sc.Slot, T);
}

/// Whether one of the update targets of `G` for which `Pick` holds is not
/// finite in `S`.
template <typename PickT>
bool anyNonFinite(const Slots &S, const Graph &G, PickT Pick) {
  for (const Update &U : G.Updates) {
    if (!Pick(U.Target))
      continue;
    for (double V : S.get(U.Target->Name))
      if (!std::isfinite(V))
        return true;
  }
  return false;
}

bool isBuffer(const Node *N) { return N->Kind == OpKind::Buffer; }

} // namespace

TEST(NonFiniteFlag, SetExactlyWhenANonFiniteValueIsWritten) {
  for (bool Bad : {false, true}) {
    for (unsigned GraphLevel : {0u, 2u}) {
      std::unique_ptr<Graph> G = buildGraph(Bad);
      PassOptions PO;
      PO.OptLevel = GraphLevel;
      PO.VerifyEach = true;
      DiagEngine Diags;
      ASSERT_TRUE(optimizeGraph(*G, PO, Diags));
      for (unsigned OptLevel : {0u, 2u}) {
        SCOPED_TRACE((Bad ? "non-finite constants, graph -O" : "graph -O") +
                     std::to_string(GraphLevel) + ", LLVM -O" +
                     std::to_string(OptLevel));
        auto J = compile(*G, OptLevel);
        ASSERT_TRUE(J);
        const nnc_model &M = *J->model();
        ASSERT_TRUE(M.train_step && M.train_grad && M.apply_update);
        for (const Scenario &Sc : Scenarios) {
          SCOPED_TRACE(std::string("planted ") + Sc.Slot + " = " +
                       std::to_string(Sc.Value));
          Slots S(M);
          setLeaves(S, *G);
          plant(S, Sc);
          int32_t Flag = M.train_step(S.ptrs());
          bool Any = anyNonFinite(S, *G, [](const Node *) { return true; });
          EXPECT_EQ(Flag != 0, Any) << "train_step";
          // The scenarios do what they say: only the harmless ones leave
          // everything finite.
          EXPECT_EQ(Any, Bad || Sc.NonFinite);

          // The halves: train_grad writes the buffer, apply_update the
          // params and state.
          Slots H(M);
          setLeaves(H, *G);
          plant(H, Sc);
          int32_t GradFlag = M.train_grad(H.ptrs());
          EXPECT_EQ(GradFlag != 0, anyNonFinite(H, *G, isBuffer))
              << "train_grad";
          int32_t ApplyFlag = M.apply_update(H.ptrs());
          EXPECT_EQ(
              ApplyFlag != 0,
              anyNonFinite(H, *G, [](const Node *N) { return !isBuffer(N); }))
              << "apply_update";
        }
      }
    }
  }
}
