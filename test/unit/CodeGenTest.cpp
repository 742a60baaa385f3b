//===- CodeGenTest.cpp - Generated code against the reference evaluator ---===//
//
// Differential tests of the LLVM lowering: for every op of Ops.def, a small
// graph is lowered, JIT-compiled at -O0 and -O2 and run through the model
// ABI (`predict` for forward values, `grad` for gradients), and every result
// is compared with the double-precision reference evaluator on random
// inputs. Shapes exercise broadcasting, every reduction axis, strides and
// padding, so each kernel's index arithmetic is checked, not only its
// scalar math. A last group reads the model descriptor back through the C
// header (ModelABI.h) to prove the LLVM struct layout matches C's.
//
//===----------------------------------------------------------------------===//
#include "nnc/CodeGen/CodeGen.h"
#include "SlotBuffers.h"
#include "nnc/Autodiff/Autodiff.h"
#include "nnc/Autodiff/Modes.h"
#include "nnc/Autodiff/Optimizer.h"
#include "nnc/Graph/Evaluator.h"
#include "nnc/Graph/ShapeRules.h"
#include "nnc/JIT/JIT.h"
#include "nnc/Runtime/Callbacks.h"
#include "nnc/Sema/Sema.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <numbers>
#include <optional>
#include <random>
#include <set>

using namespace nnc;
using nnc::test::Slots;

namespace {

TensorType f32(llvm::ArrayRef<int64_t> Dims) {
  return TensorType(DType::F32, Dims);
}
TensorType i32(llvm::ArrayRef<int64_t> Dims) {
  return TensorType(DType::I32, Dims);
}

/// Builds graphs with result types from the shared shape rules. Leaves are
/// inputs (forward tests) or params (gradient tests).
struct Builder {
  Graph G{"m"};
  bool LeavesAreParams = false;

