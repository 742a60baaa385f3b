//===- FusionTest.cpp - Fused kernels against the reference evaluator -----===//
//
// Differential tests of fusion and memory planning: small models written in
// `.nn` (and the shipped examples) are built into training steps, optimized
// at graph -O0 (no pass), -O2 and -O3 (fusion), lowered, JIT-compiled, and
// every entry point is run on random leaves. Loss, metrics, outputs,
// gradients and the new value of every param and optimizer state must agree
// with the reference evaluator on the *unoptimized* graph. The models are
// chosen to hit each kind of fused kernel: elementwise chains with
// broadcasting and transposes, matmul/conv epilogues (forward and
// backward), reductions through their producers, softmax with
// cross-entropy, and SGD/Adam updates computed in place in the param slots.
//
//===----------------------------------------------------------------------===//
#include "SlotBuffers.h"
#include "nnc/Autodiff/Optimizer.h"
#include "nnc/CodeGen/CodeGen.h"
#include "nnc/CodeGen/Target.h"
#include "nnc/Graph/Evaluator.h"
#include "nnc/Graph/KernelPartition.h"
#include "nnc/Graph/Printer.h"
#include "nnc/Graph/Verifier.h"
#include "nnc/JIT/JIT.h"
#include "nnc/Parse/Parser.h"
#include "nnc/Runtime/Callbacks.h"
#include "nnc/Sema/Sema.h"
#include "nnc/Transforms/PassManager.h"

#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>

using namespace nnc;
using nnc::test::Slots;

