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
//      kernel must be valid (`whyInvalid`): at most one anchor; prologue
//      values used only inside the kernel and only for reduction anchors;
//      every value needed outside the kernel has the loop nest's full shape;
//      a smaller value is recomputed per element only if it is a scalar or
//      a free index remap (broadcast, transpose). And the kernels must stay
//      acyclic: no path may leave the merged kernel and come back into it
//      (`wouldCycle`), or no order could run them.
//   3. Number the kernels by their first node; remark on every kernel of
//      several nodes and on every refused merge, with the reason.
//
//===----------------------------------------------------------------------===//
#include "RewriteUtil.h"
#include "SoftmaxCE.h"

#include "nnc/Transforms/Passes.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/SmallPtrSet.h>

#include <string>
#include <vector>

using namespace nnc;
using namespace nnc::transforms;

namespace {

/// How an op takes part in fusion.
enum class FuseClass {
  None,        ///< Never in a kernel (leaves, aliasing reshapes).
  Elementwise, ///< Fuses freely into a loop nest.
  Reduction,   ///< An anchor that may read its operand through a prologue.
  Compute,     ///< An anchor that reads whole operand buffers.
};

/// Read off the op table's classes, so a new elementwise op fuses without
/// a change here.
FuseClass fuseClass(OpKind K) {
  switch (opClass(K)) {
  case OpClass::Leaf:
    return FuseClass::None;
  case OpClass::Unary:
  case OpClass::Binary:
  case OpClass::Compare:
    return FuseClass::Elementwise;
  case OpClass::Shape: // reshape aliases its operand's buffer: no kernel
    return aliasesOperand(K) ? FuseClass::None : FuseClass::Elementwise;
  case OpClass::Reduce:
  case OpClass::Kernel:
    return readsRowWise(K) ? FuseClass::Reduction : FuseClass::Compute;
  }
  return FuseClass::None;
}

std::string shapeText(const Node &N) {
  std::string S = "[";
  for (size_t I = 0; I < N.dims().size(); ++I)
    S += (I ? ", " : "") + std::to_string(N.dims()[I]);
  return S + "]";
}

class FusionPass : public Pass {
public:
  FusionPass() : Pass("fuse") {}
  bool run(Graph &G) override;

private:
  using Members = std::vector<Node *>;