  Node *leaf(TensorType T, const char *Name) {
    bool Param = LeavesAreParams && T.Elem == DType::F32;
    Node *N = G.create(Param ? OpKind::Param : OpKind::Input, std::move(T), {});
    N->Name = Name;
    (Param ? G.Params : G.Inputs).push_back(N);
    return N;
  }
  Node *op(OpKind K, llvm::ArrayRef<Node *> Ops, Attrs A = {}) {
    std::vector<TensorType> Types;
    for (Node *O : Ops)
      Types.push_back(O->Type);
    std::string Why;
    std::optional<TensorType> T = inferResultType(K, Types, A, Why);
    EXPECT_TRUE(T.has_value()) << Why;
    return G.create(K, T ? *T : f32({}), Ops, {}, A);
  }
  /// For ops whose result type comes from the node.
  Node *typed(OpKind K, TensorType T, llvm::ArrayRef<Node *> Ops,
              Attrs A = {}) {
    return G.create(K, std::move(T), Ops, {}, A);
  }
};

Attrs axis(int64_t Axis, bool Keep = false) {
  Attrs A;
  A.Axis = Axis;
  A.KeepDims = Keep;
  return A;
}
Attrs alpha(double V) {
  Attrs A;
  A.Alpha = V;
  return A;
}
Attrs window(int64_t Size, int64_t Stride, int64_t Padding = 0) {
  Attrs A;
  A.Size = Size;
  A.Stride = Stride;
  A.Padding = Padding;
  return A;
}

std::unique_ptr<ModelJIT>
compile(const Graph &G, unsigned OptLevel, const TrainConfig *Train = nullptr,
        std::optional<VectorUnit> Vector = std::nullopt,
        const Graph *EvalGraph = nullptr) {
  auto Ctx = std::make_unique<llvm::LLVMContext>();
  LoweringOptions LOpts;
  LOpts.Vector = Vector;
  LOpts.EvalGraph = EvalGraph;
  auto M = lowerGraph(G, Train, *Ctx, LOpts);
  if (!M) {
    ADD_FAILURE() << llvm::toString(M.takeError());
    return nullptr;
  }
  TargetOptions Opts;
  Opts.OptLevel = OptLevel;
  // Big products call back into the runtime's thread pool.
  auto J = ModelJIT::create(std::move(*M), std::move(Ctx), Opts,
                            rt::callbackSymbols());
  if (!J) {
    ADD_FAILURE() << llvm::toString(J.takeError());
    return nullptr;
  }
  return std::move(*J);
}

/// Random leaf values: f32 uniform in [Lo, Hi], i32 uniform in [0, IntHi).
struct Ranges {
  double Lo = -2, Hi = 2;
  int IntHi = 4;
};

EvalValues randomLeaves(const Graph &G, const Ranges &R, unsigned Seed) {
  std::mt19937 Rng(Seed);
  EvalValues Leaves;
  for (const auto &N : G.nodes()) {
    if (!N->isLeaf() || N->Kind == OpKind::Const)
      continue;
    EvalTensor T = EvalTensor::zeros(N->Type);
    for (double &V : T.Data)
      V = N->dtype() == DType::F32
              ? double(float(std::uniform_real_distribution<>(R.Lo, R.Hi)(Rng)))
              : double(std::uniform_int_distribution<>(0, R.IntHi - 1)(Rng));
    Leaves[N.get()] = T;
  }
  return Leaves;
}

void expectClose(const std::vector<double> &Got, const EvalTensor &Want,
                 const std::string &What) {
  ASSERT_EQ(int64_t(Got.size()), Want.numElements()) << What;
  for (size_t I = 0; I < Got.size(); ++I) {
    double Tol = 1e-4 * std::max(1.0, std::fabs(Want.Data[I]));
    EXPECT_NEAR(Got[I], Want.Data[I], Tol) << What << " element " << I;
  }
}

/// One op test: builds the graph and returns the node whose value (forward)
/// or gradient (backward) is checked.
struct Case {
  const char *Name;
  std::function<Node *(Builder &)> Build;
  Ranges R = {};
  bool Differentiable = true;
  /// The vector unit the kernels are shaped for (unset: the host's). The
  /// JIT runs any width on the host: LLVM splits wider vectors.
  std::optional<VectorUnit> Vector = std::nullopt;
};

void setLeaves(Slots &S, const Graph &G, const EvalValues &Leaves) {
  for (const auto &[N, V] : Leaves)
    S.set(N->Name, V);
}

/// Forward: `predict` writes the node's value into the "out" slot.
void checkForward(const Case &C) {
  Builder B;
  Node *Y = C.Build(B);
  B.G.Outputs.push_back({"out", Y, {}});
  EvalValues Leaves = randomLeaves(B.G, C.R, 42);
  EvalTensor Want = evaluate(B.G, Leaves)[Y];
  for (unsigned Opt : {0u, 2u}) {
    auto J = compile(B.G, Opt, nullptr, C.Vector);
    ASSERT_TRUE(J);
    Slots S(*J->model());
    setLeaves(S, B.G, Leaves);
    ASSERT_TRUE(J->model()->predict);
    // Twice: a kernel's static scratch (convolution partial sums) holds the
    // first call's values, and the second must not depend on them.
    J->model()->predict(S.ptrs());
    J->model()->predict(S.ptrs());
    expectClose(S.get("out"), Want,
                std::string(C.Name) + " forward at -O" + std::to_string(Opt));
  }
}

/// Backward: loss = sum(y * K) for a random constant K; `grad` writes the
/// loss and every param's gradient.
void checkGradient(const Case &C) {
  Builder B;
  B.LeavesAreParams = true;
  Node *Y = C.Build(B);
  Tensor K(Y->Type);
  std::mt19937 Rng(7);
  for (int64_t I = 0; I < K.numElements(); ++I)
    K.F[I] = std::uniform_real_distribution<float>(-1, 1)(Rng);
  Node *KN = B.G.constant(K);
  Node *L =
      B.op(OpKind::ReduceSum, {B.op(OpKind::Mul, {Y, KN})}, axis(ALL_AXES));
  B.G.Loss = L;
  B.G.LossName = "L";
  DiagEngine Diags;
  ASSERT_TRUE(differentiate(B.G, Diags)) << C.Name;
  ASSERT_EQ(B.G.Grads.size(), B.G.Params.size());
  EvalValues Leaves = randomLeaves(B.G, C.R, 43);
  EvalValues All = evaluate(B.G, Leaves);
  for (unsigned Opt : {0u, 2u}) {
    auto J = compile(B.G, Opt, nullptr, C.Vector);
    ASSERT_TRUE(J);
    ASSERT_TRUE(J->model()->grad);
    Slots S(*J->model());
    setLeaves(S, B.G, Leaves);
    J->model()->grad(S.ptrs());
    std::string At = std::string(C.Name) + " at -O" + std::to_string(Opt);
    expectClose(S.get("loss"), All[L], At + " loss");
    for (size_t I = 0; I < B.G.Params.size(); ++I)
      expectClose(S.get("grad." + B.G.Params[I]->Name), All[B.G.Grads[I]],
                  At + " grad." + B.G.Params[I]->Name);
  }
}

Ranges positive() { return {0.2, 3, 4}; }
Ranges nonDiff() { return {-2, 2, 4}; }

std::vector<Case> unaryCases() {
  std::vector<Case> Cs;
  auto Unary = [&](const char *Name, OpKind K, Attrs A = {},
                   Ranges R = Ranges(), bool Diff = true) {
    Cs.push_back(
        {Name,
         [K, A](Builder &B) { return B.op(K, {B.leaf(f32({3, 5}), "a")}, A); },
         R, Diff});
  };
  Unary("neg", OpKind::Neg);
  Unary("exp", OpKind::Exp);
  Unary("log", OpKind::Log, {}, positive());
  Unary("sqrt", OpKind::Sqrt, {}, positive());
  Unary("abs", OpKind::Abs);
  Unary("sin", OpKind::Sin);
  Unary("cos", OpKind::Cos);
  Unary("tanh", OpKind::Tanh);
  Unary("sigmoid", OpKind::Sigmoid, {}, {-20, 20, 4});
  Unary("relu", OpKind::Relu);
  Unary("softplus", OpKind::Softplus, {}, {-30, 30, 4});
  Unary("leaky_relu", OpKind::LeakyRelu, alpha(0.1));
  Unary("elu", OpKind::Elu, alpha(1.0));
  Unary("step", OpKind::Step, {}, nonDiff(), false);
  Unary("sign", OpKind::Sign);
  Unary("erf", OpKind::Erf, {}, {-4, 4, 4});
  Unary("gelu", OpKind::Gelu, {}, {-6, 4, 4});
  Unary("silu", OpKind::Silu, {}, {-20, 20, 4});

  return Cs;
}

std::vector<Case> binaryCases() {
  std::vector<Case> Cs;
  auto Binary = [&](const char *Name, OpKind K, Ranges R = Ranges(),
                    bool Diff = true) {
    // Same shape, a broadcast row, a broadcast column and a scalar const.
    Cs.push_back({Name,
                  [K](Builder &B) {
                    Node *A = B.leaf(f32({3, 5}), "a");
                    Node *Row = B.leaf(f32({5}), "b");
                    Node *Col = B.leaf(f32({3, 1}), "c");
                    Node *S = B.op(K, {A, B.leaf(f32({3, 5}), "d")});
                    S = B.op(K, {S, Row});
                    S = B.op(K, {Col, S});
                    return B.op(K, {S, B.G.scalarConst(1.5)});
                  },
                  R, Diff});
  };
  Binary("add", OpKind::Add);
  Binary("sub", OpKind::Sub);
  Binary("mul", OpKind::Mul, {-1.5, 1.5, 4});
  Binary("div", OpKind::Div, {0.5, 2, 4});
  Binary("pow", OpKind::Pow, {0.5, 1.5, 4});
  Binary("max", OpKind::Max);
  Binary("min", OpKind::Min);
  for (auto [Name, K] : {std::pair{"eq", OpKind::CmpEq},
                         {"ne", OpKind::CmpNe},
                         {"lt", OpKind::CmpLt},
                         {"le", OpKind::CmpLe},
                         {"gt", OpKind::CmpGt},
                         {"ge", OpKind::CmpGe}}) {
    OpKind Kind = K;
    Cs.push_back({Name,
                  [Kind](Builder &B) {
                    // i32 operands make equality likely.
                    Node *A = B.leaf(i32({3, 5}), "a");
                    Node *Bv = B.leaf(i32({5}), "b");
                    Node *F = B.leaf(f32({3, 5}), "c");
                    Node *IntCmp = B.op(Kind, {A, Bv});
                    Node *FloatCmp = B.op(Kind, {F, B.G.scalarConst(0.25)});
                    return B.op(OpKind::Add, {IntCmp, FloatCmp});
                  },
                  nonDiff(), false});
  }
  Cs.push_back({"int_arith",
                [](Builder &B) {
                  Node *A = B.leaf(i32({4, 3}), "a");
                  Node *Bv = B.leaf(i32({3}), "b");
                  Node *S = B.op(OpKind::Mul, {B.op(OpKind::Sub, {A, Bv}), A});
                  S = B.op(OpKind::Max, {B.op(OpKind::Neg, {S}), Bv});
                  S = B.op(OpKind::Min, {B.op(OpKind::Abs, {S}), A});
                  return B.typed(OpKind::Cast, f32({4, 3}),
                                 {B.op(OpKind::Add, {S, A})});
                },
                {-2, 2, 9},
                false});
  Cs.push_back({"cast",
                [](Builder &B) {
                  Node *X = B.leaf(f32({7}), "a");
                  Node *I =
                      B.typed(OpKind::Cast, i32({7}),
                              {B.op(OpKind::Mul, {X, B.G.scalarConst(3)})});
                  return B.typed(OpKind::Cast, f32({7}), {I});
                },
                nonDiff(), false});
  return Cs;
}

std::vector<Case> reduceCases() {
  std::vector<Case> Cs;
  for (int64_t Ax : {int64_t(0), int64_t(1), int64_t(2), ALL_AXES}) {
    for (auto [Name, K] : {std::pair{"reduce_sum", OpKind::ReduceSum},
                           {"reduce_max", OpKind::ReduceMax}}) {
      OpKind Kind = K;
      Cs.push_back({Name, [Kind, Ax](Builder &B) {
                      return B.op(Kind, {B.leaf(f32({3, 4, 5}), "a")},
                                  axis(Ax, Ax == 1));
                    }});
    }
    Cs.push_back({"argmax",
                  [Ax](Builder &B) {
                    Node *I = B.op(OpKind::ArgMax,
                                   {B.leaf(f32({3, 4, 5}), "a")}, axis(Ax));
                    return B.typed(OpKind::Cast, f32(I->dims()), {I});
                  },
                  nonDiff(), false});
    Cs.push_back({"argmax_mask",
                  [Ax](Builder &B) {
                    return B.op(OpKind::ArgMaxMask,
                                {B.leaf(f32({3, 4, 5}), "a")}, axis(Ax));
                  },
                  nonDiff(), false});
    if (Ax == ALL_AXES)
      continue;
    for (auto [Name, K] : {std::pair{"softmax", OpKind::Softmax},
                           {"log_softmax", OpKind::LogSoftmax}}) {
      OpKind Kind = K;
      Cs.push_back({Name, [Kind, Ax](Builder &B) {
                      return B.op(Kind, {B.leaf(f32({3, 4, 5}), "a")},
                                  axis(Ax));
                    }});
    }
  }
  Cs.push_back({"int_reduce",
                [](Builder &B) {
                  Node *A = B.leaf(i32({4, 6}), "a");
                  Node *S = B.op(OpKind::ReduceSum, {A}, axis(1));
                  Node *M = B.op(OpKind::ReduceMax, {A}, axis(0));
                  return B.op(
                      OpKind::Add,
                      {B.typed(OpKind::Cast, f32({4, 1}),
                               {B.typed(OpKind::Reshape, i32({4, 1}), {S})}),
                       B.typed(OpKind::Cast, f32({6}), {M})});
                },
                {-2, 2, 50},
                false});
  return Cs;
}

std::vector<Case> shapeAndKernelCases() {
  std::vector<Case> Cs;
  Cs.push_back({"reshape", [](Builder &B) {
                  Node *A = B.leaf(f32({3, 4}), "a");
                  Node *R = B.typed(OpKind::Reshape, f32({2, 6}), {A});
                  return B.op(OpKind::Mul, {R, R});
                }});
  Cs.push_back({"reshape_result", [](Builder &B) {
                  Node *A = B.leaf(f32({3, 4}), "a");
                  return B.typed(OpKind::Reshape, f32({12}),
                                 {B.op(OpKind::Exp, {A})});
                }});
  Cs.push_back({"broadcast", [](Builder &B) {
                  return B.typed(OpKind::Broadcast, f32({2, 3, 5}),
                                 {B.leaf(f32({3, 1}), "a")});
                }});
  Cs.push_back({"transpose", [](Builder &B) {
                  return B.op(OpKind::Transpose, {B.leaf(f32({3, 5}), "a")});
                }});
  // permute: a 3-D reorder read by a fused product, a 4-D one of i32.
  Cs.push_back({"permute", [](Builder &B) {
                  Attrs A;
                  int64_t P[] = {2, 0, 1};
                  A.Perm = packPerm(P, 3);
                  Node *X =
                      B.op(OpKind::Permute, {B.leaf(f32({3, 4, 5}), "a")}, A);
                  return B.op(OpKind::Mul, {X, B.leaf(f32({5, 3, 4}), "b")});
                }});
  Cs.push_back({"permute i32",
                [](Builder &B) {
                  Attrs A;
                  int64_t P[] = {3, 1, 0, 2};
                  A.Perm = packPerm(P, 4);
                  Node *X = B.op(OpKind::Permute,
                                 {B.leaf(i32({2, 3, 4, 5}), "a")}, A);
                  return B.typed(OpKind::Cast, f32({5, 3, 2, 4}), {X});
                },
                nonDiff(), false});
  // slice: each axis of a 4-D tensor, at the start, inside and at the end
  // (so its gradient, concat with broadcast zeros, has zeros on either side,
  // both or neither), and an i32 one.
  struct Cut {
    int64_t Axis, Offset, Size;
  };
  for (Cut C :
       {Cut{0, 0, 1}, Cut{1, 1, 2}, Cut{2, 2, 3}, Cut{3, 1, 5}, Cut{3, 0, 6}}) {
    Cs.push_back({"slice", [C](Builder &B) {
                    Attrs A = axis(C.Axis);
                    A.Offset = C.Offset;
                    A.Size = C.Size;
                    return B.op(OpKind::Slice, {B.leaf(f32({2, 3, 5, 6}), "a")},
                                A);
                  }});
  }
  Cs.push_back({"slice i32",
                [](Builder &B) {
                  Attrs A = axis(1);
                  A.Offset = 3;
                  A.Size = 17;
                  Node *S = B.op(OpKind::Slice, {B.leaf(i32({3, 41}), "a")}, A);
                  return B.typed(OpKind::Cast, f32({3, 17}), {S});
                },
                nonDiff(), false});
  // concat: along each axis, of two and of three operands, rows that end in
  // a partial vector (37 and 21 floats), one operand twice (its gradient
  // sums two slices), and i32.
  Cs.push_back({"concat axis 0", [](Builder &B) {
                  return B.op(
                      OpKind::Concat,
                      {B.leaf(f32({2, 3}), "a"), B.leaf(f32({4, 3}), "b")},
                      axis(0));
                }});
  Cs.push_back({"concat axis 1 of three", [](Builder &B) {
                  return B.op(OpKind::Concat,
                              {B.leaf(f32({3, 37}), "a"),
                               B.leaf(f32({3, 1}), "b"),
                               B.leaf(f32({3, 21}), "c")},
                              axis(1));
                }});
  Cs.push_back({"concat channels", [](Builder &B) {
                  return B.op(OpKind::Concat,
                              {B.leaf(f32({2, 3, 4, 5}), "a"),
                               B.leaf(f32({2, 2, 4, 5}), "b")},
                              axis(1));
                }});
  Cs.push_back({"concat last axis, one operand twice", [](Builder &B) {
                  Node *A = B.leaf(f32({2, 3, 4}), "a");
                  Node *E = B.op(OpKind::Exp, {B.leaf(f32({2, 3, 2}), "b")});
                  return B.op(OpKind::Concat, {A, E, A}, axis(2));
                }});
  Cs.push_back({"concat i32",
                [](Builder &B) {
                  Node *C =
                      B.op(OpKind::Concat,
                           {B.leaf(i32({2, 5}), "a"), B.leaf(i32({3, 5}), "b")},
                           axis(0));
                  return B.typed(OpKind::Cast, f32({5, 5}), {C});
                },
                nonDiff(), false});
  Cs.push_back({"matmul", [](Builder &B) {
                  return B.op(OpKind::MatMul, {B.leaf(f32({4, 7}), "a"),
                                               B.leaf(f32({7, 19}), "b")});
                }});
  Cs.push_back({"channel_sum_2d", [](Builder &B) {
                  return B.op(OpKind::ChannelSum, {B.leaf(f32({7, 13}), "a")});
                }});
  Cs.push_back({"channel_sum_4d", [](Builder &B) {
                  Node *A = B.leaf(f32({3, 5, 4, 9}), "a");
                  return B.op(OpKind::ChannelSum, {B.op(OpKind::Mul, {A, A})});
                }});
  Cs.push_back({"dropout_mask",
                [](Builder &B) {
                  Attrs A;
                  A.Rate = 0.3;
                  A.Stream = 2;
                  Node *Key = B.leaf(i32({}), "key");
                  Node *M =
                      B.typed(OpKind::DropoutMask, f32({5, 37}), {Key}, A);
                  return B.op(OpKind::Mul, {M, B.leaf(f32({5, 37}), "x")});
                },
                nonDiff(), false});
  Cs.push_back({"one_hot",
                [](Builder &B) {
                  Attrs A;
                  A.Size = 4;
                  return B.op(OpKind::OneHot, {B.leaf(i32({2, 5}), "a")}, A);
                },
                nonDiff(), false});
  for (auto [St, Pad] : {std::pair{1, 0}, {2, 1}, {1, 2}}) {
    int64_t Stride = St, Padding = Pad;
    Cs.push_back({"conv2d", [Stride, Padding](Builder &B) {
                    return B.op(OpKind::Conv2d,
                                {B.leaf(f32({2, 3, 7, 6}), "x"),
                                 B.leaf(f32({4, 3, 3, 2}), "w")},
                                window(0, Stride, Padding));
                  }});
  }
  for (auto [Sz, St] : {std::pair{2, 2}, {3, 1}, {2, 3}}) {
    int64_t Size = Sz, Stride = St;
    for (auto [Name, K] : {std::pair{"maxpool2d", OpKind::MaxPool2d},
                           {"avgpool2d", OpKind::AvgPool2d}}) {
      OpKind Kind = K;
      Cs.push_back({Name, [Kind, Size, Stride](Builder &B) {
                      return B.op(Kind, {B.leaf(f32({2, 3, 7, 8}), "x")},
                                  window(Size, Stride));
                    }});
    }
  }
  return Cs;
}

/// Case names are C strings; built ones live here (a deque never moves its
/// elements).
const char *keepName(std::string Name) {
  static std::deque<std::string> Names;
  return Names.emplace_back(std::move(Name)).c_str();
}

/// The geometry of conv2d(x : [N,C,H,W], w : [K,C,R,S]) for the case lists.
struct ConvShape {
  std::string Name;
  int64_t N, C, H, W, K, R, S, Stride, Pad;

