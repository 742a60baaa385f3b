//===- Modes.cpp - Specializing batchnorm and dropout to a mode -----------===//
//
// Each mode-dependent node is replaced by primitives appended to the graph
// (Role = Forward, the node's source location), its uses rewired, and the
// node itself erased; a final topoSort puts the new nodes before their
// users. The formulas are PyTorch's BatchNorm1d/2d and Dropout:
//
//   batchnorm, train (M = elements per channel = numel / C):
//     mean  = sum_c(x) / M                    sum_c: over every axis but 1
//     xc    = x - mean                        (mean as [1, C, 1, ...])
//     var   = sum_c(xc * xc) / M              biased, to normalize
//     y     = xc * (gamma / sqrt(var + eps)) + beta
//     running_mean <- (1 - m) running_mean + m mean
//     running_var  <- (1 - m) running_var  + m var M / (M - 1)   (unbiased)
//   batchnorm, eval:
//     scale = gamma / sqrt(running_var + eps)
//     y     = x * scale + (beta - running_mean * scale)
//   dropout, train: y = x * dropout_mask(dropout_key) {rate = p}
//   dropout, eval:  y = x
//
// Everything is ordinary ops, so the gradient of batchnorm (through the
// batch statistics) comes from the differentiator's rules, and the fusion
// pass decides the kernels; sum_c is a reshape and one or two reduce_sums.
//
//===----------------------------------------------------------------------===//
#include "nnc/Autodiff/Modes.h"

#include "GradBuilder.h"

#include <llvm/ADT/STLExtras.h>

using namespace nnc;

bool nnc::hasModeOps(const Graph &G) {
  return llvm::any_of(G.nodes(), [](const auto &N) {
    return opClass(N->Kind) == OpClass::Mode;
  });
}

namespace {

class Specializer {
public:
  Specializer(Graph &G, RunMode Mode)
      : G(G), Mode(Mode), B(G, NodeRole::Forward) {}

  void run() {
    std::vector<Node *> ModeNodes;
    for (const auto &N : G.nodes())
      if (opClass(N->Kind) == OpClass::Mode)
        ModeNodes.push_back(N.get());
    if (ModeNodes.empty())
      return;
    int64_t Stream = 0;
    for (Node *N : ModeNodes) {
      B.setLoc(N->Loc);
      Node *Y =
          N->Kind == OpKind::BatchNorm ? batchNorm(N) : dropout(N, Stream++);
      // The binding's name moves to the value that replaces the node.
      if (Y->Name.empty() && !Y->isLeaf())
        Y->Name = N->Name;
      G.replaceAllUsesWith(N, Y);
    }
    G.topoSort();
    G.eraseDeadNodes();
  }

private:
  /// `[1, C, 1, ...]`: a [C] vector laid along axis 1 of `X`.
  static Shape channelShape(const Node *X) {
    Shape S(X->Type.rank(), 1);
    S[1] = X->dims()[1];
    return S;
  }

  // One node per statement throughout: the dump's order must not depend on
  // the host compiler's order of evaluating arguments.
  Node *batchNorm(Node *N) {
    Node *X = N->operand(0), *Gamma = N->operand(1), *Beta = N->operand(2);
    Node *RunMean = N->operand(3), *RunVar = N->operand(4);
    double Momentum = N->A.Rate, Eps = N->A.Eps;
    Shape CS = channelShape(X);
    if (Mode == RunMode::Eval) {
      Node *Std = B.unary(OpKind::Sqrt, B.add(RunVar, Eps));
      Node *Scale = B.div(Gamma, Std);
      Node *Scaled = B.mul(X, B.reshape(Scale, CS));
      Node *Shift = B.sub(Beta, B.mul(RunMean, Scale));
      return B.add(Scaled, B.reshape(Shift, CS));
    }
    double M = double(X->Type.numElements() / X->dims()[1]);
    Node *Mean = B.mul(B.channelSum(X), B.scalar(1 / M));
    Node *Centered = B.sub(X, B.reshape(Mean, CS));
    Node *Square = B.mul(Centered, Centered);
    Node *Var = B.mul(B.channelSum(Square), B.scalar(1 / M));
    Node *Std = B.unary(OpKind::Sqrt, B.add(Var, Eps));
    Node *Scale = B.div(Gamma, Std);
    Node *Scaled = B.mul(Centered, B.reshape(Scale, CS));
    Node *Y = B.add(Scaled, B.reshape(Beta, CS));
    // Sema rejects M = 1, where the unbiased variance is undefined.
    double Unbias = M > 1 ? M / (M - 1) : 1;
    Node *NewMean = B.mul(Momentum, Mean);
    Node *KeptMean = B.mul(1 - Momentum, RunMean);
    G.Updates.push_back({RunMean, B.add(KeptMean, NewMean)});
    Node *NewVar = B.mul(Momentum * Unbias, Var);
    Node *KeptVar = B.mul(1 - Momentum, RunVar);
    G.Updates.push_back({RunVar, B.add(KeptVar, NewVar)});
    return Y;
  }

  Node *dropout(Node *N, int64_t Stream) {
    Node *X = N->operand(0);
    if (Mode == RunMode::Eval || N->A.Rate == 0)
      return X;
    Attrs A;
    A.Rate = N->A.Rate;
    A.Stream = Stream;
    Node *Mask = B.make(OpKind::DropoutMask, X->Type, {key()}, A);
    return B.mul(X, Mask);
  }

  /// The per-step `dropout_key` hyper, made on first use.
  Node *key() {
    if (!Key) {
      Key =
          B.leaf(OpKind::Hyper, TensorType::scalar(DType::I32), "dropout_key");
      G.Hypers.push_back(Key);
    }
    return Key;
  }

  Graph &G;
  RunMode Mode;
  GradBuilder B;
  Node *Key = nullptr;
};

} // namespace

void nnc::specializeMode(Graph &G, RunMode Mode) { Specializer(G, Mode).run(); }

void nnc::specializeModes(Module &M) {
  for (const auto &G : M.Models) {
    if (!hasModeOps(*G))
      continue;
    std::unique_ptr<Graph> Eval = G->clone(G->name() + ".eval");
    specializeMode(*Eval, RunMode::Eval);
    M.EvalModels[G->name()] = std::move(Eval);
    specializeMode(*G, RunMode::Train);
  }
}
