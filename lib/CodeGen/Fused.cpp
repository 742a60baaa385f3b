//===- Fused.cpp - The kernels of an entry point (units) ------------------===//
//
// Follows the kernel partition of the `fuse` pass (Node::Kernel ids) for
// one entry point:
//
//  1. Group the nodes the entry needs by kernel id; every other node is a
//     unit of its own.
//  2. Finish each unit: its anchor and prologue (`planKernel`,
//     Graph/KernelPartition.h, the rule the fuse pass and the verifier
//     apply too), the members read outside it or copied into a result slot
//     (its outputs, the only members with a buffer) and the buffers it
//     reads (its inputs). A unit that cannot be one loop nest is an
//     internal error.
//  3. Order the units topologically, earliest first member first.
//
// `inPlaceCandidates` tells the memory plan (MemoryPlan.h) which inputs an
// output may overwrite element by element. The function of a fused kernel
// is emitted by FusedKernel.cpp.
//
//===----------------------------------------------------------------------===//
#include "Fused.h"

#include "KernelBuilder.h"

#include "nnc/Graph/KernelPartition.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/DenseSet.h>

#include <map>
#include <queue>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

/// Transpose and slice read their operand at another index than the one
/// they produce, so a loop storing over a buffer they read may overwrite an
/// element before they read it. (A broadcast also reads elsewhere, but only
/// a smaller value, which no store of the loop's shape overwrites.)
bool readsElsewhere(const Node *N) {
  return isIndexRemap(N->Kind) && N->Kind != OpKind::Broadcast;
}

/// Fills in the unit's anchor, prologue, outputs, inputs and the anchor's
/// buffer; the reason if its members cannot be one kernel (`planKernel`,
/// the rule the fusion pass and the verifier apply too).
std::string
finishUnit(KernelUnit &U,
           const DenseMap<const Node *, std::vector<const Node *>> &Readers,
           const DenseMap<const Node *, unsigned> &UnitOf, unsigned Self,
           function_ref<bool(const Node *)> IsResult) {
  if (!U.isFused()) {
    // A single node: its own kernel, as without fusion.
    U.Outputs = {U.Members[0]};
    U.Anchor = U.Members[0];
  } else {
    auto IsExternal = [&](const Node *N) {
      return IsResult(N) || llvm::any_of(Readers.lookup(N), [&](const Node *R) {
               auto It = UnitOf.find(R);
               return It == UnitOf.end() || It->second != Self;
             });
    };
    KernelPlan Plan = planKernel(U.Members, IsExternal);
    if (!Plan.isLegal())
      return Plan.WhyNot;
    U.Anchor = Plan.Anchor;
    U.Prologue = std::move(Plan.Prologue);
    for (const Node *N : U.Members)
      if (IsExternal(N))
        U.Outputs.push_back(N);
  }
  DenseSet<const Node *> In(U.Members.begin(), U.Members.end());
  for (const Node *N : U.Members)
    for (unsigned I = 0; I < N->Operands.size(); ++I) {
      const Node *X = N == U.Anchor ? kernelOperand(*N, I) : N->operand(I);
      if (In.count(X) || isImmediate(X) || llvm::is_contained(U.Inputs, X))
        continue;
      U.Inputs.push_back(X);
    }
  U.InPlace.assign(U.Outputs.size(), -1);
  if (!U.isFused())
    return "";

  // Where the anchor's result lives while the epilogue reads it.
  bool MovesElements = llvm::any_of(U.Members, readsElsewhere);
  if (U.Anchor && !llvm::is_contained(U.Outputs, U.Anchor)) {
    // An output that may be computed in place over an input (a param
    // update over its param) keeps that chance: the anchor would clobber
    // the input before the epilogue reads it.
    for (unsigned I = 0; I < U.Outputs.size() && !MovesElements; ++I)
      if (U.Outputs[I]->Type.numElements() == U.Anchor->Type.numElements() &&
          inPlaceCandidates(U, I).empty()) {
        U.AnchorBuffer = int(I);
        break;
      }
    if (U.AnchorBuffer < 0) {
      // A transposing or slicing epilogue may read an element the loop
      // already overwrote, so the anchor gets a buffer of its own.
      U.Outputs.insert(U.Outputs.begin(), U.Anchor);
      U.InPlace.insert(U.InPlace.begin(), -1);
    }
  }
  return "";
}

} // namespace