  TensorType x() const { return f32({N, C, H, W}); }
  TensorType w() const { return f32({K, C, R, S}); }
  TensorType y() const {
    return f32(
        {N, K, (H + 2 * Pad - R) / Stride + 1, (W + 2 * Pad - S) / Stride + 1});
  }
};

/// One case per shape: conv2d, or one of its gradient kernels checked
/// forward (named `Prefix` + the shape's name).
std::vector<Case> convShapeCases(OpKind Kind, const std::string &Prefix,
                                 const std::vector<ConvShape> &Shapes) {
  std::vector<Case> Cs;
  for (const ConvShape &Cv : Shapes) {
    auto Build = [Kind, Cv](Builder &B) -> Node * {
      Attrs A = window(0, Cv.Stride, Cv.Pad);
      if (Kind == OpKind::Conv2d) {
        Node *X = B.leaf(Cv.x(), "x");
        return B.op(Kind, {X, B.leaf(Cv.w(), "w")}, A);
      }
      if (Kind == OpKind::Conv2dGradInput) {
        Node *Dy = B.leaf(Cv.y(), "dy");
        return B.typed(Kind, Cv.x(), {Dy, B.leaf(Cv.w(), "w")}, A);
      }
      Node *X = B.leaf(Cv.x(), "x");
      return B.typed(Kind, Cv.w(), {X, B.leaf(Cv.y(), "dy")}, A);
    };
    // The gradient kernels are checked forward only.
    Case C{keepName(Prefix + Cv.Name), Build};
    C.Differentiable = Kind == OpKind::Conv2d;
    Cs.push_back(std::move(C));
  }
  return Cs;
}

/// conv2d_grad_weight on its three paths (Conv.cpp, useRowDots and
/// useImplicitGemm): the GEMM over the transposed unfolding (few pixels
/// per weight, or many output channels, with wide gaps on virtual rows),
/// the implicit GEMM (the image read in place as A through a row table,
/// dy transposed on virtual rows as B: padding, stride 2, pointwise, a
/// last partial panel of K = 40 on every vector width, and a batch on the
/// thread pool) and the row dot products over the forward unfolding
/// (DotTile.cpp). The dot cases cover rows that end in a partial vector for
/// every vector width (P % 4, % 8 and % 16 != 0), rows a multiple of 16
/// long, rows shorter than one AVX vector, padding, stride 2, several input
/// channels, edge tiles in both K and CRS, and LeNet's first layer, whose
/// batch is split over the thread pool.
std::vector<Case> convGradWeightCases() {
  return convShapeCases(
      OpKind::Conv2dGradWeight, "conv2d_grad_weight ",
      {ConvShape{"gemm s2 p1", 2, 3, 7, 6, 4, 3, 2, 2, 1},
       ConvShape{"gemm c6 P=100 threaded", 8, 6, 14, 14, 16, 5, 5, 1, 0},
       ConvShape{"gemm 40 channels 5x5", 2, 2, 9, 9, 40, 5, 5, 1, 0},
       ConvShape{"implicit 40 channels p1", 2, 2, 9, 9, 40, 3, 3, 1, 1},
       ConvShape{"implicit s2 p1 32 channels", 2, 3, 13, 13, 32, 3, 3, 2, 1},
       ConvShape{"implicit pointwise 40 channels P=16", 2, 12, 4, 4, 40, 1, 1,
                 1, 0},
       ConvShape{"implicit 32 channels threaded", 8, 16, 14, 14, 32, 3, 3, 1,
                 1},
       // K = 8 and 16 fill one-vector panels of 8 and 16 floats (Gemm.cpp);
       // P = 196 < CRS = 288 rules out the row dots.
       ConvShape{"implicit one-vector panels 8 channels", 2, 32, 14, 14, 8, 3,
                 3, 1, 1},
       ConvShape{"implicit one-vector panels 16 channels", 2, 32, 14, 14, 16, 3,
                 3, 1, 1},
       ConvShape{"dots p1 c2 P=143", 3, 2, 13, 11, 5, 3, 3, 1, 1},
       ConvShape{"dots s2 p1 c2 P=143", 2, 2, 25, 21, 3, 3, 3, 2, 1},
       ConvShape{"dots p2 P=256", 2, 1, 16, 16, 7, 5, 5, 1, 2},
       ConvShape{"dots 32 channels P=156", 2, 1, 12, 13, 32, 3, 3, 1, 1},
       ConvShape{"dots pointwise P=35", 3, 4, 5, 7, 6, 1, 1, 1, 0},
       ConvShape{"dots pointwise 40 channels", 2, 3, 6, 6, 40, 1, 1, 1, 0},
       ConvShape{"dots pointwise P=6 shorter than a vector", 2, 1, 3, 2, 3, 1,
                 1, 1, 0},
       ConvShape{"dots lenet c1", 64, 1, 28, 28, 6, 5, 5, 1, 2}});
}

/// conv2d_grad_input on both of its paths (Conv.cpp): stride 1 with a
/// square kernel no narrower than its padding is the implicit forward
/// convolution of dy with flipped weights (padding R-1-pad: 0, 1 and 3
/// here), anything else the GEMM and col2im (stride 2, padding wider than
/// the kernel allows, a non-square kernel). Also 1x1, and a batch big
/// enough to run on the thread pool.
std::vector<Case> convGradInputCases() {
  return convShapeCases(
      OpKind::Conv2dGradInput, "conv2d_grad_input ",
      {ConvShape{"col2im s2 p1", 2, 3, 7, 6, 4, 3, 2, 2, 1},
       ConvShape{"col2im s1 p2 3x3", 2, 2, 6, 5, 3, 3, 3, 1, 2},
       ConvShape{"col2im s1 3x2", 2, 2, 6, 7, 3, 3, 2, 1, 0},
       ConvShape{"implicit s1 p1 3x3", 2, 3, 7, 6, 4, 3, 3, 1, 1},
       ConvShape{"implicit s1 p0 5x5", 2, 2, 9, 8, 3, 5, 5, 1, 0},
       ConvShape{"implicit 1x1", 3, 4, 5, 7, 6, 1, 1, 1, 0},
       ConvShape{"implicit 16 channels threaded", 8, 16, 14, 14, 16, 3, 3, 1,
                 1}});
}

/// The backward-only kernels, checked forward against the evaluator (their
/// use inside gradients is covered by the gradient tests above).
std::vector<Case> backwardKernelCases() {
  std::vector<Case> Cs;
  for (Case &C : convGradInputCases())
    Cs.push_back(std::move(C));
  for (Case &C : convGradWeightCases())
    Cs.push_back(std::move(C));
  Cs.push_back({"maxpool2d_grad",
                [](Builder &B) {
                  return B.op(OpKind::MaxPool2dGrad,
                              {B.leaf(f32({2, 3, 7, 8}), "x"),
                               B.leaf(f32({2, 3, 3, 3}), "dy")},
                              window(3, 2));
                },
                Ranges(), false});
  Cs.push_back({"avgpool2d_grad",
                [](Builder &B) {
                  return B.typed(OpKind::AvgPool2dGrad, f32({2, 3, 7, 8}),
                                 {B.leaf(f32({2, 3, 3, 3}), "dy")},
                                 window(3, 2));
                },
                Ranges(), false});
  return Cs;
}

/// The register-tiled product (Gemm.cpp) on every path: row and column
/// tails (masked last panel, short last tile), several k blocks, packed and
/// in-place B, transposed A and/or B read through a folded transpose, the
/// row dot products of a few rows times B^T, and products large enough to
/// run on the thread pool. Their
/// gradients run the transposed products the backward pass builds.
std::vector<Case> gemmCases() {
  std::vector<Case> Cs;
  struct Shape {
    const char *Name;
    int64_t M, K, N;
    bool TA, TB;
  };
  for (Shape Sh :
       {Shape{"gemm 1x1x1", 1, 1, 1, false, false},
        Shape{"gemm row vector 1x23x41", 1, 23, 41, false, false},
        Shape{"gemm column 10x23x1", 10, 23, 1, false, false},
        Shape{"gemm tails 13x5x37", 13, 5, 37, false, false},
        Shape{"gemm narrow 9x17x3", 9, 17, 3, false, false},
        Shape{"gemm packed 40x300x70", 40, 300, 70, false, false},
        // 32 rows: two last tiles of 4 on AVX2 (SplitTail), 8+8+8+8 on
        // AVX-512; 13, 9 and 19 rows split too.
        Shape{"gemm split tail 32x40x70", 32, 40, 70, false, false},
        Shape{"gemm A^T 19x33x48", 19, 33, 48, true, false},
        Shape{"gemm B^T 19x29x50", 19, 29, 50, false, true},
        // Up to 16 rows, A * B^T runs as row dot products (LinAlg.cpp):
        // a PyTorch Linear at batch 1, k with a lane tail, the row bound,
        // and past the lane buffer's bound (the GEMM again).
        Shape{"row dots B^T 1x784x256", 1, 784, 256, false, true},
        Shape{"row dots B^T 3x29x5", 3, 29, 5, false, true},
        Shape{"row dots B^T 16x37x50", 16, 37, 50, false, true},
        Shape{"gemm B^T past the lane buffer 16x9x1100", 16, 9, 1100, false,
              true},
        Shape{"gemm A^T B^T 35x21x17", 35, 21, 17, true, true},
        // N within one vector: panels of one vector and taller tiles (12
        // rows) on the vector units it fits, two vectors on the others.
        // 40 rows are 12+12+8+8, 29 are 12+9+8 (SplitTail).
        Shape{"gemm one vector 40x30x16", 40, 30, 16, false, false},
        Shape{"gemm one vector 29x30x8", 29, 30, 8, false, false},
        Shape{"gemm one vector packed 60x50x13", 60, 50, 13, false, false},
        Shape{"gemm one vector B^T 50x20x7", 50, 20, 7, false, true},
        Shape{"gemm threaded 72x260x100", 72, 260, 100, false, false},
        Shape{"gemm threaded B^T 64x130x97", 64, 130, 97, false, true},
        // A weight's rows kept by their threads (Gemm.cpp, Plan): k in
        // halves added afterwards (B of 179 KB), and blocks of rows over
        // every panel of a B packed first (C of 156 KB), with tail panels
        // and tail tiles.
        Shape{"gemm k halves 24x640x70", 24, 640, 70, false, false},
        Shape{"gemm row blocks 300x40x130", 300, 40, 130, false, false},
        Shape{"gemm row blocks A^T 300x40x130", 300, 40, 130, true, false}}) {
    Cs.push_back({Sh.Name, [Sh](Builder &B) {
                    Node *A = Sh.TA ? B.op(OpKind::Transpose,
                                           {B.leaf(f32({Sh.K, Sh.M}), "a")})
                                    : B.leaf(f32({Sh.M, Sh.K}), "a");
                    Node *W = Sh.TB ? B.op(OpKind::Transpose,
                                           {B.leaf(f32({Sh.N, Sh.K}), "b")})
                                    : B.leaf(f32({Sh.K, Sh.N}), "b");
                    return B.op(OpKind::MatMul, {A, W});
                  }});
  }
  return Cs;
}

/// The im2col convolutions (Conv.cpp, Im2Col.cpp) and the pools, forward
/// and through `grad` (which runs conv2d_grad_input/_weight and the pool
/// gradients): stride 1/2 with padding 0/1/2 on odd sizes, one and several
/// channels, one output channel, 1x1 kernels (the pointwise path skips
/// im2col), batch 1 and 3, and LeNet's exact layers at batch 64, which are
/// big enough to split the batch over the thread pool. Pools: overlapping,
/// gapped, unrolled and looped windows, and the explicit-vector 2x2/2 path
/// with full blocks of 16 outputs and masked tails.
std::vector<Case> convCases() {
  std::vector<ConvShape> Convs;
  for (auto [St, Pad] :
       {std::pair{1, 0}, {2, 0}, {1, 1}, {2, 1}, {1, 2}, {2, 2}})
    for (auto [N, C] : {std::pair{1, 1}, {3, 2}})
      Convs.push_back({"conv s" + std::to_string(St) + " p" +
                           std::to_string(Pad) + " n" + std::to_string(N) +
                           " c" + std::to_string(C),
                       N, C, 9, 7, 4, 3, 2, St, Pad});
  Convs.push_back({"conv one output channel", 3, 3, 7, 9, 1, 3, 3, 1, 1});
  Convs.push_back({"conv 1x1 pointwise", 3, 5, 6, 7, 4, 1, 1, 1, 0});
  Convs.push_back({"conv 1x1 stride 2 pad 1", 2, 3, 7, 6, 2, 1, 1, 2, 1});
  Convs.push_back(
      {"conv kernel as large as the image", 3, 2, 5, 4, 3, 5, 4, 1, 0});
  Convs.push_back(
      {"conv padding wider than the kernel", 2, 2, 5, 5, 3, 2, 2, 1, 2});
  Convs.push_back({"conv lenet c1", 64, 1, 28, 28, 6, 5, 5, 1, 2});
  Convs.push_back({"conv lenet c2", 64, 6, 14, 14, 16, 5, 5, 1, 0});
  // The residual nets' layers: 3x3 with 16 channels, the stride-2 stage
  // and its 1x1 stride-2 projection, and 64 channels at 7x7.
  Convs.push_back({"conv 3x3 16 channels", 8, 16, 14, 14, 16, 3, 3, 1, 1});
  Convs.push_back({"conv 3x3 stride 2 stage", 4, 16, 14, 14, 32, 3, 3, 2, 1});
  Convs.push_back(
      {"conv 1x1 stride 2 projection", 4, 16, 14, 14, 32, 1, 1, 2, 0});
  Convs.push_back({"conv 3x3 64 channels 7x7", 4, 64, 7, 7, 64, 3, 3, 1, 1});
  std::vector<Case> Cs = convShapeCases(OpKind::Conv2d, "", Convs);
  struct Pool {
    const char *Name;
    std::vector<int64_t> Dims;
    int64_t Size, Stride;
  };
  for (const Pool &P :
       {Pool{"pool 2/2 odd sizes", {3, 2, 7, 9}, 2, 2},
        Pool{"pool 2/2 rows of two vectors and a tail", {1, 2, 5, 71}, 2, 2},
        Pool{"pool 3/1 overlapping", {1, 3, 6, 7}, 3, 1},
        Pool{"pool 2/3 gaps", {2, 2, 8, 7}, 2, 3},
        Pool{"pool 5/2 large window", {2, 1, 11, 12}, 5, 2},
        Pool{"pool 5/5 large disjoint window", {1, 2, 10, 11}, 5, 5},
        Pool{"pool lenet p1", {64, 6, 28, 28}, 2, 2},
        Pool{"pool lenet p2", {64, 16, 10, 10}, 2, 2},
        // 2^16 input elements or more: planes split over the thread pool
        // (Pool.cpp), with and without windows that tile the input.
        Pool{"pool 2/2 threaded, odd sizes", {16, 8, 29, 31}, 2, 2},
        Pool{"pool 3/1 threaded, overlapping", {8, 8, 33, 35}, 3, 1},
        Pool{"pool 2/3 threaded, gaps", {4, 16, 40, 41}, 2, 3},
        Pool{"pool 3/3 threaded, scalar tiles", {3, 9, 48, 51}, 3, 3}}) {
    for (auto [Max, K] :
         {std::pair{true, OpKind::MaxPool2d}, {false, OpKind::AvgPool2d}}) {
      OpKind Kind = K;
      std::vector<int64_t> Dims = P.Dims;
      int64_t Size = P.Size, Stride = P.Stride;
      Cs.push_back({keepName(std::string(Max ? "max" : "avg") + P.Name),
                    [Kind, Dims, Size, Stride](Builder &B) {
                      return B.op(Kind, {B.leaf(f32(Dims), "x")},
                                  window(Size, Stride));
                    }});
    }
  }
  // Mostly-zero windows after relu: ties must go to the first maximum, in
  // the vector path (2/2) and the scalar ones.
  for (auto [Sz, St] : {std::pair{2, 2}, {3, 3}, {2, 1}}) {
    int64_t Size = Sz, Stride = St;
    Cs.push_back({keepName("maxpool ties " + std::to_string(Sz) + "/" +
                           std::to_string(St)),
                  [Size, Stride](Builder &B) {
                    Node *X = B.leaf(f32({2, 3, 9, 37}), "x");
                    return B.op(OpKind::MaxPool2d, {B.op(OpKind::Relu, {X})},
                                window(Size, Stride));
                  },
                  {-2, 0.5, 4}});
  }
  return Cs;
}

void runAll(const std::vector<Case> &Cs) {
  for (const Case &C : Cs) {
    SCOPED_TRACE(C.Name);
    checkForward(C);
    if (C.Differentiable)
      checkGradient(C);
  }
}

/// train_grad then apply_update, on fresh slots holding `Leaves`: the
/// same values train_step writes (the evaluator's `All`), the gradients in
/// their slots in between, and train_grad alone moves no param or state.
void checkSplitStep(const nnc_model &M, const Graph &G,
                    const EvalValues &Leaves, EvalValues &All,
                    const std::string &At) {
  ASSERT_TRUE(M.train_grad && M.apply_update);
  Slots S(M);
  setLeaves(S, G, Leaves);
  // Finite leaves: neither half reports a non-finite new value.
  EXPECT_EQ(M.train_grad(S.ptrs()), 0) << "train_grad's flag" << At;
  expectClose(S.get("loss"), All[G.Loss], "train_grad's loss" + At);
  for (const NamedValue &V : G.Metrics)
    expectClose(S.get(V.Name), All[V.Value], "train_grad's " + V.Name + At);
  for (size_t I = 0; I < G.Params.size(); ++I) {
    expectClose(S.get("grad." + G.Params[I]->Name), All[G.Grads[I]],
                "train_grad of " + G.Params[I]->Name + At);
    expectClose(S.get(G.Params[I]->Name), Leaves.at(G.Params[I]),
                G.Params[I]->Name + " after train_grad" + At);
  }
  for (const Node *St : G.States)
    expectClose(S.get(St->Name), Leaves.at(St),
                St->Name + " after train_grad" + At);
  EXPECT_EQ(M.apply_update(S.ptrs()), 0) << "apply_update's flag" << At;
  for (const Update &U : G.Updates)
    expectClose(S.get(U.Target->Name), All[U.NewValue],
                "new " + U.Target->Name + " from the halves" + At);
}

/// train_step: every new param and state value equals the evaluator's, the
/// update reads the old values throughout (p and its velocity change
/// together), and loss and metric are written.
void checkTrainStep(const OptimizerSpec &Opt) {
  Builder B;
  B.LeavesAreParams = true;
  Node *W = B.leaf(f32({3, 4}), "W");
  Node *Bias = B.leaf(f32({4}), "b");
  B.LeavesAreParams = false;
  Node *X = B.leaf(f32({5, 3}), "x");
  Node *Y = B.op(OpKind::Sigmoid,
                 {B.op(OpKind::Add, {B.op(OpKind::MatMul, {X, W}), Bias})});
  Node *L =
      B.op(OpKind::ReduceSum, {B.op(OpKind::Mul, {Y, Y})}, axis(ALL_AXES));
  B.G.Loss = L;
  B.G.LossName = "L";
  B.G.Metrics.push_back(
      {"m", B.op(OpKind::ReduceMax, {Y}, axis(ALL_AXES)), {}});
  DiagEngine Diags;
  ASSERT_TRUE(differentiate(B.G, Diags));
  buildOptimizerUpdate(B.G, Opt);
  ASSERT_FALSE(B.G.Updates.empty());
  EvalValues Leaves = randomLeaves(B.G, Ranges(), 44);
  for (Node *H : B.G.Hypers)
    Leaves[H].Data.assign(1, 0.1);
  // Optimizer state as after some steps: Adam's second moment and step
  // count are non-negative.
  for (Node *St : B.G.States)
    for (double &V : Leaves[St].Data)
      V = std::fabs(V);
  EvalValues All = evaluate(B.G, Leaves);
  for (unsigned OptLevel : {0u, 2u}) {
    auto J = compile(B.G, OptLevel);
    ASSERT_TRUE(J);
    ASSERT_TRUE(J->model()->train_step);
    Slots S(*J->model());
    setLeaves(S, B.G, Leaves);
    std::string At = " at -O" + std::to_string(OptLevel);
    EXPECT_EQ(J->model()->train_step(S.ptrs()), 0) << "train_step's flag" << At;
    expectClose(S.get("loss"), All[L], "loss" + At);
    expectClose(S.get("m"), All[B.G.Metrics[0].Value], "metric" + At);
    for (const Update &U : B.G.Updates)
      expectClose(S.get(U.Target->Name), All[U.NewValue],
                  "new " + U.Target->Name + At);
    checkSplitStep(*J->model(), B.G, Leaves, All, At);
  }
}

/// The optimizer reads the gradients from their slots in apply_update:
/// with every grad slot doubled after train_grad (as if the other rank's
/// gradient were three times this one's), plain SGD moves each param by
/// twice as much.
TEST(CodeGen, ApplyUpdateReadsTheGradSlots) {
  Builder B;
  B.LeavesAreParams = true;
  Node *W = B.leaf(f32({3, 4}), "W");
  B.LeavesAreParams = false;
  Node *X = B.leaf(f32({5, 3}), "x");
  Node *Y = B.op(OpKind::Tanh, {B.op(OpKind::MatMul, {X, W})});
  B.G.Loss =
      B.op(OpKind::ReduceSum, {B.op(OpKind::Mul, {Y, Y})}, axis(ALL_AXES));
  B.G.LossName = "L";
  DiagEngine Diags;
  ASSERT_TRUE(differentiate(B.G, Diags));
  buildOptimizerUpdate(B.G, OptimizerSpec());
  EvalValues Leaves = randomLeaves(B.G, Ranges(), 46);
  for (Node *H : B.G.Hypers)
    Leaves[H].Data.assign(1, 0.1);
  EvalValues All = evaluate(B.G, Leaves);
  for (unsigned OptLevel : {0u, 2u}) {
    auto J = compile(B.G, OptLevel);
    ASSERT_TRUE(J);
    Slots S(*J->model());
    setLeaves(S, B.G, Leaves);
    J->model()->train_grad(S.ptrs());
    EvalTensor Doubled = All[B.G.Grads[0]];
    for (double &V : Doubled.Data)
      V *= 2;
    S.set("grad.W", Doubled);
    J->model()->apply_update(S.ptrs());
    EvalTensor Want = Leaves[W];
    for (size_t I = 0; I < Want.Data.size(); ++I)
      Want.Data[I] -= 0.1 * Doubled.Data[I];
    expectClose(S.get("W"), Want, "W at -O" + std::to_string(OptLevel));
  }
}

/// A model with both modes: conv2d -> batchnorm -> relu -> dropout. The
/// training step (batch statistics, the running statistics' updates, the
/// mask of the key in the `dropout_key` slot, the momentum update) and
/// `grad` equal the evaluator on the train-mode graph, `predict` on the
/// eval-mode graph (running statistics, no dropout), at -O0 and -O2; `grad`
/// leaves the buffers alone.
TEST(CodeGen, TrainAndEvalModes) {
  Builder B;
  B.LeavesAreParams = true;
  Node *W = B.leaf(f32({3, 2, 1, 1}), "w");
  Node *Gamma = B.leaf(f32({3}), "g");
  Node *Beta = B.leaf(f32({3}), "b");
  B.LeavesAreParams = false;
  Node *X = B.leaf(f32({4, 2, 3, 3}), "x");
  auto Buffer = [&](const char *Name) {
    Node *N = B.G.create(OpKind::Buffer, f32({3}), {});
    N->Name = Name;
    B.G.Buffers.push_back(N);
    return N;
  };
  Node *Mean = Buffer("z.running_mean"), *Var = Buffer("z.running_var");
  Attrs BN;
  BN.Rate = 0.2;
  BN.Eps = 1e-5;
  Node *Z = B.op(
      OpKind::BatchNorm,
      {B.op(OpKind::Conv2d, {X, W}, window(0, 1)), Gamma, Beta, Mean, Var}, BN);
  Attrs P;
  P.Rate = 0.4;
  Node *Y = B.op(OpKind::Dropout, {B.op(OpKind::Relu, {Z})}, P);
  B.G.Outputs.push_back({"y", Y, {}});
  B.G.Loss =
      B.op(OpKind::ReduceSum, {B.op(OpKind::Mul, {Y, Y})}, axis(ALL_AXES));
  B.G.LossName = "L";
  std::unique_ptr<Graph> Eval = B.G.clone("m.eval");
  specializeMode(*Eval, RunMode::Eval);
  specializeMode(B.G, RunMode::Train);
  DiagEngine Diags;
  ASSERT_TRUE(differentiate(B.G, Diags));
  OptimizerSpec Opt;
  Opt.Momentum = 0.9;
  buildOptimizerUpdate(B.G, Opt);

  EvalValues Leaves = randomLeaves(B.G, Ranges(), 45);
  for (Node *H : B.G.Hypers)
    Leaves[H].Data.assign(1, H->Name == "lr" ? 0.1 : 12345);
  for (double &V : Leaves[B.G.Buffers[1]].Data)
    V = std::fabs(V) + 0.5; // a variance
  EvalValues EvalLeaves;
  for (const auto &N : Eval->nodes())
    if (N->isLeaf() && N->Kind != OpKind::Const)
      for (const auto &[Leaf, V] : Leaves)
        if (Leaf->Name == N->Name)
          EvalLeaves[N.get()] = V;
  EvalValues All = evaluate(B.G, Leaves);
  EvalValues EvalAll = evaluate(*Eval, EvalLeaves);
  for (unsigned OptLevel : {0u, 2u}) {
    std::string At = " at -O" + std::to_string(OptLevel);
    auto J = compile(B.G, OptLevel, nullptr, std::nullopt, Eval.get());
    ASSERT_TRUE(J);
    Slots S(*J->model());
    setLeaves(S, B.G, Leaves);
    J->model()->predict(S.ptrs());
    expectClose(S.get("y"), EvalAll[Eval->Outputs[0].Value], "predict" + At);
    J->model()->grad(S.ptrs());
    expectClose(S.get("loss"), All[B.G.Loss], "grad's loss" + At);
    for (size_t I = 0; I < B.G.Params.size(); ++I)
      expectClose(S.get("grad." + B.G.Params[I]->Name), All[B.G.Grads[I]],
                  "grad of " + B.G.Params[I]->Name + At);
    expectClose(S.get("z.running_var"), Leaves[B.G.Buffers[1]],
                "running_var after grad" + At);
    EXPECT_EQ(J->model()->train_step(S.ptrs()), 0) << "train_step's flag" << At;
    expectClose(S.get("loss"), All[B.G.Loss], "loss" + At);
    ASSERT_EQ(B.G.Updates.size(), 2 + 2 * B.G.Params.size());
    for (const Update &U : B.G.Updates)
      expectClose(S.get(U.Target->Name), All[U.NewValue],
                  "new " + U.Target->Name + At);
    // train_grad moves the running statistics, apply_update the params.
    checkSplitStep(*J->model(), B.G, Leaves, All, At);
  }
}

TEST(CodeGen, TrainStepSgdMomentum) {
  OptimizerSpec Opt;
  Opt.Momentum = 0.9;
  Opt.WeightDecay = 0.01;
  checkTrainStep(Opt);
}

TEST(CodeGen, TrainStepAdam) {
  OptimizerSpec Opt;
  Opt.Kind = OptimizerSpec::Adam;
  checkTrainStep(Opt);
}

TEST(CodeGen, TrainStepSgdNesterov) {
  OptimizerSpec Opt;
  Opt.Momentum = 0.8;
  Opt.WeightDecay = 0.01;
  Opt.Nesterov = true;
  checkTrainStep(Opt);
}

TEST(CodeGen, TrainStepAdamWeightDecay) {
  OptimizerSpec Opt;
  Opt.Kind = OptimizerSpec::Adam;
  Opt.WeightDecay = 0.1;
  checkTrainStep(Opt);
}

TEST(CodeGen, TrainStepAdamW) {
  OptimizerSpec Opt;
  Opt.Kind = OptimizerSpec::AdamW;
  Opt.WeightDecay = 0.1;
  Opt.Beta2 = 0.99;
  checkTrainStep(Opt);
}

TEST(CodeGen, TrainStepAdagrad) {
  OptimizerSpec Opt;
  Opt.Kind = OptimizerSpec::Adagrad;
  Opt.Eps = 1e-10;
  checkTrainStep(Opt);
}

TEST(CodeGen, TrainStepRmsProp) {
  for (double Momentum : {0.0, 0.5}) {
    SCOPED_TRACE("momentum " + std::to_string(Momentum));
    OptimizerSpec Opt;
    Opt.Kind = OptimizerSpec::RmsProp;
    Opt.Alpha = 0.9;
    Opt.Momentum = Momentum;
    checkTrainStep(Opt);
  }
}

// A clip norm below the gradients' norm (it scales them) and one above it
// (the factor is exactly 1), before weight decay.
TEST(CodeGen, TrainStepClipNorm) {
  for (double Clip : {0.05, 1e4}) {
    SCOPED_TRACE("clip_norm " + std::to_string(Clip));
    OptimizerSpec Opt;
    Opt.Momentum = 0.9;
    Opt.WeightDecay = 0.01;
    Opt.ClipNorm = Clip;
    checkTrainStep(Opt);
  }
}

/// The descriptor read back through the C header: the LLVM struct layout
/// must match C's field for field.
TEST(CodeGen, ModelDescriptorMatchesCLayout) {
  Builder B;
  B.LeavesAreParams = true;
  Node *W = B.leaf(f32({2, 3}), "W");
  W->Init.Kind = InitSpec::Uniform;
  W->Init.A = -0.5;
  W->Init.B = 0.25;
  Node *K = B.leaf(f32({3}), "k");
  K->Init.Kind = InitSpec::Literal;
  K->Init.Value = Tensor(f32({3}));
  K->Init.Value.F = {1, 2, 3};
  B.LeavesAreParams = false;
  Node *X = B.leaf(f32({8, 2}), "x");
  Node *T = B.G.create(OpKind::Target, i32({8}), {});
  T->Name = "t";
  B.G.Targets.push_back(T);
  B.G.BatchSize = 8;
  Node *Y = B.op(OpKind::Add, {B.op(OpKind::MatMul, {X, W}), K});
  B.G.Outputs.push_back({"y", Y, {}});

  TrainConfig Train;
  Train.Model = "m";
  Train.Data.Kind = DataSpec::Csv;
  Train.Data.Path = "/data/train.csv";
  Train.Data.InputCols = {0, 1};
  Train.Data.TargetCols = {2};
  Train.Data.Header = true;
  Train.Optimizer.Kind = OptimizerSpec::Adam;
  Train.Optimizer.Lr = 0.003;
  Train.Optimizer.Beta2 = 0.99;
  Train.Epochs = 7;
  Train.Shuffle = false;
  Train.Seed = 123456789012345ull;
  Train.Schedule.Kind = ScheduleSpec::Step;
  Train.Schedule.Every = 3;
  Train.Schedule.Gamma = 0.25;
  Train.Augment = {{AugmentSpec::RandomCrop, 4, {}},
                   {AugmentSpec::HFlip, 0, {}}};
  Train.Validation = 0.125;
  Train.EarlyStop = 2;

  auto J = compile(B.G, 2, &Train);
  ASSERT_TRUE(J);
  const nnc_model &M = *J->model();
  EXPECT_EQ(M.abi_version, NNC_ABI_VERSION);
  EXPECT_STREQ(M.name, "m");
  EXPECT_EQ(M.batch, 8);
  ASSERT_EQ(M.num_slots, 6); // W, k, x, t, y, arena
  EXPECT_STREQ(M.slots[0].name, "W");
  EXPECT_EQ(M.slots[0].role, NNC_SLOT_PARAM);
  EXPECT_EQ(M.slots[0].rank, 2);
  EXPECT_EQ(M.slots[0].dims[0], 2);
  EXPECT_EQ(M.slots[0].dims[1], 3);
  EXPECT_EQ(M.slots[0].init_kind, NNC_INIT_UNIFORM);
  EXPECT_EQ(M.slots[0].init_a, -0.5);
  EXPECT_EQ(M.slots[0].init_b, 0.25);
  EXPECT_EQ(M.slots[1].init_kind, NNC_INIT_LITERAL);
  ASSERT_TRUE(M.slots[1].literal);
  EXPECT_EQ(static_cast<const float *>(M.slots[1].literal)[2], 3.0f);
  // x @ W: W's columns are the units' weights; k is added, a bias.
  EXPECT_EQ(M.slots[0].use, NNC_USE_MATMUL_COLUMNS);
  EXPECT_EQ(M.slots[1].use, NNC_USE_NONE);
  EXPECT_EQ(M.slots[2].role, NNC_SLOT_INPUT);
  EXPECT_EQ(M.slots[3].role, NNC_SLOT_TARGET);
  EXPECT_EQ(M.slots[3].dtype, NNC_I32);
  EXPECT_STREQ(M.slots[4].name, "y");
  EXPECT_EQ(M.slots[4].role, NNC_SLOT_OUTPUT);
  EXPECT_EQ(M.slots[5].role, NNC_SLOT_TEMP);
  EXPECT_EQ(M.slots[5].rank, 1);

  EXPECT_EQ(M.train.present, 1);
  EXPECT_EQ(M.train.data.kind, 2);
  EXPECT_STREQ(M.train.data.path, "/data/train.csv");
  ASSERT_EQ(M.train.data.num_input_cols, 2);
  EXPECT_EQ(M.train.data.input_cols[1], 1);
  ASSERT_EQ(M.train.data.num_target_cols, 1);
  EXPECT_EQ(M.train.data.target_cols[0], 2);
  EXPECT_EQ(M.train.data.header, 1);
  EXPECT_EQ(M.train.test.kind, 0);
  EXPECT_EQ(M.train.optimizer, 1);
  EXPECT_EQ(M.train.lr, 0.003);
  EXPECT_EQ(M.train.beta2, 0.99);
  EXPECT_EQ(M.train.epochs, 7);
  EXPECT_EQ(M.train.shuffle, 0);
  EXPECT_EQ(M.train.seed, 123456789012345ull);
  EXPECT_EQ(M.train.schedule, NNC_SCHEDULE_STEP);
  EXPECT_EQ(M.train.schedule_every, 3);
  EXPECT_EQ(M.train.schedule_gamma, 0.25);
  EXPECT_EQ(M.train.schedule_warmup, 0);
  ASSERT_EQ(M.train.num_augments, 2);
  EXPECT_EQ(M.train.augments[0].kind, NNC_AUGMENT_RANDOM_CROP);
  EXPECT_EQ(M.train.augments[0].padding, 4);
  EXPECT_EQ(M.train.augments[1].kind, NNC_AUGMENT_HFLIP);
  EXPECT_EQ(M.train.validation, 0.125);
  EXPECT_EQ(M.train.early_stop, 2);
  // No loss: only predict.
  EXPECT_FALSE(M.train_step);
  EXPECT_FALSE(M.eval_step);
  EXPECT_FALSE(M.grad);
  ASSERT_TRUE(M.predict);
}

// The differential cases cover every op of Ops.def: a new op without one
// fails here, not in a user's model.
TEST(CodeGen, EveryOpHasADifferentialCase) {
  std::set<OpKind> Seen;
  for (auto Cases : {unaryCases, binaryCases, reduceCases, shapeAndKernelCases,
                     backwardKernelCases})
    for (const Case &C : Cases()) {
      Builder B;
      C.Build(B);
      for (const auto &N : B.G.nodes())
        Seen.insert(N->Kind);
    }
  for (unsigned K = 0; K < NumOpKinds; ++K) {
    // Mode-dependent ops never reach the code generator: specializeModes
    // rewrites them into the ops checked here.
    if (isLeafOp(OpKind(K)) || opClass(OpKind(K)) == OpClass::Mode)
      continue;
    EXPECT_TRUE(Seen.count(OpKind(K)))
        << "no differential case for " << opSpelling(OpKind(K)).str();
  }
}

/// Runs `Op` over `Xs` through generated code (-O2) and returns the results.
std::vector<double> runUnary(OpKind Op, const std::vector<double> &Xs) {
  Builder B;
  Node *X = B.leaf(f32({int64_t(Xs.size())}), "x");
  B.G.Outputs.push_back({"out", B.op(Op, {X}), {}});
  auto J = compile(B.G, 2, nullptr, std::nullopt);
  if (!J)
    return {};
  Slots S(*J->model());
  EvalTensor In = EvalTensor::zeros(X->Type);
  In.Data = Xs;
  S.set("x", In);
  J->model()->predict(S.ptrs());
  return S.get("out");
}

// erf and the functions built on it keep f32 precision relative to the
// value, also where it is tiny (erf near 0, gelu far below 0), which the
// differential tests' absolute tolerance would not notice.
TEST(CodeGen, ErfFamilyIsAccurate) {
  std::vector<double> Xs;
  for (int I = -4000; I <= 4000; ++I)
    Xs.push_back(double(float(I * 0.002)));
  Xs.push_back(1e-20);
  Xs.push_back(-3e-7);
  // Relative tolerances: erf within a few ulp; gelu's exp(-x^2/2) turns
  // the rounding of x^2 into a relative error of about x^2 ulp (8e-6 at
  // x = -8, where PyTorch's 1 + erf form has no correct digit left).
  struct Ref {
    OpKind Op;
    double (*F)(double);
    double Tol;
  };
  auto Gelu = [](double X) {
    return 0.5 * X * std::erfc(-X * std::numbers::sqrt2 / 2);
  };
  for (Ref R : {Ref{OpKind::Erf, [](double X) { return std::erf(X); }, 5e-7},
                Ref{OpKind::Gelu, Gelu, 1e-5}}) {
    std::vector<double> Got = runUnary(R.Op, Xs);
    ASSERT_EQ(Got.size(), Xs.size());
    double Worst = 0;
    for (size_t I = 0; I < Xs.size(); ++I) {
      double Want = R.F(Xs[I]);
      Worst = std::max(Worst, std::fabs(Got[I] - Want) /
                                  std::max(std::fabs(Want), 1e-30));
    }
    EXPECT_LT(Worst, R.Tol) << opSpelling(R.Op).str();
  }
}

TEST(CodeGen, UnaryOps) { runAll(unaryCases()); }
TEST(CodeGen, BinaryAndCompareOps) { runAll(binaryCases()); }
TEST(CodeGen, Reductions) { runAll(reduceCases()); }
TEST(CodeGen, ShapesMatMulConvPool) { runAll(shapeAndKernelCases()); }
TEST(CodeGen, BackwardKernels) { runAll(backwardKernelCases()); }

/// The weight gradient's dot tiles and partial-vector tails are shaped by
/// the vector width and register count: check them for AVX-512, AVX and
/// SSE whatever the host is.
/// Both gradients and the convolution shapes of convCases on every vector
/// unit the code generator chooses among (AVX-512 code runs on any x86-64
/// host: LLVM splits the vectors when the CPU lacks the registers).
TEST(CodeGen, ConvPerVectorUnit) {
  for (VectorUnit VU :
       {VectorUnit{16, 32}, VectorUnit{8, 16}, VectorUnit{4, 16}}) {
    SCOPED_TRACE("vector unit " + std::to_string(VU.Floats) + " floats");
    std::vector<Case> Cs = convGradWeightCases();
    for (Case &C : convGradInputCases())
      Cs.push_back(std::move(C));
    for (Case &C : convCases())
      if (std::string_view(C.Name).starts_with("conv "))
        Cs.push_back(std::move(C));
    for (Case &C : Cs)
      C.Vector = VU;
    runAll(Cs);
  }
}
/// The GEMM's panels and tiles are shaped by the vector width and register
/// count (one-vector panels where N fits one vector): every unit the code
/// generator chooses among, as for the convolutions.
TEST(CodeGen, GemmPaths) {
  for (VectorUnit VU :
       {VectorUnit{16, 32}, VectorUnit{8, 16}, VectorUnit{4, 16}}) {
    SCOPED_TRACE("vector unit " + std::to_string(VU.Floats) + " floats");
    std::vector<Case> Cs = gemmCases();
    for (Case &C : Cs)
      C.Vector = VU;
    runAll(Cs);
  }
}
TEST(CodeGen, ConvIm2ColAndPools) { runAll(convCases()); }

} // namespace
