//===- Optimizer.cpp - The optimizer step as graph nodes ------------------===//
//
// Builds PyTorch's update rules out of elementwise graph ops, with the
// learning rate as a runtime-set Hyper leaf and the optimizer's memory
// (velocities, moments, step count) as State leaves whose next values are
// graph Updates.
//
//   sgd:  g = dW + wd W
//         momentum: v <- mu v + g;  W <- W - lr v
//         else:                     W <- W - lr g
//   adam: t <- t + 1
//         m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
//         W <- W - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//
// PyTorch's first momentum step sets v = g; with v zero-initialized,
// mu*0 + g is the same value, so no special first step is needed.
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

/// sgd(lr, momentum, weight_decay) for one param.
void sgdStep(Graph &G, GradBuilder &B, const OptimizerSpec &Opt, Node *LR,
             Node *W, Node *Grad) {
  Node *Step = Grad;
  if (Opt.WeightDecay != 0)
    Step = B.add(Step, B.mul(Opt.WeightDecay, W));
  if (Opt.Momentum != 0) {
    Node *V = addState(G, B, W->Type, "v." + W->Name);
    Node *NewV = B.add(B.mul(Opt.Momentum, V), Step);
    G.Updates.push_back({V, NewV});
    Step = NewV;
  }
  G.Updates.push_back({W, B.sub(W, B.mul(LR, Step))});
}

/// adam(lr, beta1, beta2, eps) for one param, given the bias corrections
/// 1 - b1^t and 1 - b2^t shared by all params.
void adamStep(Graph &G, GradBuilder &B, const OptimizerSpec &Opt, Node *LR,
              Node *W, Node *Grad, Node *Correction1, Node *Correction2) {
  Node *M = addState(G, B, W->Type, "m." + W->Name);
  Node *V = addState(G, B, W->Type, "v." + W->Name);
  // One node per statement, so the dump's order does not depend on the
  // compiler's order of evaluating arguments.
  Node *DecayedM = B.mul(Opt.Beta1, M);
  Node *NewM = B.add(DecayedM, B.mul(1 - Opt.Beta1, Grad));
  Node *DecayedV = B.mul(Opt.Beta2, V);
  Node *NewV = B.add(DecayedV, B.mul(1 - Opt.Beta2, B.mul(Grad, Grad)));
  Node *MHat = B.div(NewM, Correction1);
  Node *VHat = B.div(NewV, Correction2);
  Node *Denom = B.add(B.unary(OpKind::Sqrt, VHat), Opt.Eps);
  Node *NewW = B.sub(W, B.mul(LR, B.div(MHat, Denom)));
  G.Updates.push_back({M, NewM});
  G.Updates.push_back({V, NewV});
  G.Updates.push_back({W, NewW});
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

  switch (Opt.Kind) {
  case OptimizerSpec::Sgd:
    for (size_t I = 0; I < G.Params.size(); ++I)
      sgdStep(G, B, Opt, LR, G.Params[I], G.Grads[I]);
    return;
  case OptimizerSpec::Adam: {
    // The step count is an f32 scalar: exact up to 2^24 steps, and b^t
    // needs it as a float anyway.
    Node *T = addState(G, B, TensorType::scalar(DType::F32), "adam.t");
    Node *NewT = B.add(T, 1.0);
    G.Updates.push_back({T, NewT});
    Node *Correction1 = B.sub(1, B.pow(B.scalar(Opt.Beta1), NewT));
    Node *Correction2 = B.sub(1, B.pow(B.scalar(Opt.Beta2), NewT));
    for (size_t I = 0; I < G.Params.size(); ++I)
      adamStep(G, B, Opt, LR, G.Params[I], G.Grads[I], Correction1,
               Correction2);
    return;
  }
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