namespace {

struct Loaded {
  DiagEngine Diags;
  std::unique_ptr<ast::File> File;
  std::unique_ptr<Module> M;
  Graph *G = nullptr;
};

/// Parses and analyzes `Source` (or the example file `Example`) and builds
/// the training step of its first model.
std::unique_ptr<Loaded> load(llvm::StringRef Source, llvm::StringRef Example) {
  auto L = std::make_unique<Loaded>();
  std::unique_ptr<llvm::MemoryBuffer> Buf;
  std::string Dir = ".";
  if (!Example.empty()) {
    std::string Path = (NNC_EXAMPLES_DIR "/" + Example).str();
    auto B = llvm::MemoryBuffer::getFile(Path);
    if (!B) {
      ADD_FAILURE() << "cannot read " << Path;
      return nullptr;
    }
    Buf = std::move(*B);
    Dir = llvm::sys::path::parent_path(Path).str();
  } else {
    Buf = llvm::MemoryBuffer::getMemBufferCopy(Source, "test.nn");
  }
  unsigned Id = L->Diags.addBuffer(std::move(Buf));
  L->File = parseFile(L->Diags, Id);
  if (!L->Diags.hadErrors())
    L->M = analyze(*L->File, L->Diags, Dir);
  if (!L->M || !buildTrainingSteps(*L->M, L->Diags) || L->M->Models.empty()) {
    ADD_FAILURE() << "the model does not compile";
    return nullptr;
  }
  L->G = L->M->Models[0].get();
  return L;
}

/// The i32 leaves (labels) are drawn from [Lo, Hi]; labels outside the
/// classes check that rewrites keep one_hot's zero rows.
struct LabelRange {
  int Lo = 0, Hi = 2;
};

/// Random leaves drawn per interface position, so two graphs built from one
/// source get the same values.
EvalValues randomLeaves(const Graph &G, LabelRange Labels = {}) {
  std::mt19937_64 Rng(42);
  std::uniform_real_distribution<double> Signed(-1, 1), Positive(0.05, 1);
  EvalValues Leaves;
  auto Fill = [&](const std::vector<Node *> &List, bool Pos) {
    for (Node *N : List) {
      EvalTensor T = EvalTensor::zeros(N->Type);
      for (double &V : T.Data)
        V = N->dtype() == DType::I32
                ? double(Labels.Lo + int(Rng() % (Labels.Hi - Labels.Lo + 1)))
            : Pos ? Positive(Rng)
                  : Signed(Rng);
      Leaves[N] = toEval(fromEval(T));
    }
  };
  Fill(G.Inputs, false);
  Fill(G.Targets, true);
  Fill(G.Params, false);
  Fill(G.States, true);
  Fill(G.Hypers, true);
  Fill(G.Buffers, true);
  return Leaves;
}

void expectClose(const std::vector<double> &Got, const EvalTensor &Want,
                 const std::string &What) {
  ASSERT_EQ(int64_t(Got.size()), Want.numElements()) << What;
  double Scale = 1;
  for (double X : Want.Data)
    Scale = std::max(Scale, std::fabs(X));
  for (size_t I = 0; I < Got.size(); ++I)
    ASSERT_NEAR(Got[I], Want.Data[I], 2e-4 * Scale) << What << "[" << I << "]";
}

/// A NaN, then an infinity, planted in the last element of each slot an
/// update overwrites: train_step's non-finite flag (ModelABI.h) is set
/// exactly when one of those slots is not finite after the step, whichever
/// kernel (fused epilogue, in place or not, on threads or not) wrote it.
template <typename SetAllT>
void checkNonFiniteFlag(const nnc_model &Model, const Graph &G,
                        SetAllT SetAll) {
  for (const Update &Planted : G.Updates) {
    for (double Bad : {std::nan(""), -HUGE_VAL}) {
      if (Planted.Target->dtype() != DType::F32)
        continue;
      Slots S(Model);
      SetAll(S);
      std::vector<double> V = S.get(Planted.Target->Name);
      EvalTensor T =
          EvalTensor::zeros(TensorType(DType::F32, {int64_t(V.size())}));
      T.Data = V;
      T.Data.back() = Bad;
      S.set(Planted.Target->Name, T);
      bool Flag = Model.train_step(S.ptrs()) != 0;
      bool Any = false;
      for (const Update &U : G.Updates)
        for (double X : S.get(U.Target->Name))
          Any |= !std::isfinite(X);
      EXPECT_TRUE(Any) << Planted.Target->Name << " = " << Bad;
      EXPECT_EQ(Flag, Any) << "train_step's flag with " << Bad << " in "
                           << Planted.Target->Name;
    }
  }
}

/// Runs every entry point of `Source` at graph -O0, -O2 and -O3 against
/// the evaluator. Returns the number of fused kernels at -O2 (nodes sharing
/// a kernel id), so tests can insist that fusion happened.
unsigned checkModel(llvm::StringRef Source, llvm::StringRef Example = "",
                    LabelRange Labels = {}) {
  std::unique_ptr<Loaded> Ref = load(Source, Example);
  EXPECT_TRUE(Ref);
  if (!Ref)
    return 0;
  EvalValues RefLeaves = randomLeaves(*Ref->G, Labels);
  EvalValues Want = evaluate(*Ref->G, RefLeaves);
  unsigned Fused = 0;
  for (unsigned Level : {0u, 2u, 3u}) {
    SCOPED_TRACE("graph -O" + std::to_string(Level));
    std::unique_ptr<Loaded> L = load(Source, Example);
    EXPECT_TRUE(L);
    if (!L)
      return 0;
    Graph &G = *L->G;
    PassOptions PO;
    PO.OptLevel = Level;
    PO.VerifyEach = true;
    EXPECT_TRUE(optimizeGraph(G, PO, L->Diags));
    std::map<int, unsigned> Sizes;
    for (const auto &N : G.nodes())
      if (N->Kernel >= 0)
        ++Sizes[N->Kernel];
    if (Level == 2) {
      for (const auto &[K, Size] : Sizes)
        Fused += Size > 1;
    }
    if (Level == 0) {
      EXPECT_TRUE(Sizes.empty()) << "-O0 must not fuse";
    }

    auto Ctx = std::make_unique<llvm::LLVMContext>();
    auto Mod = lowerGraph(G, nullptr, *Ctx);
    EXPECT_TRUE(bool(Mod)) << llvm::toString(Mod.takeError());
    if (!Mod)
      return 0;
    TargetOptions TO;
    TO.OptLevel = 2;
    TO.Threads = 2; // big models (lenet.nn) are compiled in two parts
    auto J = ModelJIT::create(std::move(*Mod), std::move(Ctx), TO,
                              rt::callbackSymbols());
    EXPECT_TRUE(bool(J)) << llvm::toString(J.takeError());
    if (!J)
      return 0;
    const nnc_model &Model = *(*J)->model();
    // Leaves by name, in the reference graph's values.
    auto SetAll = [&](Slots &S) {
      for (const auto *List :
           {&Ref->G->Inputs, &Ref->G->Targets, &Ref->G->Params, &Ref->G->States,
            &Ref->G->Hypers, &Ref->G->Buffers})
        for (Node *N : *List)
          S.set(N->Name, RefLeaves[N]);
    };
    auto CheckForward = [&](Slots &S, const std::string &Entry) {
      if (Ref->G->Loss)
        expectClose(S.get("loss"), Want[Ref->G->Loss], Entry + " loss");
      for (const NamedValue &M : Ref->G->Metrics)
        expectClose(S.get(M.Name), Want[M.Value], Entry + " " + M.Name);
    };
    if (Model.predict) {
      Slots S(Model);
      SetAll(S);
      Model.predict(S.ptrs());
      for (const NamedValue &O : Ref->G->Outputs)
        expectClose(S.get(O.Name), Want[O.Value], "predict " + O.Name);
    }
    if (Model.grad) {
      Slots S(Model);
      SetAll(S);
      Model.grad(S.ptrs());
      expectClose(S.get("loss"), Want[Ref->G->Loss], "grad loss");
      for (size_t I = 0; I < Ref->G->Params.size(); ++I)
        expectClose(S.get("grad." + Ref->G->Params[I]->Name),
                    Want[Ref->G->Grads[I]], "grad." + Ref->G->Params[I]->Name);
    }
    if (Model.eval_step) {
      Slots S(Model);
      SetAll(S);
      Model.eval_step(S.ptrs());
      CheckForward(S, "eval_step");
    }
    EXPECT_TRUE(Model.train_step || Ref->G->Updates.empty());
    if (Model.train_step) {
      Slots S(Model);
      SetAll(S);
      // Every new value is finite, and the step says so (ModelABI.h).
      EXPECT_EQ(Model.train_step(S.ptrs()), 0) << "train_step's flag";
      CheckForward(S, "train_step");
      for (const Update &U : Ref->G->Updates)
        expectClose(S.get(U.Target->Name), Want[U.NewValue],
                    "train_step new " + U.Target->Name);
      checkNonFiniteFlag(Model, *Ref->G, SetAll);
    }
  }
  return Fused;
}

/// A model `m` with a train block; the csv (never read) has `NumIn` input
/// columns and `NumTarget` target columns per example. `Keys` are more
/// train-block lines.
std::string model(const std::string &Body, const std::string &Optimizer,
                  int NumIn, int NumTarget, const std::string &Keys = "") {
  auto Cols = [](int From, int Count) {
    std::string S = "[";
    for (int I = 0; I < Count; ++I)
      S += (I ? ", " : "") + std::to_string(From + I);
    return S + "]";
  };
  return "model m {\n" + Body +
         "}\ntrain m {\n  data = csv(\"none.csv\", "
         "inputs = " +
         Cols(0, NumIn) + ", target = " + Cols(NumIn, NumTarget) +
         ")\n  optimizer = " + Optimizer + "\n  epochs = 1\n" + Keys + "}\n";
}

TEST(Fusion, DenseReluEpilogueAndSgdMomentum) {
  EXPECT_GT(checkModel(model(
                R"(
  dim B = 5
  input x : f32[B, 3]
  target t : i32[B]
  param W1 : f32[3, 7] = uniform(-1, 1)
  param b1 : f32[7] = uniform(-1, 1)
  param W2 : f32[7, 4] = uniform(-1, 1)
  param b2 : f32[4] = zeros
  h = relu(x @ W1 + b1)
  s = h @ W2 + b2
  loss ce = cross_entropy(s, t)
  metric acc = mean(argmax(s, axis = 1) == t)
  output p = softmax(s)
)",
                "sgd(lr = 0.1, momentum = 0.9, weight_decay = 0.01)", 3, 1)),
            3u);
}

