//===- ModuleSplit.cpp - Cutting a lowered module for parallel compilation ===//
#include "nnc/CodeGen/ModuleSplit.h"

#include <llvm/ADT/EquivalenceClasses.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Instructions.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <algorithm>

using namespace llvm;
using namespace nnc;

namespace {

/// The globals whose code or initializer uses `V`: the function of an
/// instruction, or a global variable; constant expressions are looked
/// through.
void forEachOwner(const Value *V, function_ref<void(const GlobalValue *)> Fn) {
  for (const User *U : V->users()) {
    if (const auto *I = dyn_cast<Instruction>(U))
      Fn(I->getFunction());
    else if (const auto *G = dyn_cast<GlobalValue>(U))
      Fn(G);
    else if (isa<Constant>(U))
      forEachOwner(U, Fn);
  }
}

/// Entry functions: the ones the program starts in (`main`, external) and
/// the ones the model descriptor points to (`nnc.train_step`, ...).
bool isEntry(const Function &F) {
  if (F.isDeclaration())
    return false;
  if (!F.hasLocalLinkage())
    return true;
  bool FromData = false;
  forEachOwner(
      &F, [&](const GlobalValue *O) { FromData |= isa<GlobalVariable>(O); });
  return FromData;
}

/// True when every use of `F` in `Caller` is a direct call.
bool isCallee(const Function &F, const Function &Caller) {
  for (const User *U : F.users()) {
    const auto *CB = dyn_cast<CallBase>(U);
    if (CB && CB->getFunction() == &Caller && CB->getCalledOperand() != &F)
      return false;
    if (!CB && !isa<Constant>(U))
      return false;
  }
  return true;
}

size_t instructionCount(const GlobalValue &G) {
  const auto *F = dyn_cast<Function>(&G);
  if (!F)
    return 0;
  size_t N = 0;
  for (const BasicBlock &BB : *F)
    N += BB.size();
  return N;
}

} // namespace

SplitPlan nnc::planModuleSplit(const Module &M, unsigned MaxParts) {
  std::vector<const GlobalValue *> Defined;
  for (const GlobalValue &G : M.global_values())
    if (!G.isDeclaration())
      Defined.push_back(&G);

  // A private global goes where its users go, except that a function an
  // entry calls, and a `noinline` function, may go elsewhere (the cut).
  EquivalenceClasses<const GlobalValue *> Groups;
  for (const GlobalValue *G : Defined) {
    Groups.insert(G);
    if (!G->hasLocalLinkage())
      continue;
    const auto *F = dyn_cast<Function>(G);
    bool Cuttable = F && !isEntry(*F);
    bool NeverInlined = Cuttable && F->hasFnAttribute(Attribute::NoInline);
    forEachOwner(G, [&](const GlobalValue *O) {
      const auto *OF = dyn_cast<Function>(O);
      bool Cut =
          OF && (NeverInlined ? isCallee(*F, *OF) : Cuttable && isEntry(*OF));
      if (!Cut)
        Groups.unionSets(G, O);
    });
  }

  // Groups in module order, weighed by instruction count.
  DenseMap<const GlobalValue *, unsigned> GroupIndex;
  std::vector<size_t> Weight;
  for (const GlobalValue *G : Defined) {
    const GlobalValue *Leader = Groups.getLeaderValue(G);
    auto [It, New] = GroupIndex.try_emplace(Leader, Weight.size());
    if (New)
      Weight.push_back(0);
    Weight[It->second] += instructionCount(*G);
  }

  // Largest group first, into the lightest part (ties: the lower index).
  std::vector<unsigned> Order(Weight.size());
  for (unsigned I = 0; I < Order.size(); ++I)
    Order[I] = I;
  std::stable_sort(Order.begin(), Order.end(), [&](unsigned A, unsigned B) {
    return Weight[A] > Weight[B];
  });
  SplitPlan Plan;
  Plan.NumParts = std::max(1u, std::min<unsigned>(MaxParts, Weight.size()));
  std::vector<size_t> Load(Plan.NumParts, 0);
  std::vector<unsigned> PartOfGroup(Weight.size());
  for (unsigned Group : Order) {
    unsigned Lightest =
        std::min_element(Load.begin(), Load.end()) - Load.begin();
    PartOfGroup[Group] = Lightest;
    Load[Lightest] += Weight[Group];
  }
  for (const GlobalValue *G : Defined)
    Plan.PartOf[G] = PartOfGroup[GroupIndex[Groups.getLeaderValue(G)]];
  return Plan;
}

std::vector<std::unique_ptr<Module>> nnc::splitModule(Module &M,
                                                      const SplitPlan &Plan) {
  // A function used from another part must be a linkable symbol; hidden, so
  // that the program does not export it.
  for (Function &F : M) {
    if (F.isDeclaration() || !F.hasLocalLinkage())
      continue;
    unsigned Part = Plan.PartOf.lookup(&F);
    bool UsedElsewhere = false;
    forEachOwner(&F, [&](const GlobalValue *O) {
      UsedElsewhere |= Plan.PartOf.lookup(O) != Part;
    });
    if (UsedElsewhere) {
      F.setLinkage(GlobalValue::ExternalLinkage);
      F.setVisibility(GlobalValue::HiddenVisibility);
    }
  }
  std::vector<std::unique_ptr<Module>> Parts;
  for (unsigned I = 0; I < Plan.NumParts; ++I) {
    ValueToValueMapTy VMap;
    Parts.push_back(CloneModule(M, VMap, [&](const GlobalValue *G) {
      return Plan.PartOf.lookup(G) == I;
    }));
  }
  return Parts;
}
