//===- Autodiff.cpp - Symbolic reverse-mode differentiation ---------------===//
//
// Backpropagation as a graph transform. The backward pass is appended to the
// forward graph as ordinary nodes (Role = Backward), so it can be printed,
// optimized and lowered like the forward pass.
//
// Algorithm:
//  1. Find the gradient carriers: walking forward, a node carries a gradient
//     if it is an f32 param, or an f32 result of a differentiable op with a
//     carrying operand. Integer values, comparisons, step, argmax, one_hot
//     and cast stop the gradient.
//  2. Find the nodes on a path from a param to the loss: walking backward
//     from the loss through carrying operands only.
//  3. Seed d loss = 1 (a const named `d.<loss>`).
//  4. Visit those nodes in reverse topological order. When a node is
//     visited, every user has already contributed to its adjoint, so the
//     adjoint is complete: name it `d.<name>` if the node is named, then
//     apply the op's rule from the gradient table (GradRules.cpp) to get an
//     adjoint contribution for each carrying operand. Contributions to the
//     same operand (fan-out) are summed with `add`. Broadcasting is undone
//     inside the rules (reduce_sum with keepdims over the broadcast axes,
//     then reshape). An op without a rule is reported at its source line.
//  5. The adjoint of each param is its gradient, named `d.<param>`; a param
//     the loss does not depend on gets `broadcast(0)`.
//
// Every backward node keeps the SourceLoc of the forward node it
// differentiates, so a dump shows which `.nn` line each gradient term
// comes from.
//
//===----------------------------------------------------------------------===//
#include "nnc/Autodiff/Autodiff.h"

#include "GradBuilder.h"
#include "GradRules.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/STLExtras.h>

#include <cassert>

using namespace nnc;

llvm::DenseSet<const Node *> nnc::gradientCarriers(const Graph &G) {
  llvm::DenseSet<const Node *> Carriers;
  for (const auto &N : G.nodes()) {
    if (N->dtype() != DType::F32)
      continue;
    if (N->Kind == OpKind::Param) {
      Carriers.insert(N.get());
      continue;
    }
    // An op without a rule still carries: the walk must reach it to
    // report it, rather than silently treat its gradient as zero.
    GradRule::KindT Rule = gradRule(N->Kind).Kind;
    if (Rule != GradRule::Rule && Rule != GradRule::Missing)
      continue;
    if (llvm::any_of(N->Operands,
                     [&](const Node *Op) { return Carriers.count(Op); }))
      Carriers.insert(N.get());
  }
  return Carriers;
}

/// The carriers from which the loss can be reached through carriers.
static llvm::DenseSet<const Node *>
nodesOnGradientPath(const Graph &G,
                    const llvm::DenseSet<const Node *> &Carriers) {
  llvm::DenseSet<const Node *> OnPath;
  if (!G.Loss || !Carriers.count(G.Loss))
    return OnPath;
  OnPath.insert(G.Loss);
  for (const auto &N : llvm::reverse(G.nodes())) {
    if (!OnPath.count(N.get()))
      continue;
    for (const Node *Op : N->Operands)
      if (Carriers.count(Op))
        OnPath.insert(Op);
  }
  return OnPath;
}

bool nnc::gradientPassesThroughSign(const Graph &G, const Node *Param) {
  llvm::DenseSet<const Node *> Carriers = gradientCarriers(G);
  llvm::DenseSet<const Node *> OnPath = nodesOnGradientPath(G, Carriers);
  // Forward from the param along the gradient path: does it meet a sign?
  llvm::DenseSet<const Node *> Reached{Param};
  for (const auto &N : G.nodes()) {
    if (!OnPath.count(N.get()) || Reached.count(N.get()))
      continue;
    if (llvm::any_of(N->Operands,
                     [&](const Node *Op) { return Reached.count(Op); })) {
      if (N->Kind == OpKind::Sign)
        return true;
      Reached.insert(N.get());
    }
  }
  return false;
}

namespace {

/// The state of one backward walk.
class Differentiator {
public:
  Differentiator(Graph &G, DiagEngine &Diags)
      : G(G), Diags(Diags), B(G, NodeRole::Backward) {}

  bool run();

private:
  /// Adds `Contribution` to the adjoint of `X` (fan-out sums).
  void accumulate(Node *X, Node *Contribution);
  /// Gives a complete adjoint its readable name, `d.<name of X>`.
  void nameAdjoint(Node *X);
  /// The final gradient of param `P`, named `d.<P>`.
  Node *gradientOf(Node *P);

