//===- KernelPartition.cpp - What may be computed in one kernel -----------===//
//
// Algorithm of planKernel (the rules are stated in KernelPartition.h):
//   1. Find the anchor; an operand of a product or convolution inside the
//      set, a second non-elementwise member, or a member that belongs to no
//      kernel makes the set illegal.
//   2. Without an anchor, the nest is the largest member needed outside;
//      every member needed outside must have its shape, and every smaller
//      member must be free to recompute.
//   3. With one, collect the prologue (members reachable from the anchor's
//      operands through members): it needs a row-wise anchor, stays
//      inside, and recomputes only what is free.
//   4. Every other member is the epilogue over the anchor's result shape,
//      under the rules of step 2.
//
//===----------------------------------------------------------------------===//
#include "nnc/Graph/KernelPartition.h"

#include "nnc/Graph/Printer.h"

using namespace nnc;

FuseRole nnc::fuseRole(OpKind K) {
  if (isLeafOp(K) || aliasesOperand(K))
    return FuseRole::None;
  if (isElementwise(K) || isIndexRemap(K))
    return FuseRole::Elementwise;
  return readsRowWise(K) ? FuseRole::Reduction : FuseRole::Compute;
}

namespace {

std::string shapeText(const Node &N) {
  std::string S = "[";
  for (size_t I = 0; I < N.dims().size(); ++I)
    S += (I ? ", " : "") + std::to_string(N.dims()[I]);
  return S + "]";
}

std::string quoted(const Node &N) {
  return "'" + opSpelling(N.Kind).str() + "'";
}

/// A value smaller than the loop nest is recomputed for every element that
/// reads it; that is free only for scalars and pure index remaps. A remap
/// of a larger value (a slice) recomputes what it reads as often, which is
/// free only if that is read from a buffer (not one of `Computed`) or is
/// free itself.
bool recomputable(const Node &N,
                  const llvm::SmallPtrSetImpl<const Node *> &Computed) {
  if (N.Type.numElements() <= 1)
    return true;
  if (!isIndexRemap(N.Kind))
    return false;
  return llvm::all_of(N.Operands, [&](const Node *Op) {
    return !Computed.count(Op) ||
           Op->Type.numElements() <= N.Type.numElements() ||
           recomputable(*Op, Computed);
  });
}

/// Step 2 and 4: the members outside the prologue as one loop nest over
/// `Nest`'s shape; empty if legal.
std::string checkNest(llvm::ArrayRef<const Node *> Members, const KernelPlan &P,
                      llvm::function_ref<bool(const Node *)> IsExternal) {
  const Node &Nest = *P.Nest;
  llvm::SmallPtrSet<const Node *, 16> Computed;
  for (const Node *N : Members)
    if (N != P.Anchor && !P.Prologue.count(N))
      Computed.insert(N);
  for (const Node *N : Members) {
    if (N == P.Anchor || P.Prologue.count(N))
      continue;
    if (P.Anchor && N->Type.numElements() > Nest.Type.numElements())
      return describeNode(*N) + " " + shapeText(*N) +
             " is larger than the result of " + quoted(Nest) + " " +
             shapeText(Nest);
    if (IsExternal(N) && N->dims() != Nest.dims())
      return describeNode(*N) + " " + shapeText(*N) +
             " is needed outside the kernel but the loop nest runs over " +
             shapeText(Nest);
    if (N->Type.numElements() < Nest.Type.numElements() &&
        !recomputable(*N, Computed))
      return "it would recompute " + describeNode(*N) + " " + shapeText(*N) +
             " for every element of " + shapeText(Nest);
  }
  return "";
}

} // namespace

KernelPlan nnc::planKernel(llvm::ArrayRef<const Node *> Members,
                           llvm::function_ref<bool(const Node *)> IsExternal) {
  KernelPlan P;
  llvm::SmallPtrSet<const Node *, 16> In(Members.begin(), Members.end());
  // 1. The anchor. A product or convolution reads whole operand buffers
  // (through its own blocking), so whatever feeds it is stored first; said
  // first because it is the reason even when the producer is an anchor too.
  for (const Node *N : Members)
    if (fuseRole(N->Kind) == FuseRole::Compute)
      for (const Node *Op : N->Operands)
        if (In.count(Op)) {
          P.WhyNot = quoted(*N) + " reads its operands as whole buffers, so " +
                     describeNode(*Op) + " must be stored first";
          return P;
        }
  for (const Node *N : Members) {
    FuseRole R = fuseRole(N->Kind);
    if (R == FuseRole::None) {
      P.WhyNot = quoted(*N) + " " + describeNode(*N) +
                 " is never computed "
                 "in a kernel";
      return P;
    }
    if (R == FuseRole::Elementwise)
      continue;
    if (P.Anchor) {
      P.WhyNot = quoted(*P.Anchor) + " and " + quoted(*N) +
                 " would share a kernel, but each needs a loop nest of its own";
      return P;
    }
    P.Anchor = N;
  }

  // 2. No anchor: the nest runs over the largest value leaving the kernel.
  if (!P.Anchor) {
    for (const Node *N : Members)
      if (IsExternal(N) &&
          (!P.Nest || N->Type.numElements() > P.Nest->Type.numElements()))
        P.Nest = N;
    if (P.Nest)
      P.WhyNot = checkNest(Members, P, IsExternal);
    return P;
  }

  // 3. The prologue: members the anchor reads through.
  std::vector<const Node *> Work(P.Anchor->Operands.begin(),
                                 P.Anchor->Operands.end());
  while (!Work.empty()) {
    const Node *N = Work.back();
    Work.pop_back();
    if (!In.count(N) || !P.Prologue.insert(N).second)
      continue;
    Work.insert(Work.end(), N->Operands.begin(), N->Operands.end());
  }
  bool TakesPrologue = fuseRole(P.Anchor->Kind) == FuseRole::Reduction &&
                       P.Anchor->Operands.size() == 1;
  for (const Node *N : Members) {
    if (!P.Prologue.count(N))
      continue;
    if (!TakesPrologue)
      P.WhyNot = quoted(*P.Anchor) +
                 " reads its operands as whole buffers, so " +
                 describeNode(*N) + " must be stored first";
    else if (IsExternal(N))
      P.WhyNot = describeNode(*N) +
                 " is also needed outside the kernel, but a reduction's "
                 "operand is computed on the fly and never stored";
    else if (N->Type.numElements() < P.Anchor->operand(0)->Type.numElements() &&
             !recomputable(*N, P.Prologue))
      P.WhyNot = "it would recompute " + describeNode(*N) + " " +
                 shapeText(*N) + " for every element " + quoted(*P.Anchor) +
                 " reads";
    if (!P.WhyNot.empty())
      return P;
  }

  // 4. The epilogue, over the anchor's result.
  P.Nest = P.Anchor;
  P.WhyNot = checkNest(Members, P, IsExternal);
  return P;
}
