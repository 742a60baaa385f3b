//===- Fusion.cpp - Partitioning the graph into kernels (loop nests) ------===//
//
// Decides which nodes the code generator computes together in one kernel —
// one generated function with one loop nest, in which values used only
// inside the kernel stay in registers and are never written to memory. The
// decision is recorded in the graph (`Node::Kernel`), so `--emit=opt` shows
// it and the lowering follows it; the graph itself is not rewritten.
//
// A kernel holds at most one *anchor* (an op with its own loop structure)
// and any number of elementwise ops (unary, binary, comparisons, broadcast,
// transpose):
//
//   * no anchor: a chain (or DAG) of elementwise ops is one loop nest over
//     the shape of its results — `sigmoid(x @ W + b)`'s `add` and `sigmoid`,
//     or an optimizer update `v' = 0.9 v + g; p' = p - lr v'`;
//   * a reduction anchor (reduce_sum/max, argmax, argmax_mask, softmax,
//     log_softmax) reads its operand through its elementwise producers
//     (the *prologue*, computed on the fly, never stored), e.g.
//     `sum((y - t)^2)`;
//   * any anchor (also matmul, conv2d and their gradients, pools, one_hot)
//     takes an *epilogue*: elementwise ops over its result shape, run in the
//     same function right after the anchor while its output is hot in cache
//     — `relu(x @ W + b)`, the backward `dY @ W^T * step(h)`, or a weight
//     gradient followed by its parameter's whole optimizer update.
//
// Algorithm:
//   0. Rewrite the softmax + cross-entropy gradient into the direct
//      `softmax - one_hot` form over the forward log_softmax (SoftmaxCE.cpp),
//      so that loss product and gradient can share that kernel.
//   1. Every computing node starts as a kernel of its own; leaves and
//      reshapes (which alias their operand's buffer) belong to none.
//   2. Walk the nodes in topological order; for each operand of a node, try
//      to merge the operand's kernel into the node's kernel. The merged
//      kernel must be legal — `planKernel` (Graph/KernelPartition.h), the
//      rule the verifier and the code generator apply too — and the kernels
//      must stay acyclic: no path may leave the merged kernel and come back
//      into it (`wouldCycle`), or no order could run them.
//   3. Number the kernels by their first node; remark on every kernel of
//      several nodes and on every refused merge, with the reason.
//
//===----------------------------------------------------------------------===//
#include "RewriteUtil.h"
#include "SoftmaxCE.h"

#include "nnc/Graph/KernelPartition.h"
#include "nnc/Transforms/Passes.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/SmallPtrSet.h>

#include <string>
#include <vector>

using namespace nnc;
using namespace nnc::transforms;

namespace {

class FusionPass : public Pass {
public:
  FusionPass() : Pass("fuse") {}
  bool run(Graph &G) override;

private:
  using Members = std::vector<const Node *>;

  bool joinsKernels(const Node *N) const;
  bool wouldCycle(unsigned A, unsigned B) const;
  void tryMerge(Node *P, Node *N);

  llvm::DenseMap<const Node *, unsigned> Pos;
  llvm::DenseMap<const Node *, std::vector<Node *>> Users;
  llvm::DenseSet<const Node *> InterfaceUse;
  /// Kernel index of each fusable node; `Kernels[I]` its members (empty
  /// once merged away).
  llvm::DenseMap<const Node *, unsigned> KernelOf;
  std::vector<Members> Kernels;
};

} // namespace

/// Step 1: which nodes are computed in kernels at all.
bool FusionPass::joinsKernels(const Node *N) const {
  // A transpose a matmul reads is folded into the product's strides by the
  // code generator, so it must stay a value of its own.
  if (N->Kind == OpKind::Transpose)
    for (const Node *U : Users.lookup(N))
      if (U->Kind == OpKind::MatMul)
        return false;
  return fuseRole(N->Kind) != FuseRole::None;
}

/// True if merging kernels A and B would make the kernels cyclic: some
/// value leaves A or B and, through other nodes (and the kernels those
/// belong to, which run as a whole), comes back into A or B.
bool FusionPass::wouldCycle(unsigned A, unsigned B) const {
  auto InAB = [&](const Node *N) {
    auto It = KernelOf.find(N);
    return It != KernelOf.end() && (It->second == A || It->second == B);
  };
  std::vector<const Node *> Work;
  llvm::DenseSet<const Node *> Seen;
  llvm::DenseSet<unsigned> SeenKernels;
  auto PushUsers = [&](const Node *N) {
    for (const Node *U : Users.lookup(N))
      Work.push_back(U);
  };
  for (unsigned K : {A, B})
    for (const Node *N : Kernels[K])
      for (const Node *U : Users.lookup(N))
        if (!InAB(U))
          Work.push_back(U);
  while (!Work.empty()) {
    const Node *N = Work.back();
    Work.pop_back();
    if (InAB(N))
      return true;
    if (!Seen.insert(N).second)
      continue;
    PushUsers(N);
    // A node of another kernel: the whole kernel runs at once, so every
    // member's users come after it.
    auto It = KernelOf.find(N);
    if (It != KernelOf.end() && SeenKernels.insert(It->second).second)
      for (const Node *Other : Kernels[It->second])
        Work.push_back(Other);
  }
  return false;
}