// Epilogues of 2^16 elements or more run in pieces on the thread pool
// (FusedKernel.cpp, emitEpilogue): a 300 x 230 weight's momentum update
// after its gradient's product, an elementwise chain with a broadcast row
// over 300 x 240 (merged to one flat loop), and a transposed read.
TEST(Fusion, LargeEpiloguesSplitOverThreads) {
  EXPECT_GT(checkModel(model(R"(
  dim B = 240
  input x : f32[B, 300]
  target t : i32[B]
  param r : f32[300] = uniform(-1, 1)
  param W : f32[300, 230] = uniform(-0.1, 0.1)
  param V : f32[230, 3] = uniform(-1, 1)
  z = tanh(x * 2 + r) - x * x
  h = relu(z @ W)
  s = h @ V
  loss ce = cross_entropy(s, t)
  output q = transpose(x) * 3 + 1
)",
                             "sgd(lr = 0.1, momentum = 0.9)", 300, 1)),
            2u);
}

TEST(Fusion, ReductionPrologueAndAdam) {
  EXPECT_GT(checkModel(model(R"(
  dim B = 6
  input x : f32[B, 4]
  target t : f32[B, 2]
  param W : f32[4, 2] = uniform(-1, 1)
  param c : f32[2] = uniform(-1, 1)
  y = sigmoid(x @ W) * c + tanh(c)
  loss l = mean(0.5 * (y - t)^2) + sum(abs(W)) * 0.01
  metric m = max(y)
  output y
)",
                             "adam(lr = 0.01)", 4, 2)),
            2u);
}

