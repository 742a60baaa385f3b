//===- MergeSimilar.cpp - One body for kernels that differ in sizes only --===//
//
// Layers with one op sequence and different shapes lower to kernels that
// differ only in integer constants (trip counts, strides, offsets) and in
// the globals they read (row tables, the tasks they hand to the thread
// pool): resnet.nn's 176 fused kernels have 87 shapes of code, its 11
// transposes 3. LLVM's pipeline and instruction selection cost about the
// same per function whatever its constants, so each group of such
// functions is compiled once:
//
//  1. Every function is hashed with those operands left out, and compared
//     with the first of its hash bucket operand by operand: same
//     instructions, types, flags, attributes and callees, the integer
//     constants and globals aside where LLVM allows a variable (not
//     alloca sizes, switch cases, intrinsics' arguments, struct indices,
//     vector lanes, callees) and where a variable costs no more (not
//     divisors, not memcpy sizes, not the bounds of short vector loops, not a
//     factor of one or an addend of zero, which code is specialized on:
//     unit strides).
//  2. A group's body is cloned once, `@<first>.merged`, with one trailing
//     argument per set of positions whose values differ between members
//     (positions that always differ alike share one argument); positions
//     where all members agree stay constants.
//  3. Each direct call of a member becomes a call of the body with the
//     member's values; a member whose address is taken (a task passed to
//     nnc_parallel_for) stays as a stub that passes them. The body is
//     `noinline`, or the inliner would copy it back into every caller.
//  4. Callers that differed only in which member they called now differ
//     in constants only: the rounds repeat until nothing merges.
//
// Small functions are left alone: their compile time is small, and they
// are better inlined with their constants.
//
//===----------------------------------------------------------------------===//
#include "nnc/CodeGen/Target.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/Hashing.h>
#include <llvm/ADT/MapVector.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Module.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/LoopUtils.h>

#include <map>
#include <optional>
#include <set>
#include <vector>

using namespace llvm;
using namespace nnc;

namespace {

/// Functions below this many instructions are not merged.
constexpr size_t MinInstructions = 10;

/// A group needing more arguments than this is not merged: past the six
/// that travel in registers, each is a stack load in the body.
constexpr size_t MaxExtraArguments = 12;

/// Innermost loops with fewer iterations than this in any member keep a
/// constant count. At 32 and more, the vectorizer's loop runs whole
/// vectors even with a variable count: on resnet.nn this merges 98
/// functions where 64 merged 65 (LLVM's CPU time 1.12 s instead of
/// 1.28 s; 1.43 s unmerged, Zen 5), and training steps did not change.
constexpr int64_t MinVariableTripCount = 32;

/// The rounds of step 4: callers of merged callees merge in the next one.
constexpr unsigned MaxRounds = 4;

/// The blocks and instructions of a function in layout order.
struct Numbering {
  Function &F;
  std::vector<Instruction *> Insts;
  DenseMap<const Value *, unsigned> Ordinal; // of a block or instruction

  explicit Numbering(Function &F) : F(F) {
    unsigned Block = 0;
    for (BasicBlock &BB : F) {
      Ordinal[&BB] = Block++;
      for (Instruction &I : BB) {
        Ordinal[&I] = unsigned(Insts.size());
        Insts.push_back(&I);
      }
    }
  }