void FusionPass::tryMerge(Node *P, Node *N) {
  unsigned KP = KernelOf.lookup(P), KN = KernelOf.lookup(N);
  if (KP == KN)
    return;
  Members Merged = Kernels[KN];
  Merged.insert(Merged.end(), Kernels[KP].begin(), Kernels[KP].end());
  llvm::SmallPtrSet<const Node *, 16> In(Merged.begin(), Merged.end());
  std::string Why = planKernel(Merged, [&](const Node *X) {
                      if (InterfaceUse.count(X))
                        return true;
                      return llvm::any_of(Users.lookup(X), [&](const Node *U) {
                        return !In.count(U);
                      });
                    }).WhyNot;
  if (Why.empty() && wouldCycle(KP, KN))
    Why = "another kernel both reads " + describeNode(*P) +
          "'s kernel and feeds this one";
  if (!Why.empty()) {
    if (remarkOnce(*N, "did not fuse " + describeNode(*P) + " into " +
                           describeNode(*N) + ": " + Why))
      count("fusions refused");
    return;
  }
  for (const Node *M : Kernels[KP])
    KernelOf[M] = KN;
  Kernels[KN] = std::move(Merged);
  Kernels[KP].clear();
}

bool FusionPass::run(Graph &G) {
  // 0. The softmax + cross-entropy rewrite (it changes the graph, so it
  // runs before the partition is computed).
  unsigned Rewritten = rewriteSoftmaxCrossEntropy(
      G, [&](const Node &At, const std::string &Msg, bool Refused) {
        if (!Refused) {
          remark(At, "rewrote the " + Msg);
          return;
        }
        if (remarkOnce(At, Msg))
          count("softmax + cross-entropy rewrites refused");
      });
  count("softmax + cross-entropy gradients rewritten", Rewritten);
  Pos.clear();
  Users.clear();
  KernelOf.clear();
  Kernels.clear();
  std::vector<Node *> Order = nodeOrder(G);
  for (Node *N : Order) {
    Pos[N] = Pos.size();
    for (Node *Op : N->Operands)
      Users[Op].push_back(N);
  }
  InterfaceUse = G.resultValues();

  // 1. One kernel per computing node.
  size_t Before = 0;
  for (Node *N : Order) {
    if (!joinsKernels(N))
      continue;
    KernelOf[N] = Kernels.size();
    Kernels.push_back({N});
    ++Before;
  }
  // 2. Merge producers into consumers.
  for (Node *N : Order) {
    if (!KernelOf.count(N))
      continue;
    llvm::SmallPtrSet<Node *, 2> Tried;
    for (Node *P : N->Operands)
      if (KernelOf.count(P) && Tried.insert(P).second)
        tryMerge(P, N);
  }

  // 3. Number by first member and record.
  bool Changed = false;
  int Next = 0;
  llvm::DenseMap<unsigned, int> Id;
  for (Node *N : Order) {
    int K = -1;
    auto It = KernelOf.find(N);
    if (It != KernelOf.end()) {
      auto [IdIt, New] = Id.try_emplace(It->second, Next);
      Next += New;
      K = IdIt->second;
    }
    Changed |= N->Kernel != K;
    N->Kernel = K;
  }
  for (const Members &M : Kernels) {
    if (M.size() < 2)
      continue;
    Members Sorted = M;
    llvm::sort(Sorted,
               [&](const Node *A, const Node *B) { return Pos[A] < Pos[B]; });
    count("nodes fused into shared kernels", Sorted.size());
    if (!remarksEnabled())
      continue;
    std::string List;
    for (const Node *N : Sorted)
      List += (List.empty() ? "" : ", ") + describeNode(*N);
    remark(*Sorted.back(), "kernel " + std::to_string(Sorted.back()->Kernel) +
                               " fuses " + std::to_string(Sorted.size()) +
                               " ops: " + List);
  }
  count("kernels (loop nests) before fusion", Before);
  count("kernels (loop nests) after fusion", Next);
  return Changed || Rewritten;
}

std::unique_ptr<Pass> nnc::createFusionPass() {
  return std::make_unique<FusionPass>();
}