  FuseClass classOf(const Node *N) const;
  bool isExternal(const Node *N, const llvm::SmallPtrSetImpl<Node *> &In) const;
  std::string whyInvalid(const Members &M) const;
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

FuseClass FusionPass::classOf(const Node *N) const {
  // A transpose a matmul reads is folded into the product's strides by the
  // code generator, so it must stay a value of its own.
  if (N->Kind == OpKind::Transpose)
    for (const Node *U : Users.lookup(N))
      if (U->Kind == OpKind::MatMul)
        return FuseClass::None;
  return fuseClass(N->Kind);
}

bool FusionPass::isExternal(const Node *N,
                            const llvm::SmallPtrSetImpl<Node *> &In) const {
  if (InterfaceUse.count(N))
    return true;
  for (Node *U : Users.lookup(N))
    if (!In.count(U))
      return true;
  return false;
}

/// Empty if `M` can be one kernel, else why not (for the remark).
std::string FusionPass::whyInvalid(const Members &M) const {
  llvm::SmallPtrSet<Node *, 16> In(M.begin(), M.end());
  Node *Anchor = nullptr;
  for (Node *N : M) {
    if (classOf(N) == FuseClass::Elementwise)
      continue;
    if (Anchor)
      return "'" + opSpelling(Anchor->Kind).str() + "' and '" +
             opSpelling(N->Kind).str() +
             "' would share a kernel, but each needs a loop nest of its own";
    Anchor = N;
  }
  // A value smaller than the loop nest is recomputed for every element that
  // reads it; that is free only for scalars and pure index remaps.
  auto Recomputable = [](const Node *N) {
    return N->Type.numElements() <= 1 || N->Kind == OpKind::Broadcast ||
           N->Kind == OpKind::Transpose;
  };
  if (!Anchor) {
    // The loop nest runs over the shape of the values leaving the kernel.
    const Node *Nest = nullptr;
    for (Node *N : M)
      if (isExternal(N, In) &&
          (!Nest || N->Type.numElements() > Nest->Type.numElements()))
        Nest = N;
    if (!Nest)
      return "";
    for (Node *N : M) {
      if (isExternal(N, In) && N->dims() != Nest->dims())
        return describeNode(*N) + " " + shapeText(*N) +
               " is needed outside the kernel but the loop nest runs over " +
               shapeText(*Nest);
      if (N->Type.numElements() < Nest->Type.numElements() &&
          !Recomputable(N))
        return "it would recompute " + describeNode(*N) + " " +
               shapeText(*N) + " for every element of " + shapeText(*Nest);
    }
    return "";
  }
  // Prologue: the members the anchor reads through.
  llvm::SmallPtrSet<Node *, 16> Prologue;
  std::vector<Node *> Work(Anchor->Operands.begin(), Anchor->Operands.end());
  while (!Work.empty()) {
    Node *N = Work.back();
    Work.pop_back();
    if (!In.count(N) || !Prologue.insert(N).second)
      continue;
    Work.insert(Work.end(), N->Operands.begin(), N->Operands.end());
  }
  for (Node *N : Prologue) {
    if (classOf(Anchor) != FuseClass::Reduction)
      return "'" + opSpelling(Anchor->Kind).str() +
             "' reads its operands as whole buffers, so " + describeNode(*N) +
             " must be stored first";
    if (isExternal(N, In))
      return describeNode(*N) +
             " is also needed outside the kernel, but a reduction's operand "
             "is computed on the fly and never stored";
    if (N->Type.numElements() <
            Anchor->operand(0)->Type.numElements() &&
        !Recomputable(N))
      return "it would recompute " + describeNode(*N) + " " + shapeText(*N) +
             " for every element '" + opSpelling(Anchor->Kind).str() +
             "' reads";
  }
  // Epilogue: a loop nest over the anchor's result.
  for (Node *N : M) {
    if (N == Anchor || Prologue.count(N))
      continue;
    if (N->Type.numElements() > Anchor->Type.numElements())
      return describeNode(*N) + " " + shapeText(*N) +
             " is larger than the result of '" +
             opSpelling(Anchor->Kind).str() + "' " + shapeText(*Anchor);
    if (isExternal(N, In) && N->dims() != Anchor->dims())
      return describeNode(*N) + " " + shapeText(*N) +
             " is needed outside the kernel but the loop nest runs over " +
             shapeText(*Anchor);
    if (N->Type.numElements() < Anchor->Type.numElements() &&
        !Recomputable(N))
      return "it would recompute " + describeNode(*N) + " " + shapeText(*N) +
             " for every element of " + shapeText(*Anchor);
  }
  return "";
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
  // A product or convolution reads whole operand buffers (through its own
  // blocking), so whatever feeds it is stored first.
  std::string Why =
      classOf(N) == FuseClass::Compute
          ? "'" + opSpelling(N->Kind).str() +
                "' reads its operands as whole buffers, so " +
                describeNode(*P) + " must be stored first"
          : whyInvalid(Merged);
  if (Why.empty() && wouldCycle(KP, KN))
    Why = "another kernel both reads " + describeNode(*P) +
          "'s kernel and feeds this one";
  if (!Why.empty()) {
    if (remarkOnce(*N, "did not fuse " + describeNode(*P) + " into " +
                           describeNode(*N) + ": " + Why))
      count("fusions refused");
    return;
  }
  for (Node *M : Kernels[KP])
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
  InterfaceUse.clear();
  KernelOf.clear();
  Kernels.clear();
  std::vector<Node *> Order = nodeOrder(G);
  for (Node *N : Order) {
    Pos[N] = Pos.size();
    for (Node *Op : N->Operands)
      Users[Op].push_back(N);
  }
  auto Use = [&](const Node *N) {
    if (N)
      InterfaceUse.insert(N);
  };
  Use(G.Loss);
  for (const NamedValue &V : G.Outputs)
    Use(V.Value);
  for (const NamedValue &V : G.Metrics)
    Use(V.Value);
  for (const Node *N : G.Grads)
    Use(N);
  for (const Update &U : G.Updates)
    Use(U.NewValue);

  // 1. One kernel per computing node.
  size_t Before = 0;
  for (Node *N : Order) {
    if (classOf(N) == FuseClass::None)
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
    llvm::sort(Sorted, [&](Node *A, Node *B) { return Pos[A] < Pos[B]; });
    count("nodes fused into shared kernels", Sorted.size());
    if (!remarksEnabled())
      continue;
    std::string List;
    for (Node *N : Sorted)
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
