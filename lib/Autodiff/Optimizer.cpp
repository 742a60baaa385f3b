//===- Optimizer.cpp - The optimizer step as graph nodes ------------------===//
//
// Builds PyTorch's update rules out of elementwise graph ops, with the
// learning rate as a runtime-set Hyper leaf and the optimizer's memory
// (velocities, moments, sums, step count) as State leaves whose next values
// are graph Updates. Every param W with gradient g = dW:
//
//   clip_norm C:  n = sqrt(sum over all params of sum(dW^2))
//                 g = dW min(1, C / (n + 1e-6))     (before weight decay)
//   sgd:      g += wd W
//             momentum: v <- mu v + g;  nesterov: W <- W - lr (g + mu v)
//                                       else:     W <- W - lr v
//             else:     W <- W - lr g
//   adam:     g += wd W;  t <- t + 1
//             m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
//             W <- W - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//   adamw:    W' = W (1 - lr wd), then adam's step on W' with no g += wd W
//   adagrad:  sum <- sum + g^2;  W <- W - lr g / (sqrt(sum) + eps)
//   rmsprop:  sq <- alpha sq + (1 - alpha) g^2;  a = sqrt(sq) + eps
//             momentum: buf <- mom buf + g / a;  W <- W - lr buf
//             else:     W <- W - lr g / a
//
// PyTorch's first momentum step sets v = g; with v zero-initialized,
// mu*0 + g is the same value, so no special first step is needed. Nodes
// are built one per statement, so that the dump's order does not depend on
// the C++ compiler's order of evaluating arguments.
//
//===----------------------------------------------------------------------===//
#include "nnc/Autodiff/Optimizer.h"
#include "nnc/Autodiff/Autodiff.h"
#include "nnc/Autodiff/Modes.h"

#include "GradBuilder.h"

#include <cassert>

using namespace nnc;

namespace {

/// A zero-initialized state tensor shaped like `Like`, named `Name`.
Node *addState(Graph &G, GradBuilder &B, const TensorType &T,
               llvm::StringRef Name) {
  Node *S = B.leaf(OpKind::State, T, Name);
  G.States.push_back(S);
  return S;
}

/// `a * a`.
Node *square(GradBuilder &B, Node *A) { return B.mul(A, A); }

/// The gradients the step uses: `G.Grads` as they are, or with clip_norm
/// each scaled by one factor so that their global L2 norm is at most
/// `ClipNorm` (torch.nn.utils.clip_grad_norm_, which always multiplies,
/// by 1 when the norm is small enough).
std::vector<Node *> stepGrads(Graph &G, GradBuilder &B,
                              const OptimizerSpec &Opt) {
  std::vector<Node *> Grads(G.Grads.begin(), G.Grads.end());
  if (Opt.ClipNorm == 0 || Grads.empty())
    return Grads;
  B.setLoc(Opt.ClipLoc);
  Node *SumSq = nullptr;
  for (Node *Grad : Grads) {
    Node *Sq = square(B, Grad);
    if (Sq->Type.rank() != 0)
      Sq = B.reduceSum(Sq, ALL_AXES, /*KeepDims=*/false);
    SumSq = SumSq ? B.add(SumSq, Sq) : Sq;
  }
  Node *Norm = B.unary(OpKind::Sqrt, SumSq);
  Node *Denom = B.add(Norm, 1e-6);
  Node *Ratio = B.div(B.scalar(Opt.ClipNorm), Denom);
  Node *Coef = B.binary(OpKind::Min, Ratio, B.scalar(1));
  for (Node *&Grad : Grads)
    Grad = B.mul(Grad, Coef);
  B.setLoc(Opt.Loc);
  return Grads;
}

/// `Grad + wd W` (L2 regularization inside the step, as torch.optim's
/// `weight_decay`), or `Grad` when wd is 0.
Node *withWeightDecay(GradBuilder &B, double WeightDecay, Node *W, Node *Grad) {
  if (WeightDecay == 0)
    return Grad;
  Node *Decay = B.mul(WeightDecay, W);
  return B.add(Grad, Decay);
}

/// sgd(lr, momentum, weight_decay, nesterov) for one param.
void sgdStep(Graph &G, GradBuilder &B, const OptimizerSpec &Opt, Node *LR,
             Node *W, Node *Grad) {
  Node *Step = withWeightDecay(B, Opt.WeightDecay, W, Grad);
  if (Opt.Momentum != 0) {
    Node *V = addState(G, B, W->Type, "v." + W->Name);
    Node *DecayedV = B.mul(Opt.Momentum, V);
    Node *NewV = B.add(DecayedV, Step);
    G.Updates.push_back({V, NewV});
    if (Opt.Nesterov) {
      Node *Ahead = B.mul(Opt.Momentum, NewV);
      Step = B.add(Step, Ahead);
    } else {
      Step = NewV;
    }
  }
  G.Updates.push_back({W, B.sub(W, B.mul(LR, Step))});
}

/// What every param's adam/adamw step shares: the bias corrections 1 - b1^t
/// and 1 - b2^t, and adamw's decay factor 1 - lr wd (null for adam).
struct AdamShared {
  Node *Correction1, *Correction2, *Decay;
};

/// adam(lr, beta1, beta2, eps, weight_decay) or adamw(...) for one param.
void adamStep(Graph &G, GradBuilder &B, const OptimizerSpec &Opt, Node *LR,
              Node *W, Node *Grad, const AdamShared &S) {
  Node *M = addState(G, B, W->Type, "m." + W->Name);
  Node *V = addState(G, B, W->Type, "v." + W->Name);
  if (Opt.Kind == OptimizerSpec::Adam)
    Grad = withWeightDecay(B, Opt.WeightDecay, W, Grad);
  Node *DecayedM = B.mul(Opt.Beta1, M);
  Node *NewM = B.add(DecayedM, B.mul(1 - Opt.Beta1, Grad));
  Node *DecayedV = B.mul(Opt.Beta2, V);
  Node *NewV = B.add(DecayedV, B.mul(1 - Opt.Beta2, square(B, Grad)));
  Node *MHat = B.div(NewM, S.Correction1);
  Node *VHat = B.div(NewV, S.Correction2);
  Node *Denom = B.add(B.unary(OpKind::Sqrt, VHat), Opt.Eps);
  Node *Step = B.mul(LR, B.div(MHat, Denom));
  // adamw shrinks W before the step, which reads no W.
  Node *Base = S.Decay ? B.mul(W, S.Decay) : W;
  G.Updates.push_back({M, NewM});
  G.Updates.push_back({V, NewV});
  G.Updates.push_back({W, B.sub(Base, Step)});
}

/// adagrad(lr, eps) for one param (PyTorch's lr_decay = 0 and
/// initial_accumulator_value = 0).
void adagradStep(Graph &G, GradBuilder &B, const OptimizerSpec &Opt, Node *LR,
                 Node *W, Node *Grad) {
  Node *Sum = addState(G, B, W->Type, "sum." + W->Name);
  Node *NewSum = B.add(Sum, square(B, Grad));
  Node *Denom = B.add(B.unary(OpKind::Sqrt, NewSum), Opt.Eps);
  Node *Step = B.mul(LR, B.div(Grad, Denom));
  G.Updates.push_back({Sum, NewSum});
  G.Updates.push_back({W, B.sub(W, Step)});
}

/// rmsprop(lr, alpha, eps, momentum) for one param (PyTorch's
/// centered = False).
void rmspropStep(Graph &G, GradBuilder &B, const OptimizerSpec &Opt, Node *LR,
                 Node *W, Node *Grad) {
  Node *Sq = addState(G, B, W->Type, "sq." + W->Name);
  Node *DecayedSq = B.mul(Opt.Alpha, Sq);
  Node *NewSq = B.add(DecayedSq, B.mul(1 - Opt.Alpha, square(B, Grad)));
  Node *Avg = B.add(B.unary(OpKind::Sqrt, NewSq), Opt.Eps);
  Node *Step = B.div(Grad, Avg);
  G.Updates.push_back({Sq, NewSq});
  if (Opt.Momentum != 0) {
    Node *Buf = addState(G, B, W->Type, "buf." + W->Name);
    Node *DecayedBuf = B.mul(Opt.Momentum, Buf);
    Step = B.add(DecayedBuf, Step);
    G.Updates.push_back({Buf, Step});
  }
  G.Updates.push_back({W, B.sub(W, B.mul(LR, Step))});
}

} // namespace