  Graph &G;
  DiagEngine &Diags;
  GradBuilder B;
  llvm::DenseMap<const Node *, Node *> Adjoint;
};

} // namespace

void Differentiator::accumulate(Node *X, Node *Contribution) {
  auto [It, Inserted] = Adjoint.try_emplace(X, Contribution);
  if (Inserted)
    return;
  B.setLoc(X->Loc);
  It->second = B.add(It->second, Contribution);
}

void Differentiator::nameAdjoint(Node *X) {
  Node *Adj = Adjoint.lookup(X);
  // A pass-through adjoint (the dy of an add) may already carry its first
  // owner's name; the first name wins, so a reader follows one chain.
  if (X->Name.empty() || !Adj || !Adj->Name.empty())
    return;
  Adj->Name = "d." + X->Name;
}

Node *Differentiator::gradientOf(Node *P) {
  B.setLoc(P->Loc);
  std::string Name = "d." + P->Name;
  Node *Adj = Adjoint.lookup(P);
  if (!Adj) {
    // The loss does not depend on P: its gradient is exactly zero.
    Node *Zero = B.scalar(0);
    Adj = B.broadcastTo(Zero, P->dims());
  } else if (!Adj->Name.empty() && Adj->Name != Name) {
    // The adjoint is shared with a named value (`loss = W`, or `y = W + b`
    // passing dy through); keep that name and give the gradient its own
    // node, a no-op reshape the optimizer folds away.
    Adj = B.make(OpKind::Reshape, Adj->Type, {Adj});
  }
  Adj->Name = Name;
  return Adj;
}

bool Differentiator::run() {
  assert(G.Grads.empty() && "graph is already differentiated");
  if (!G.Loss) {
    Diags.error("model '" + G.name() + "' has no loss to differentiate");
    return false;
  }
  if (!G.Loss->Type.isScalar()) {
    Diags.error(G.LossLoc, "the loss must be a scalar, but it is " +
                               formatType(G.Loss->Type));
    return false;
  }
  llvm::DenseSet<const Node *> Carriers = gradientCarriers(G);
  llvm::DenseSet<const Node *> OnPath = nodesOnGradientPath(G, Carriers);

  // The walk appends nodes, so iterate over a snapshot of the forward pass.
  std::vector<Node *> Forward;
  for (const auto &N : G.nodes())
    Forward.push_back(N.get());

  if (!OnPath.empty()) {
    B.setLoc(G.LossLoc.isValid() ? G.LossLoc : G.Loss->Loc);
    Node *Seed = B.scalar(1);
    llvm::StringRef LossName =
        !G.LossName.empty() ? llvm::StringRef(G.LossName) : "loss";
    Seed->Name = ("d." + LossName).str();
    Adjoint[G.Loss] = Seed;
  }

  bool Ok = true;
  for (Node *N : llvm::reverse(Forward)) {
    if (!OnPath.count(N) || N->isLeaf())
      continue;
    Node *DY = Adjoint.lookup(N);
    if (!DY) {
      // Its only users were ops without a rule, already reported.
      assert(!Ok && "a node on the gradient path has no adjoint");
      continue;
    }
    nameAdjoint(N);
    GradRule Rule = gradRule(N->Kind);
    if (Rule.Kind != GradRule::Rule) {
      assert(Rule.Kind == GradRule::Missing &&
             "only differentiable ops carry a gradient");
      Diags.error(N->Loc,
                  "no gradient rule for op '" + opSpelling(N->Kind) + "'");
      Ok = false;
      continue;
    }
    llvm::SmallVector<bool, 2> Wants;
    for (const Node *Op : N->Operands)
      Wants.push_back(OnPath.count(Op) != 0);
    B.setLoc(N->Loc);
    GradContext Ctx{B, *N, DY, Wants};
    Adjoints DX = Rule.Fn(Ctx);
    assert(DX.size() == N->Operands.size() && "rule returned wrong arity");
    for (unsigned I = 0; I < DX.size(); ++I) {
      if (!Wants[I] || !DX[I])
        continue;
      assert(DX[I]->dims() == N->operand(I)->dims() &&
             "adjoint shape differs from its operand's shape");
      accumulate(N->operand(I), DX[I]);
    }
  }
  if (!Ok)
    return false;

  for (Node *P : G.Params)
    G.Grads.push_back(gradientOf(P));
  return true;
}

bool nnc::differentiate(Graph &G, DiagEngine &Diags) {
  return Differentiator(G, Diags).run();
}