// batchnorm's running statistics are buffers the training step updates
// from the batch statistics (channel_sum anchors); a conv net and a dense
// one, so both layouts of the statistics are covered.
TEST(Fusion, BatchnormBuffers) {
  EXPECT_GT(checkModel(model(R"(
  dim B = 8
  input x : f32[B, 4]
  target t : i32[B]
  param W1 : f32[4, 6] = uniform(-1, 1)
  param g : f32[6] = ones
  param b : f32[6] = zeros
  param W2 : f32[6, 3] = uniform(-1, 1)
  z = batchnorm(x @ W1, g, b)
  loss ce = cross_entropy(relu(z) @ W2, t)
)",
                             "sgd(lr = 0.1, momentum = 0.9)", 4, 1)),
            1u);
  EXPECT_GT(checkModel(model(R"(
  dim B = 2
  input x : f32[B, 1, 5, 5]
  target t : i32[B]
  param K : f32[3, 1, 3, 3] = uniform(-1, 1)
  param g : f32[3] = ones
  param b : f32[3] = zeros
  param W : f32[3, 2] = uniform(-1, 1)
  c = relu(batchnorm(conv2d(x, K, padding = 1), g, b))
  loss ce = cross_entropy(reshape(avgpool2d(c, size = 5), [B, 3]) @ W, t)
)",
                             "adam(lr = 0.01)", 25, 1)),
            1u);
}

// clip_norm makes every param's update wait for the global norm of all the
// gradients, so no update may be fused into its own gradient's kernel
// before the last gradient is done; the `grad` entry keeps the raw ones.
TEST(Fusion, ClipNormWithEveryOptimizer) {
  const char *Body = R"(
  dim B = 5
  input x : f32[B, 3]
  target t : i32[B]
  param W1 : f32[3, 6] = uniform(-1, 1)
  param b1 : f32[6] = uniform(-1, 1)
  param W2 : f32[6, 4] = uniform(-1, 1)
  h = tanh(x @ W1 + b1)
  loss ce = cross_entropy(h @ W2, t)
)";
  for (const char *Optimizer :
       {"sgd(lr = 0.1, momentum = 0.9, weight_decay = 0.01, nesterov = true)",
        "adam(lr = 0.01, weight_decay = 0.1)", "adamw(lr = 0.01)",
        "adagrad(lr = 0.1)", "rmsprop(lr = 0.01, momentum = 0.5)"}) {
    SCOPED_TRACE(Optimizer);
    EXPECT_GT(checkModel(model(Body, Optimizer, 3, 1, "  clip_norm = 0.01\n")),
              1u);
  }
}