void nnc::buildOptimizerUpdate(Graph &G, const OptimizerSpec &Opt) {
  assert(G.Grads.size() == G.Params.size() &&
         "build the update after differentiating");
  // Train-mode batchnorm may have added buffer updates and dropout its
  // key hyper; the optimizer's own leaves and updates come after them.
  assert(G.States.empty() && "the update is already built");
  GradBuilder B(G, NodeRole::Update);
  B.setLoc(Opt.Loc);
  Node *LR = B.leaf(OpKind::Hyper, TensorType::scalar(DType::F32), "lr");
  G.Hypers.push_back(LR);
  std::vector<Node *> Grads = stepGrads(G, B, Opt);

  switch (Opt.Kind) {
  case OptimizerSpec::Sgd:
    for (size_t I = 0; I < G.Params.size(); ++I)
      sgdStep(G, B, Opt, LR, G.Params[I], Grads[I]);
    return;
  case OptimizerSpec::Adam:
  case OptimizerSpec::AdamW: {
    // The step count is an f32 scalar: exact up to 2^24 steps, and b^t
    // needs it as a float anyway.
    Node *T = addState(G, B, TensorType::scalar(DType::F32), "adam.t");
    Node *NewT = B.add(T, 1.0);
    G.Updates.push_back({T, NewT});
    AdamShared S{};
    S.Correction1 = B.sub(1, B.pow(B.scalar(Opt.Beta1), NewT));
    S.Correction2 = B.sub(1, B.pow(B.scalar(Opt.Beta2), NewT));
    if (Opt.Kind == OptimizerSpec::AdamW && Opt.WeightDecay != 0)
      S.Decay = B.sub(1, B.mul(Opt.WeightDecay, LR));
    for (size_t I = 0; I < G.Params.size(); ++I)
      adamStep(G, B, Opt, LR, G.Params[I], Grads[I], S);
    return;
  }
  case OptimizerSpec::Adagrad:
    for (size_t I = 0; I < G.Params.size(); ++I)
      adagradStep(G, B, Opt, LR, G.Params[I], Grads[I]);
    return;
  case OptimizerSpec::RmsProp:
    for (size_t I = 0; I < G.Params.size(); ++I)
      rmspropStep(G, B, Opt, LR, G.Params[I], Grads[I]);
    return;
  }
}

bool nnc::buildTrainingSteps(Module &M, DiagEngine &Diags) {
  specializeModes(M);
  bool Ok = true;
  for (const auto &G : M.Models) {
    if (!G->Loss)
      continue;
    if (!differentiate(*G, Diags)) {
      Ok = false;
      continue;
    }
    if (const TrainConfig *Train = M.findTrain(G->name()))
      buildOptimizerUpdate(*G, Train->Optimizer);
  }
  return Ok;
}