  /// The compares that end an iteration of an innermost loop the
  /// vectorizer may take (found on the first comparison: most functions
  /// have no similar one).
  ArrayRef<const Instruction *> vectorLatchCompares() {
    if (Latches)
      return *Latches;
    Latches.emplace();
    DominatorTree DT(F);
    LoopInfo LI(DT);
    for (const Loop *L : LI.getLoopsInPreorder())
      if (L->isInnermost() && !(hasVectorizeTransformation(L) & TM_Disable))
        if (const BasicBlock *Latch = L->getLoopLatch())
          if (const auto *Br = dyn_cast<BranchInst>(Latch->getTerminator()))
            if (Br->isConditional())
              if (const auto *Cmp = dyn_cast<ICmpInst>(Br->getCondition()))
                Latches->push_back(Cmp);
    return *Latches;
  }

private:
  std::optional<std::vector<const Instruction *>> Latches;
};

/// Whether operand `Op` of `I` may be a different integer constant or
/// global in each member of a group, passed as an argument of the body.
bool mayVary(const Instruction &I, unsigned Op) {
  const Value *V = I.getOperand(Op);
  const auto *C = dyn_cast<ConstantInt>(V);
  bool Candidate = (C && (C->getBitWidth() == 32 || C->getBitWidth() == 64)) ||
                   (isa<ConstantFP>(V) && V->getType()->isFloatTy()) ||
                   (isa<GlobalValue>(V) && !isa<GlobalAlias>(V));
  if (!Candidate)
    return false;
  if (isa<AllocaInst, SwitchInst, ExtractElementInst, InsertElementInst>(I))
    return false;
  // A division by a constant is a multiply and shifts; by a variable, a
  // divide instruction of tens of cycles.
  if (I.isIntDivRem())
    return Op == 0;
  if (const auto *GEP = dyn_cast<GetElementPtrInst>(&I))
    return GEP->getSourceElementType()->isSingleValueType();
  if (const auto *CB = dyn_cast<CallBase>(&I)) {
    // Not the callee; not an intrinsic's argument, which may have to be a
    // constant, or be expanded inline only when it is one (memcpy sizes).
    return CB->isArgOperand(&CB->getOperandUse(Op)) && !isa<IntrinsicInst>(CB);
  }
  return true;
}

/// Whether `V`, operand of `I`, leaves it nothing to compute: a factor of
/// one or zero, an addend of zero. Code is specialized on them (a unit
/// stride makes loads contiguous vectors), so a function where another
/// has a different value there is not similar.
bool foldsAway(const Instruction &I, const Value *V) {
  const auto *Op = dyn_cast<BinaryOperator>(&I);
  if (!Op)
    return false;
  unsigned Opcode = Op->getOpcode();
  return V == ConstantExpr::getBinOpIdentity(Opcode, V->getType(),
                                             /*AllowRHSConstant=*/true) ||
         V == ConstantExpr::getBinOpAbsorber(Opcode, V->getType());
}

/// The hash of what step 1 compares: equal for similar functions.
hash_code shapeHash(const Function &F, const Numbering &N) {
  hash_code H = hash_combine(F.getFunctionType(),
                             F.getAttributes().getRawPointer(), F.size());
  for (const Instruction *I : N.Insts) {
    H = hash_combine(H, I->getOpcode(), I->getType(), I->getNumOperands(),
                     I->getRawSubclassOptionalData());
    for (unsigned Op = 0; Op < I->getNumOperands(); ++Op) {
      const Value *V = I->getOperand(Op);
      if (const auto *A = dyn_cast<Argument>(V))
        H = hash_combine(H, 'a', A->getArgNo());
      else if (isa<Instruction, BasicBlock>(V))
        H = hash_combine(H, 'i', N.Ordinal.lookup(V));
      else if (mayVary(*I, Op))
        H = hash_combine(H, 'c', V->getType());
      else
        H = hash_combine(H, 'p', V);
    }
  }
  return H;
}

/// The iterations of the loop whose latch compares with `Cmp`, when its
/// bounds are constants: emitCountedLoop's `icmp slt (add %iv, 1), Hi`,
/// with `%iv = phi [Lo, ...], [%next, ...]`.
std::optional<int64_t> constantTripCount(const Instruction &Cmp) {
  const auto *C = dyn_cast<ICmpInst>(&Cmp);
  if (!C || C->getPredicate() != ICmpInst::ICMP_SLT)
    return std::nullopt;
  const auto *Hi = dyn_cast<ConstantInt>(C->getOperand(1));
  const auto *Next = dyn_cast<BinaryOperator>(C->getOperand(0));
  if (!Hi || !Next || Next->getOpcode() != Instruction::Add)
    return std::nullopt;
  const auto *IV = dyn_cast<PHINode>(Next->getOperand(0));
  if (!IV || IV->getNumIncomingValues() != 2)
    return std::nullopt;
  for (const Value *In : IV->incoming_values())
    if (const auto *Lo = dyn_cast<ConstantInt>(In))
      return Hi->getSExtValue() - Lo->getSExtValue();
  return std::nullopt;
}

/// A position of step 1: operand `Op` of instruction number `Inst`.
using Position = std::pair<unsigned, unsigned>;

/// The metadata that can change what an instruction means: all but the
/// loop hints (which the body takes from the first member) and debug
/// locations.
SmallVector<std::pair<unsigned, MDNode *>, 4>
meaningfulMetadata(const Instruction &I) {
  SmallVector<std::pair<unsigned, MDNode *>, 4> MDs;
  I.getAllMetadataOtherThanDebugLoc(MDs);
  llvm::erase_if(MDs,
                 [](const auto &P) { return P.first == LLVMContext::MD_loop; });
  return MDs;
}

/// Step 1: whether `G` is `F` but for operands that may vary; the
/// positions where they differ are added to `Diffs`.
bool similar(Numbering &NF, const Numbering &NG, std::set<Position> &Diffs) {
  const Function &F = NF.F, &G = NG.F;
  if (F.getFunctionType() != G.getFunctionType() ||
      F.getAttributes() != G.getAttributes() ||
      F.getCallingConv() != G.getCallingConv() || F.size() != G.size() ||
      NF.Insts.size() != NG.Insts.size())
    return false;
  std::vector<Position> Found;
  for (size_t K = 0; K < NF.Insts.size(); ++K) {
    const Instruction *I = NF.Insts[K], *J = NG.Insts[K];
    if (!I->isSameOperationAs(J) ||
        I->getRawSubclassOptionalData() != J->getRawSubclassOptionalData() ||
        meaningfulMetadata(*I) != meaningfulMetadata(*J) ||
        NF.Ordinal.lookup(I->getParent()) != NG.Ordinal.lookup(J->getParent()))
      return false;
    if (const auto *P = dyn_cast<PHINode>(I))
      for (unsigned In = 0; In < P->getNumIncomingValues(); ++In)
        if (NF.Ordinal.lookup(P->getIncomingBlock(In)) !=
            NG.Ordinal.lookup(cast<PHINode>(J)->getIncomingBlock(In)))
          return false;
    for (unsigned Op = 0; Op < I->getNumOperands(); ++Op) {
      const Value *A = I->getOperand(Op), *B = J->getOperand(Op);
      if (A == B)
        continue;
      const auto *ArgA = dyn_cast<Argument>(A);
      const auto *ArgB = dyn_cast<Argument>(B);
      if (ArgA && ArgB && ArgA->getArgNo() == ArgB->getArgNo())
        continue;
      if (isa<Instruction, BasicBlock>(A) &&
          A->getValueID() == B->getValueID() &&
          NF.Ordinal.lookup(A) == NG.Ordinal.lookup(B))
        continue;
      if (isa<Constant>(A) && isa<Constant>(B) && mayVary(*I, Op) &&
          mayVary(*J, Op) && !foldsAway(*I, A) && !foldsAway(*J, B)) {
        Found.push_back({unsigned(K), Op});
        continue;
      }
      return false;
    }
  }
  // Short innermost loops keep their trip counts: the vectorizer fits its
  // vector and remainder loops to a constant count, and with a variable
  // one a loop of a few dozen iterations would run in the scalar
  // remainder. Loops it may not take (a transpose's loops over 16x16
  // blocks, its scalar edges) run the same with either.
  for (const Instruction *Cmp : NF.vectorLatchCompares()) {
    std::optional<int64_t> TripF = constantTripCount(*Cmp);
    std::optional<int64_t> TripG =
        constantTripCount(*NG.Insts[NF.Ordinal.lookup(Cmp)]);
    if (TripF && TripG && *TripF != *TripG &&
        std::min(*TripF, *TripG) < MinVariableTripCount)
      return false;
  }
  Diffs.insert(Found.begin(), Found.end());
  return true;
}

/// A group of similar functions and the positions where they differ.
struct Group {
  std::vector<Numbering *> Members; // the first is the one compared with
  std::set<Position> Diffs;
};

/// Steps 2 and 3 for one group. False when it needs too many arguments.
/// The functions whose calls it rewrites are added to `Touched`.
bool mergeGroup(const Group &G, DenseSet<Function *> &Touched) {
  // The value at each position, per member; positions with the same
  // values in every member share one argument.
  std::map<std::vector<Constant *>, unsigned> ArgumentOf;
  std::vector<std::vector<Constant *>> Arguments; // per argument, per member
  std::vector<std::pair<Position, unsigned>> Uses;
  for (const Position &P : G.Diffs) {
    std::vector<Constant *> Values;
    for (const Numbering *N : G.Members)
      Values.push_back(cast<Constant>(N->Insts[P.first]->getOperand(P.second)));
    auto [It, New] = ArgumentOf.try_emplace(Values, unsigned(Arguments.size()));
    if (New)
      Arguments.push_back(Values);
    Uses.push_back({P, It->second});
  }
  if (Arguments.size() > MaxExtraArguments)
    return false;

  Function &F = G.Members.front()->F;
  SmallVector<Type *, 16> Params(F.getFunctionType()->params());
  size_t Base = Params.size();
  for (const std::vector<Constant *> &Values : Arguments)
    Params.push_back(Values.front()->getType());
  StringRef Name = F.getName();
  Name.consume_back(".merged"); // a body of the round before
  auto *Body = Function::Create(
      FunctionType::get(F.getReturnType(), Params, false),
      GlobalValue::InternalLinkage, Name + ".merged", F.getParent());
  ValueToValueMapTy Map;
  for (size_t K = 0; K < Base; ++K)
    Map[F.getArg(unsigned(K))] = Body->getArg(unsigned(K));
  SmallVector<ReturnInst *, 4> Returns;
  CloneFunctionInto(Body, &F, Map, CloneFunctionChangeType::LocalChangesOnly,
                    Returns);
  Body->addFnAttr(Attribute::NoInline);
  for (auto [P, Arg] : Uses)
    cast<Instruction>(Map[G.Members.front()->Insts[P.first]])
        ->setOperand(P.second, Body->getArg(unsigned(Base + Arg)));

  for (size_t M = 0; M < G.Members.size(); ++M) {
    Function *Member = &G.Members[M]->F;
    auto WithValues = [&](auto Args) {
      SmallVector<Value *, 16> All(Args.begin(), Args.end());
      for (const std::vector<Constant *> &Values : Arguments)
        All.push_back(Values[M]);
      return All;
    };
    for (Use &U : make_early_inc_range(Member->uses())) {
      auto *Call = dyn_cast<CallInst>(U.getUser());
      if (!Call || !Call->isCallee(&U) ||
          Call->getFunctionType() != Member->getFunctionType())
        continue;
      Touched.insert(Call->getFunction());
      CallInst *New = CallInst::Create(Body, WithValues(Call->args()), "",
                                       Call->getIterator());
      New->setCallingConv(Call->getCallingConv());
      New->setAttributes(Call->getAttributes());
      New->setTailCallKind(Call->getTailCallKind());
      New->setDebugLoc(Call->getDebugLoc());
      New->takeName(Call);
      Call->replaceAllUsesWith(New);
      Call->eraseFromParent();
    }
    if (Member->use_empty()) {
      Member->eraseFromParent();
      continue;
    }
    // A stub for the uses that are not calls.
    GlobalValue::LinkageTypes Linkage = Member->getLinkage();
    Member->deleteBody();
    Member->setLinkage(Linkage);
    IRBuilder<> B(BasicBlock::Create(F.getContext(), "entry", Member));
    SmallVector<Value *, 8> Own;
    for (Argument &A : Member->args())
      Own.push_back(&A);
    CallInst *Call = B.CreateCall(Body, WithValues(Own));
    Call->setTailCall();
    if (Member->getReturnType()->isVoidTy())
      B.CreateRetVoid();
    else
      B.CreateRet(Call);
  }
  return true;
}

bool eligible(const Function &F) {
  return !F.isDeclaration() && F.hasLocalLinkage() && !F.hasOptNone() &&
         !F.isVarArg() && !F.hasPersonalityFn() &&
         F.getInstructionCount() >= MinInstructions;
}

/// One round of steps 1-3 over `Candidates`; returns how many functions
/// lost their body, and leaves in `Touched` the functions whose calls it
/// rewrote (the candidates of the next round: nothing else changed).
unsigned mergeRound(ArrayRef<Function *> Candidates,
                    DenseSet<Function *> &Touched) {
  std::vector<std::unique_ptr<Numbering>> Numbers;
  MapVector<hash_code, std::vector<Group>> Buckets;
  for (Function *F : Candidates) {
    Numbers.push_back(std::make_unique<Numbering>(*F));
    Numbering &N = *Numbers.back();
    std::vector<Group> &Groups = Buckets[shapeHash(*F, N)];
    auto Similar = llvm::find_if(Groups, [&](Group &G) {
      return similar(*G.Members.front(), N, G.Diffs);
    });
    if (Similar != Groups.end())
      Similar->Members.push_back(&N);
    else
      Groups.push_back({{&N}, {}});
  }
  // A group with a member whose calls an earlier group rewrote waits for
  // the next round: its numbering and positions are out of date.
  unsigned Merged = 0;
  for (auto &[Hash, Groups] : Buckets)
    for (const Group &G : Groups)
      if (G.Members.size() > 1 &&
          llvm::none_of(
              G.Members,
              [&](Numbering *N) { return Touched.contains(&N->F); }) &&
          mergeGroup(G, Touched))
        Merged += unsigned(G.Members.size()) - 1;
  return Merged;
}

} // namespace

unsigned nnc::mergeSimilarFunctions(Module &M) {
  unsigned Total = 0;
  DenseSet<Function *> Touched;
  for (unsigned Round = 0; Round < MaxRounds; ++Round) {
    std::vector<Function *> Candidates;
    for (Function &F : M)
      if (eligible(F) && (Round == 0 || Touched.contains(&F)))
        Candidates.push_back(&F);
    Touched.clear();
    unsigned Merged = mergeRound(Candidates, Touched);
    Total += Merged;
    if (!Merged)
      break;
  }
  return Total;
}