TEST(Fusion, BroadcastsTransposesAndAxes) {
  EXPECT_GT(checkModel(model(R"(
  dim B = 3
  input x : f32[B, 3]
  target t : f32[B, 3]
  param W : f32[3, 3] = uniform(-1, 1)
  param r : f32[B, 1] = uniform(-1, 1)
  a = exp(transpose(x) * W - r)
  z = softplus(a + transpose(a)) - mean(a, axis = 0)
  loss l = mse(z, t) + sum(log_softmax(z * r, axis = 0) * t)
  output z
)",
                             "sgd(lr = 0.05)", 3, 3)),
            1u);
}

TEST(Fusion, ConvPoolEpilogues) {
  EXPECT_GT(checkModel(model(R"(
  dim B = 2
  input x : f32[B, 1, 6, 6]
  target t : i32[B]
  param K : f32[2, 1, 3, 3] = uniform(-1, 1)
  param kb : f32[2, 1, 1] = uniform(-1, 1)
  param W : f32[2, 3] = uniform(-1, 1)
  c = elu(conv2d(x, K, padding = 1) + kb)
  p = maxpool2d(leaky_relu(c, alpha = 0.2))
  s = flatten(avgpool2d(p)) @ W
  loss ce = cross_entropy(s, t)
  output s
)",
                             "adam(lr = 0.01)", 36, 1)),
            1u);
}

// Convolution epilogues run image by image inside the convolution's chunks
// (FusedKernel.cpp, runsPerImage): bias + relu, a residual add that reads
// the block's input, tanh after a stride-2 convolution, and the backward
// epilogues after the input gradients (the implicit one at stride 1, col2im
// at stride 2). 16 channels at 12x12 and batch 8 make every forward
// convolution big enough to run its chunks on the thread pool, so the
// epilogues of different images run on different threads.
TEST(Fusion, ConvEpiloguesRunPerImage) {
  EXPECT_GT(checkModel(model(R"(
  dim B = 8
  input x : f32[B, 2304]
  target t : i32[B]
  param K1 : f32[16, 16, 3, 3] = uniform(-0.2, 0.2)
  param b1 : f32[16, 1, 1] = uniform(-1, 1)
  param K2 : f32[16, 16, 3, 3] = uniform(-0.2, 0.2)
  param K3 : f32[8, 16, 3, 3] = uniform(-0.2, 0.2)
  param W : f32[288, 3] = uniform(-1, 1)
  img = reshape(x, [B, 16, 12, 12])
  h = relu(conv2d(img, K1, padding = 1) + b1)
  r = relu(conv2d(h, K2, padding = 1) + img)
  s = tanh(conv2d(r, K3, stride = 2, padding = 1))
  logits = reshape(s, [B, 288]) @ W
  loss ce = cross_entropy(logits, t)
  output logits
)",
                             "sgd(lr = 0.05, momentum = 0.9)", 2304, 1)),
            3u);
}

// concat joins anchors' results (and takes an epilogue, tanh), and its
// adjoint's slices fuse into their readers: g's gradient reduces its slice
// on the fly (a prologue), the gradient of a keepdims sum reads a [B, 1]
// slice broadcast over the row, and slices at three offsets along axis 0
// meet in one loop. Joins along axis 0 and a negative axis, of three and
// four operands.
TEST(Fusion, ConcatAndItsSlices) {
  EXPECT_GT(checkModel(model(R"(
  dim B = 5
  input x : f32[B, 3]
  target t : i32[B]
  param W1 : f32[3, 4] = uniform(-1, 1)
  param b1 : f32[4] = uniform(-1, 1)
  param W2 : f32[3, 2] = uniform(-1, 1)
  param V : f32[10, 3] = uniform(-1, 1)
  param c : f32[3] = zeros
  param g : f32[3] = uniform(-1, 1)
  a = tanh(x @ W1 + b1)
  s = sum(a, axis = 1, keepdims = true)
  h = tanh(concat(a, relu(x @ W2 + 0.5), s, x * 0.5 + g, axis = -1))
  y = h @ V + c
  r = concat(a, a * s, exp(a))
  loss ce = cross_entropy(y, t) + 0.01 * sum(r * r)
  metric acc = mean(argmax(y, axis = 1) == t)
  output h
)",
                             "sgd(lr = 0.1, momentum = 0.9)", 3, 1)),
            3u);
}