Expected<std::vector<KernelUnit>>
codegen::buildUnits(ArrayRef<const Node *> Order,
                    function_ref<bool(const Node *)> HasKernel,
                    function_ref<bool(const Node *)> IsResult) {
  std::vector<KernelUnit> Units;
  DenseMap<const Node *, unsigned> UnitOf;
  std::map<int, unsigned> ByKernel;
  DenseMap<const Node *, unsigned> Pos;
  for (const Node *N : Order) {
    Pos[N] = Pos.size();
    if (!HasKernel(N))
      continue;
    unsigned U = Units.size();
    if (N->Kernel >= 0)
      U = ByKernel.try_emplace(N->Kernel, U).first->second;
    if (U == Units.size())
      Units.emplace_back();
    Units[U].Members.push_back(N);
    UnitOf[N] = U;
  }
  DenseMap<const Node *, std::vector<const Node *>> Readers;
  for (const Node *N : Order)
    for (unsigned I = 0; I < N->Operands.size(); ++I)
      Readers[HasKernel(N) ? kernelOperand(*N, I) : N->operand(I)].push_back(N);
  for (unsigned U = 0; U < Units.size(); ++U) {
    std::string Why = finishUnit(Units[U], Readers, UnitOf, U, IsResult);
    if (!Why.empty())
      return createStringError("internal error: kernel %d cannot be lowered "
                               "as one loop nest: %s",
                               Units[U].Members[0]->Kernel, Why.c_str());
  }

  // Dependencies between units (through aliases to the node owning the
  // buffer); run them in topological order, earliest first member first.
  auto Producer = [&](const Node *X) -> int {
    while (!HasKernel(X) && !X->isLeaf() && !X->Operands.empty())
      X = X->operand(0);
    auto It = UnitOf.find(X);
    return It == UnitOf.end() ? -1 : int(It->second);
  };
  std::vector<std::vector<unsigned>> Succ(Units.size());
  std::vector<unsigned> Preds(Units.size(), 0);
  for (unsigned U = 0; U < Units.size(); ++U) {
    DenseSet<int> From;
    for (const Node *X : Units[U].Inputs) {
      int P = Producer(X);
      if (P >= 0 && unsigned(P) != U && From.insert(P).second) {
        Succ[P].push_back(U);
        ++Preds[U];
      }
    }
  }
  using Item = std::pair<unsigned, unsigned>; // (first member position, unit)
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> Ready;
  for (unsigned U = 0; U < Units.size(); ++U)
    if (!Preds[U])
      Ready.push({Pos[Units[U].Members[0]], U});
  std::vector<KernelUnit> Result;
  while (!Ready.empty()) {
    unsigned U = Ready.top().second;
    Ready.pop();
    Result.push_back(std::move(Units[U]));
    for (unsigned S : Succ[U])
      if (!--Preds[S])
        Ready.push({Pos[Units[S].Members[0]], S});
  }
  if (Result.size() != Units.size())
    return createStringError("internal error: the kernels are cyclic: some "
                             "value leaves a kernel and comes back into it");
  return Result;
}

SmallVector<unsigned, 2> codegen::inPlaceCandidates(const KernelUnit &U,
                                                    unsigned OutIdx) {
  SmallVector<unsigned, 2> R;
  const Node *Out = U.Outputs[OutIdx];
  if (!U.isFused() || Out == U.Anchor || int(OutIdx) == U.AnchorBuffer)
    return R;
  if (llvm::any_of(U.Members, readsElsewhere))
    return R;
  for (unsigned I = 0; I < U.Inputs.size(); ++I) {
    const Node *X = U.Inputs[I];
    if (X->dims() != Out->dims())
      continue;
    bool Ok = true;
    for (const Node *N : U.Members)
      for (unsigned J = 0; J < N->Operands.size() && Ok; ++J) {
        bool Reads =
            (N == U.Anchor ? kernelOperand(*N, J) : N->operand(J)) == X;
        if (Reads)
          Ok = N != U.Anchor && !U.Prologue.count(N) && N->dims() == X->dims();
      }
    if (Ok)
      R.push_back(I);
  }
  return R;
}
