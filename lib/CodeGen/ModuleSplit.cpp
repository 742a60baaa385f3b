//===- ModuleSplit.cpp - Cutting a lowered module for parallel compilation ===//
#include "nnc/CodeGen/ModuleSplit.h"

#include <llvm/ADT/EquivalenceClasses.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Instructions.h>

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

/// True when more than one function or global uses `F`. A `noinline`
/// function with one caller (the task of a serial GEMM, called by its
/// wrapper with constant bounds) stays with it: the optimizer then
/// specializes it for those constants, as in the whole module, and cutting
/// between the two would balance nothing.
bool hasSeveralUsers(const Function &F) {
  const GlobalValue *First = nullptr;
  bool Several = false;
  forEachOwner(&F, [&](const GlobalValue *O) {
    if (!First)
      First = O;
    Several |= O != First;
  });
  return Several;
}

/// Instructions a loop is worth in the cost model below.
constexpr uint64_t LoopWeight = 90;

/// What compiling `G` is expected to cost, in instructions. Measured per
/// group on resnet.nn (the -O2 pipeline and instruction selection of each
/// group alone, Zen 3): about 0.019 ms per instruction, plus 1.7 ms per
/// loop (the loop passes, the vectorizer and the unrolled remainder it
/// leaves behind), plus half again per instruction of an `optnone` entry
/// (a long straight line of calls). Instructions alone put a kernel of 60
/// instructions and three loops (16 ms) below a GEMM task of 900 and 8
/// (37 ms) by a factor of 15, not 2.5.
uint64_t compileWeight(const GlobalValue &G) {
  const auto *F = dyn_cast<Function>(&G);
  if (!F)
    return 0;
  uint64_t N = 0, Loops = 0;
  for (const BasicBlock &BB : *F) {
    N += BB.size();
    const Instruction *T = BB.getTerminator();
    Loops += T && T->getMetadata(LLVMContext::MD_loop);
  }
  if (F->hasOptNone())
    N += N / 2;
  return N + LoopWeight * Loops;
}

} // namespace

SplitPlan nnc::planModuleSplit(const Module &M, unsigned MaxParts) {
  std::vector<const GlobalValue *> Defined;
  for (const GlobalValue &G : M.global_values())
    if (!G.isDeclaration())
      Defined.push_back(&G);

  // A private global goes where its users go, except that a function an
  // entry uses, and a `noinline` function, may go elsewhere (the cut). An
  // entry never takes a function with it, even one whose address it only
  // passes on: the entries' part is compiled at the back end's lowest
  // level (every register spilled), for straight lines of calls.
  EquivalenceClasses<const GlobalValue *> Groups;
  for (const GlobalValue *G : Defined) {
    Groups.insert(G);
    if (!G->hasLocalLinkage())
      continue;
    const auto *F = dyn_cast<Function>(G);
    bool Cuttable = F && !isEntry(*F);
    bool NeverInlined = Cuttable && F->hasFnAttribute(Attribute::NoInline);
    bool Shared = NeverInlined && hasSeveralUsers(*F);
    forEachOwner(G, [&](const GlobalValue *O) {
      const auto *OF = dyn_cast<Function>(O);
      bool Cut =
          OF && (NeverInlined ? isEntry(*OF) || (Shared && isCallee(*F, *OF))
                              : Cuttable && isEntry(*OF));
      if (!Cut)
        Groups.unionSets(G, O);
    });
  }

  // Groups in module order, weighed by their expected compile time.
  DenseMap<const GlobalValue *, unsigned> GroupIndex;
  std::vector<uint64_t> Weight;
  std::vector<bool> Straight; // holds an `optnone` entry
  for (const GlobalValue *G : Defined) {
    const GlobalValue *Leader = Groups.getLeaderValue(G);
    auto [It, New] = GroupIndex.try_emplace(Leader, Weight.size());
    if (New) {
      Weight.push_back(0);
      Straight.push_back(false);
    }
    Weight[It->second] += compileWeight(*G);
    if (const auto *F = dyn_cast<Function>(G); F && F->hasOptNone())
      Straight[It->second] = true;
  }
  // The entries get a part of their own, which the back end compiles at
  // its lowest level, on top of the `MaxParts` the other groups fill: a
  // small part that a thread takes last, where taking one of `MaxParts`
  // equal parts would leave an odd number of big ones (five of ~0.3 s on
  // two threads: one thread did three, 0.1 s more than half).
  unsigned Others = llvm::count(Straight, false);
  bool OwnPart = MaxParts > 1 && Others > 0 && Others < Straight.size();

  // Largest group first, into the lightest part (ties: the lower index).
  std::vector<unsigned> Order(Weight.size());
  for (unsigned I = 0; I < Order.size(); ++I)
    Order[I] = I;
  std::stable_sort(Order.begin(), Order.end(), [&](unsigned A, unsigned B) {
    return Weight[A] > Weight[B];
  });
  SplitPlan Plan;
  Plan.NumParts =
      OwnPart ? 1 + std::min(MaxParts, Others)
              : std::max(1u, std::min<unsigned>(MaxParts, Weight.size()));
  Plan.Weight.assign(Plan.NumParts, 0);
  unsigned Spread = Plan.NumParts;
  if (OwnPart)
    Plan.StraightPart = --Spread;
  std::vector<unsigned> PartOfGroup(Weight.size());
  for (unsigned Group : Order) {
    unsigned To = OwnPart && Straight[Group]
                      ? Plan.StraightPart
                      : std::min_element(Plan.Weight.begin(),
                                         Plan.Weight.begin() + Spread) -
                            Plan.Weight.begin();
    PartOfGroup[Group] = To;
    Plan.Weight[To] += Weight[Group];
  }
  for (const GlobalValue *G : Defined)
    Plan.PartOf[G] = PartOfGroup[GroupIndex[Groups.getLeaderValue(G)]];
  return Plan;
}

void nnc::prepareSplit(Module &M, const SplitPlan &Plan) {
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
}

std::vector<PartOfGlobal> nnc::partOfEachGlobal(const Module &M,
                                                const SplitPlan &Plan) {
  std::vector<PartOfGlobal> Parts;
  for (const GlobalValue &G : M.global_values()) {
    assert((isa<Function>(G) || isa<GlobalVariable>(G)) &&
           "the code generator makes no aliases or ifuncs");
    auto It = Plan.PartOf.find(&G);
    Parts.push_back(
        {G.getName().str(), It == Plan.PartOf.end() ? NoPart : It->second});
  }
  return Parts;
}

Error nnc::keepPart(Module &Copy, ArrayRef<PartOfGlobal> Parts, unsigned Part) {
  size_t I = 0;
  for (GlobalValue &G : Copy.global_values()) {
    if (I == Parts.size() || G.getName() != Parts[I].Name)
      return createStringError("module '%s' is not a copy of the one "
                               "planned: global %zu is '%s'",
                               Copy.getModuleIdentifier().c_str(), I,
                               G.getName().str().c_str());
    unsigned Q = Parts[I++].Part;
    if (Q == NoPart || Q == Part)
      continue;
    // Defined elsewhere: a declaration here (what CloneModule leaves of a
    // global it does not copy).
    if (auto *F = dyn_cast<Function>(&G)) {
      F->deleteBody();
    } else {
      auto *V = cast<GlobalVariable>(&G);
      V->setInitializer(nullptr);
      V->setLinkage(GlobalValue::ExternalLinkage);
    }
  }
  if (I != Parts.size())
    return createStringError("module '%s' has %zu globals, the one planned "
                             "%zu",
                             Copy.getModuleIdentifier().c_str(), I,
                             Parts.size());
  return Error::success();
}