// A DenseNet-style join of convolution features along the channels.
TEST(Fusion, ConcatOfConvolutionChannels) {
  EXPECT_GT(checkModel(model(R"(
  dim B = 2
  input x : f32[B, 2, 5, 5]
  target t : i32[B]
  param K1 : f32[3, 2, 3, 3] = uniform(-1, 1)
  param K2 : f32[2, 5, 1, 1] = uniform(-1, 1)
  param W : f32[7, 3] = uniform(-1, 1)
  f1 = concat(x, relu(conv2d(x, K1, padding = 1)), axis = 1)
  f2 = concat(f1, elu(conv2d(f1, K2)), axis = 1)
  s = reshape(avgpool2d(f2, size = 5), [B, 7]) @ W
  loss ce = cross_entropy(s, t)
  output s
)",
                             "adam(lr = 0.01)", 50, 1)),
            1u);
}

// The kernel legality rule for slices: a slice of a value computed in the
// kernel, read through a broadcast, would compute that value again for
// every element the broadcast stretches over; read from a stored buffer it
// is free.
TEST(Fusion, SliceOfAComputedValueIsNotRecomputed) {
  Graph G("g");
  Node *X = G.create(OpKind::Input, TensorType(DType::F32, {4, 6}), {});
  Node *W = G.create(OpKind::Input, TensorType(DType::F32, {4, 5}), {});
  Node *E = G.create(OpKind::Exp, X->Type, {X});
  Attrs A;
  A.Axis = 1;
  A.Offset = 2;
  A.Size = 1;
  Node *S = G.create(OpKind::Slice, TensorType(DType::F32, {4, 1}), {E}, {}, A);
  Node *O = G.create(OpKind::Add, W->Type, {W, S});
  auto OnlyO = [&](const Node *N) { return N == O; };
  KernelPlan Computed = planKernel({E, S, O}, OnlyO);
  EXPECT_NE(Computed.WhyNot.find("it would recompute"), std::string::npos)
      << Computed.WhyNot;
  EXPECT_TRUE(planKernel({S, O}, OnlyO).isLegal());
  // Read at every element once (no broadcast), the computed value is fine.
  A.Size = 5;
  Node *S5 =
      G.create(OpKind::Slice, TensorType(DType::F32, {4, 5}), {E}, {}, A);
  Node *O5 = G.create(OpKind::Add, W->Type, {W, S5});
  EXPECT_TRUE(planKernel({E, S5, O5}, [&](const Node *N) {
                return N == O5;
              }).isLegal());
}

// An epilogue that reads the anchor's result through a slice reads other
// elements than it writes: the output must not reuse the anchor's buffer
// (out[i, j] = y[i, j] + y[i, 0] would overwrite y[i, 0] at j = 0 before
// j = 1 reads it).
TEST(Fusion, SlicingEpilogueKeepsTheAnchorBuffer) {
  Graph G("g");
  auto F32 = [](llvm::ArrayRef<int64_t> D) {
    return TensorType(DType::F32, D);
  };
  Node *X = G.create(OpKind::Input, F32({4, 3}), {});
  Node *W = G.create(OpKind::Input, F32({3, 6}), {});
  X->Name = "x";
  W->Name = "w";
  G.Inputs = {X, W};
  Node *Y = G.create(OpKind::MatMul, F32({4, 6}), {X, W});
  Attrs A;
  A.Axis = 1;
  A.Size = 1;
  Node *S = G.create(OpKind::Slice, F32({4, 1}), {Y}, {}, A);
  Node *O = G.create(OpKind::Add, F32({4, 6}), {Y, S});
  G.Outputs.push_back({"out", O, {}});
  for (Node *N : {Y, S, O})
    N->Kernel = 0;
  ASSERT_EQ(verifyGraph(G), "");
  EvalValues Leaves;
  for (Node *In : G.Inputs) {
    EvalTensor T = EvalTensor::zeros(In->Type);
    for (size_t I = 0; I < T.Data.size(); ++I)
      T.Data[I] = double(I % 7) - 3;
    Leaves[In] = T;
  }
  EvalTensor Want = evaluate(G, Leaves)[O];
  auto Ctx = std::make_unique<llvm::LLVMContext>();
  auto Mod = lowerGraph(G, nullptr, *Ctx);
  ASSERT_TRUE(bool(Mod)) << llvm::toString(Mod.takeError());
  auto J = ModelJIT::create(std::move(*Mod), std::move(Ctx), TargetOptions(),
                            rt::callbackSymbols());
  ASSERT_TRUE(bool(J)) << llvm::toString(J.takeError());
  Slots Sl(*(*J)->model());
  for (Node *In : G.Inputs)
    Sl.set(In->Name, Leaves[In]);
  (*J)->model()->predict(Sl.ptrs());
  expectClose(Sl.get("out"), Want, "out");
}

TEST(Fusion, ExamplesTrainingSteps) {
  for (const char *E :
       {"xor.nn", "mlp.nn", "logistic.nn", "svm.nn", "gates.nn"}) {
    SCOPED_TRACE(E);
    EXPECT_GT(checkModel("", E), 0u);
  }
}

/// Kinds of the nodes of `Source`'s training step after graph -O2.
std::multiset<OpKind> kindsAfterO2(llvm::StringRef Source,
                                   llvm::StringRef Example = "") {
  std::multiset<OpKind> Kinds;
  std::unique_ptr<Loaded> L = load(Source, Example);
  if (!L)
    return Kinds;
  PassOptions PO;
  PO.OptLevel = 2;
  PO.VerifyEach = true;
  EXPECT_TRUE(optimizeGraph(*L->G, PO, L->Diags));
  for (const auto &N : L->G->nodes())
    Kinds.insert(N->Kind);
  return Kinds;
}

// softmax + cross-entropy: the gradient becomes (softmax - one_hot) / B over
// the forward log_softmax. Labels from -2 to 6 with 5 classes: a third of
// the rows have no class, and their gradient rows must stay zero (one_hot's
// reference semantics), so the loss and every gradient must still match
// the unoptimized graph.
const char *SoftmaxCEModel = R"(
  dim B = 9
  input x : f32[B, 4]
  target t : i32[B]
  param W : f32[4, 5] = uniform(-2, 2)
  param b : f32[5] = uniform(-1, 1)
  s = 3 * tanh(x @ W + b)
  loss ce = cross_entropy(s, t)
  metric acc = mean(argmax(s, axis = 1) == t)
  output p = softmax(s)
)";

TEST(Fusion, SoftmaxCrossEntropyRewriteFires) {
  std::multiset<OpKind> Kinds =
      kindsAfterO2(model(SoftmaxCEModel, "sgd(lr = 0.1)", 4, 1));
  // one_hot became an elementwise eq; the backward softmax and its row
  // sums are gone (the one softmax left is the output p).
  EXPECT_EQ(Kinds.count(OpKind::OneHot), 0u);
  EXPECT_EQ(Kinds.count(OpKind::Softmax), 1u);
  EXPECT_EQ(Kinds.count(OpKind::LogSoftmax), 1u);
  for (const char *E : {"mlp.nn", "logistic.nn"}) {
    SCOPED_TRACE(E);
    std::multiset<OpKind> K = kindsAfterO2("", E);
    EXPECT_EQ(K.count(OpKind::OneHot), 0u);
    EXPECT_EQ(K.count(OpKind::Softmax), 1u);
  }
}

TEST(Fusion, SoftmaxCrossEntropyMatchesReference) {
  for (LabelRange Labels : {LabelRange{0, 4}, LabelRange{-2, 6}}) {
    SCOPED_TRACE("labels " + std::to_string(Labels.Lo) + ".." +
                 std::to_string(Labels.Hi));
    EXPECT_GT(
        checkModel(model(SoftmaxCEModel, "sgd(lr = 0.1, momentum = 0.5)", 4, 1),
                   "", Labels),
        1u);
  }
}

// f32 targets: the adjoint's rows need not sum to 1, so the rewrite must
// not fire (the backward softmax stays) and values still match.
TEST(Fusion, SoftmaxCrossEntropyF32TargetsKept) {
  std::string Source = model(R"(
  dim B = 4
  input x : f32[B, 3]
  target t : f32[B, 3]
  param W : f32[3, 3] = uniform(-1, 1)
  loss ce = cross_entropy(x @ W, t)
)",
                             "sgd(lr = 0.1)", 3, 3);
  EXPECT_EQ(kindsAfterO2(Source).count(OpKind::Softmax), 1u);
  checkModel(Source);
}

// The verifier and the lowering check a kernel partition by the one rule
// (planKernel) the fusion pass follows; the lowering never falls back.
TEST(Fusion, VerifierAndLoweringCheckKernelPartition) {
  auto Optimized = [] {
    std::unique_ptr<Loaded> L =
        load(model(SoftmaxCEModel, "sgd(lr = 0.1)", 4, 1), "");
    PassOptions PO;
    PO.OptLevel = 2;
    EXPECT_TRUE(optimizeGraph(*L->G, PO, L->Diags));
    EXPECT_EQ(verifyGraph(*L->G), "");
    return L;
  };
  auto Find = [](Graph &G, OpKind K) -> Node * {
    for (const auto &N : G.nodes())
      if (N->Kind == K)
        return N.get();
    return nullptr;
  };
  {
    // Two anchors in one kernel: the product's whole kernel joins the
    // log_softmax's (so no cycle hides the reason).
    auto L = Optimized();
    Node *MM = Find(*L->G, OpKind::MatMul),
         *LS = Find(*L->G, OpKind::LogSoftmax);
    ASSERT_TRUE(MM && LS);
    int From = MM->Kernel;
    ASSERT_GE(From, 0);
    for (const auto &N : L->G->nodes())
      if (N->Kernel == From)
        N->Kernel = LS->Kernel;
    EXPECT_NE(verifyGraph(*L->G).find("is illegal: 'matmul' and "
                                      "'log_softmax' would share a kernel"),
              std::string::npos)
        << verifyGraph(*L->G);
    // The code generator refuses it too, rather than lowering node by node.
    llvm::LLVMContext Ctx;
    auto Mod = lowerGraph(*L->G, nullptr, Ctx);
    ASSERT_FALSE(Mod);
    std::string Msg = llvm::toString(Mod.takeError());
    EXPECT_NE(Msg.find("cannot be lowered as one loop nest: 'matmul' and "
                       "'log_softmax' would share a kernel"),
              std::string::npos)
        << Msg;
  }
  {
    // A leaf in a kernel.
    auto L = Optimized();
    L->G->Params[0]->Kernel = 0;
    EXPECT_NE(verifyGraph(*L->G).find("a leaf is in kernel"),
              std::string::npos);
  }
  {
    // A matmul reads whole operand buffers: the elementwise producer of
    // one of its operands may not share its kernel.
    auto L = Optimized();
    Node *MM = nullptr, *Op = nullptr;
    for (const auto &N : L->G->nodes())
      if (N->Kind == OpKind::MatMul)
        for (Node *X : N->Operands)
          if (X->Kernel >= 0 && X->Kernel != N->Kernel &&
              X->Kind != OpKind::Transpose) {
            MM = N.get();
            Op = X;
          }
    ASSERT_TRUE(MM && Op);
    Op->Kernel = MM->Kernel;
    EXPECT_NE(verifyGraph(*L->G).find("reads its operands as whole buffers, "
                                      "so " +
                                      describeNode(*Op) +
                                      " must be stored first"),
              std::string::npos)
        << verifyGraph(*L->G);
  }
  {
    // Cyclic kernels: the loss scale joins the log_softmax kernel, whose
    // product the loss reduction (another kernel) reads.
    auto L = Optimized();
    Node *LS = Find(*L->G, OpKind::LogSoftmax);
    ASSERT_TRUE(LS && L->G->Loss);
    L->G->Loss->Kernel = LS->Kernel;
    EXPECT_NE(verifyGraph(*L->G).find("cyclic"), std::string::npos)
        << verifyGraph(*L->G);
  }
}

TEST(Fusion, LenetTrainingStep) { EXPECT_GT(checkModel("", "lenet.nn"), 5u); }

} // namespace
