//===- EntryEmitter.cpp - The entry points of one model -------------------===//
//
// Algorithm, per entry point (its results are chosen by lowerGraph,
// Lowering.cpp):
//
//  1. Collect every node the results reach, in the graph's topological
//     order; a transpose a matmul reads in place is not computed.
//  2. Units and storage: group the nodes into kernels (the `fuse`
//     partition followed per entry point, Fused.cpp: one function per
//     fused kernel, else one per node). Leaves live in their slots, scalar
//     consts are immediates, other consts are private globals, a reshape
//     aliases its operand, a value used only inside its fused kernel lives
//     in registers, and every other value gets a block of the arena.
//  3. The arena plan (MemoryPlan.cpp) places the blocks by liveness, picks
//     the outputs computed in place, and reserves the staging blocks.
//  4. Emit: load the slot pointers, call each unit's kernel
//     (KernelDispatch.cpp) with its buffers, then copy every result into
//     its slot. Updates copy last, after every new value is computed, so a
//     step reads the old params throughout; a new value that lives in
//     another slot is first staged in the arena, so that no update reads a
//     slot an earlier update overwrote.
//  5. The entries that write params, state or buffers return whether a new
//     value they wrote there is a NaN or an infinity (NonFinite.h): an i32
//     flag, zero at the start, that the kernels computing new values set
//     as they store them; a new value computed otherwise, or copied from
//     another slot, is tested after it is written.
//
// At -O0 an entry point reads like the graph dump: arena pointers are named
// after their node (`%h`, `%t12`), slot pointers after their slot.
//
//===----------------------------------------------------------------------===//
#include "EntryEmitter.h"

#include "KernelBuilder.h"
#include "MemoryPlan.h"
#include "NonFinite.h"
#include "NumericsCheck.h"

#include <llvm/ADT/DenseSet.h>
#include <llvm/IR/IRBuilder.h>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

EntryEmitter::EntryEmitter(const Graph &G, Module &M, const SlotTable &Slots,
                           NumericsChecker *Numerics)
    : G(G), M(M), Slots(Slots), Numerics(Numerics), Kernels(M, Position) {
  for (const auto &N : G.nodes())
    Position[N.get()] = Position.size();
}

EntryEmitter::GivenMap EntryEmitter::givenMap(ArrayRef<EntryResult> Given) {
  GivenMap Map;
  for (const EntryResult &R : Given)
    if (R.Value)
      Map.try_emplace(R.Value, R.Slot);
  return Map;
}

std::vector<const Node *>
EntryEmitter::neededNodes(ArrayRef<EntryResult> Results,
                          const GivenMap &Given) const {
  DenseSet<const Node *> Needed;
  std::vector<const Node *> Work;
  for (const EntryResult &R : Results)
    if (R.Value)
      Work.push_back(R.Value);
  while (!Work.empty()) {
    const Node *N = Work.back();
    Work.pop_back();
    if (!Needed.insert(N).second || Given.count(N))
      continue;
    // Kernel operands: a transpose a matmul reads in place is not computed.
    for (unsigned I = 0; I < N->Operands.size(); ++I)
      Work.push_back(kernelOperand(*N, I));
  }
  std::vector<const Node *> Order;
  for (const auto &N : G.nodes())
    if (Needed.count(N.get()))
      Order.push_back(N.get());
  return Order;
}

std::vector<const Node *>
EntryEmitter::leavesRead(ArrayRef<EntryResult> Results,
                         ArrayRef<EntryResult> Given) const {
  GivenMap Map = givenMap(Given);
  std::vector<const Node *> Leaves;
  for (const Node *N : neededNodes(Results, Map))
    if (N->isLeaf() && !Map.count(N))
      Leaves.push_back(N);
  return Leaves;
}

GlobalVariable *EntryEmitter::globalFor(const Node *N) {
  if (GlobalVariable *GV = Globals.lookup(N))
    return GV;
  const Tensor &V = N->Value;
  Constant *Init;
  if (N->dtype() == DType::F32) {
    std::vector<float> Data(V.F.begin(), V.F.end());
    Data.resize(N->Type.numElements(), 0.0f);
    Init = ConstantDataArray::get(M.getContext(), ArrayRef<float>(Data));
  } else {
    std::vector<uint32_t> Data(V.I.begin(), V.I.end());
    Data.resize(N->Type.numElements(), 0);
    Init = ConstantDataArray::get(M.getContext(), ArrayRef<uint32_t>(Data));
  }
  auto *GV = new GlobalVariable(M, Init->getType(), /*isConstant=*/true,
                                GlobalValue::PrivateLinkage, Init,
                                "const" + Twine(Position.lookup(N)));
  GV->setAlignment(Align(BufferAlignment));
  Globals[N] = GV;
  return GV;
}

Error EntryEmitter::planStorage(ArrayRef<const Node *> Order,
                                std::vector<KernelUnit> &Units,
                                ArrayRef<EntryResult> Results,
                                const GivenMap &Given, StorageMap &Store,
                                ArenaStats &Plan) {
  // Storage kinds; `Owner` maps an alias (reshape) to the node owning its
  // storage.
  DenseMap<const Node *, const Node *> Owner;
  for (const Node *N : Order) {
    Storage S;
    if (auto It = Given.find(N); It != Given.end()) {
      S.Kind = Storage::Slot;
      S.SlotIdx = It->second;
    } else if (N->isLeaf()) {
      if (N->Kind == OpKind::Const) {
        S.Kind = isImmediate(N) ? Storage::Immediate : Storage::Global;
        S.G = S.Kind == Storage::Global ? globalFor(N) : nullptr;
      } else {
        auto It = Slots.LeafSlot.find(N);
        if (It == Slots.LeafSlot.end())
          return createStringError(
              "internal error: %s leaf '%s' is not part of the model's "
              "interface",
              opSpelling(N->Kind).str().c_str(), N->Name.c_str());
        S.Kind = Storage::Slot;
        S.SlotIdx = It->second;
      }
    } else if (aliasesOperand(N->Kind) &&
               Store[N->operand(0)].Kind != Storage::Immediate) {
      S = Store[N->operand(0)];
      S.Alias = true;
      const Node *O = Owner.lookup(N->operand(0));
      Owner[N] = O ? O : N->operand(0);
    }
    Store[N] = S;
  }
  // Values computed and consumed inside a fused kernel need no buffer.
  for (const KernelUnit &U : Units)
    for (const Node *N : U.Members)
      if (!llvm::is_contained(U.Outputs, N))
        Store[N].Kind = Storage::Register;

  // The memory plan's view: the nodes (and the leaves the updates
  // overwrite, read or not), the units and the results.
  MemoryPlanRequest Request;
  DenseMap<const Node *, unsigned> Id;
  std::vector<const Node *> NodeOf;
  auto AddValue = [&](const Node *N, MemoryPlanRequest::Home Kind) {
    Id[N] = NodeOf.size();
    NodeOf.push_back(N);
    MemoryPlanRequest::Value V{Kind, N->Type.numElements() * 4};
    if (const Node *O = Owner.lookup(N))
      V.Owner = int(Id.lookup(O));
    Request.Values.push_back(V);
  };
  for (const Node *N : Order) {
    Storage::KindT K = Store[N].Kind;
    AddValue(N, K == Storage::Arena  ? MemoryPlanRequest::Home::Arena
                : K == Storage::Slot ? MemoryPlanRequest::Home::Slot
                                     : MemoryPlanRequest::Home::Other);
  }
  for (const KernelUnit &U : Units) {
    MemoryPlanRequest::Unit &PU = Request.Units.emplace_back();
    for (unsigned K = 0; K < U.Outputs.size(); ++K)
      PU.Outputs.push_back({Id.lookup(U.Outputs[K]), inPlaceCandidates(U, K)});
    for (const Node *X : U.Inputs)
      PU.Inputs.push_back(Id.lookup(X));
  }
  for (const EntryResult &R : Results) {
    if (!R.Value)
      continue;
    int UpdateOf = -1;
    if (R.IsUpdate) {
      const Node *Leaf = Slots.Slots[R.Slot].N;
      if (!Id.count(Leaf))
        AddValue(Leaf, MemoryPlanRequest::Home::Slot);
      UpdateOf = int(Id.lookup(Leaf));
    }
    Request.Results.push_back({Id.lookup(R.Value), UpdateOf});
  }

  // Each node where the plan put it; an alias where its owner is.
  MemoryPlan P = planMemory(Request);
  for (unsigned U = 0; U < Units.size(); ++U)
    Units[U].InPlace.assign(P.InPlace[U].begin(), P.InPlace[U].end());
  for (const Node *N : Order) {
    Storage &S = Store[N];
    unsigned V = Id.lookup(N);
    if (S.Alias) {
      S = Store[Owner.lookup(N)];
      S.Alias = true;
    } else if (S.Kind == Storage::Arena && P.Slot[V] >= 0) {
      S = Store[NodeOf[P.Slot[V]]]; // an update computed in place
    } else if (S.Kind == Storage::Arena) {
      S.Offset = P.Offset[V];
    }
    S.Staged = P.Staged[V];
  }
  Plan = P.Stats;
  return Error::success();
}

Expected<Function *> EntryEmitter::emitEntry(StringRef Name,
                                             ArrayRef<EntryResult> Results,
                                             ArrayRef<EntryResult> Given,
                                             bool ReportsNonFinite) {
  // 1. The nodes the results need.
  GivenMap GivenSlots = givenMap(Given);
  std::vector<const Node *> Order = neededNodes(Results, GivenSlots);

  // 2-3. Kernels (fused or single nodes), storage and the arena plan.
  DenseSet<const Node *> ResultValues;
  for (const EntryResult &R : Results)
    if (R.Value)
      ResultValues.insert(R.Value);
  Expected<std::vector<KernelUnit>> UnitsOr = buildUnits(
      Order,
      [&](const Node *N) {
        return !N->isLeaf() && !GivenSlots.count(N) &&
               !(aliasesOperand(N->Kind) && !isImmediate(N->operand(0)));
      },
      [&](const Node *N) { return ResultValues.count(N) != 0; });
  if (!UnitsOr)
    return UnitsOr.takeError();
  std::vector<KernelUnit> &Units = *UnitsOr;
  StorageMap Store;
  ArenaStats Plan;
  if (Error E = planStorage(Order, Units, Results, GivenSlots, Store, Plan))
    return E;

  // The new values whose NaNs and infinities the entry reports (step 5),
  // as the units compute them: a reshape where its operand is computed.
  auto OwnerOf = [&](const Node *N) {
    for (auto It = Store.find(N); It != Store.end() && It->second.Alias;
         It = Store.find(N))
      N = N->operand(0);
    return N;
  };
  DenseSet<const Node *> Checked, Computed;
  for (const KernelUnit &U : Units)
    Computed.insert(U.Outputs.begin(), U.Outputs.end());
  if (ReportsNonFinite)
    for (const EntryResult &R : Results)
      if (R.IsUpdate && R.Value && R.Value->dtype() == DType::F32)
        Checked.insert(OwnerOf(R.Value));
  for (KernelUnit &U : Units) {
    U.Checked.assign(U.Outputs.size(), false);
    for (unsigned K = 0; K < U.Outputs.size(); ++K)
      U.Checked[K] = Checked.count(U.Outputs[K]) != 0;
  }

  // 4. The function.
  LLVMContext &Ctx = M.getContext();
  Type *Ptr = PointerType::getUnqual(Ctx);
  Type *I32 = Type::getInt32Ty(Ctx);
  auto *FT = FunctionType::get(ReportsNonFinite ? I32 : Type::getVoidTy(Ctx),
                               {Ptr}, false);
  Function *F = Function::Create(FT, GlobalValue::InternalLinkage, Name, M);
  F->addFnAttr(Attribute::NoUnwind);
  // An entry is a straight line of kernel calls that runs once per step:
  // nothing in it is worth optimizing, and its hundreds of calls made it
  // the costliest function of resnet.nn to compile (0.15 s of CPU at -O2,
  // 0.08 s unoptimized). Kernels are `noinline`, so they are not affected.
  F->addFnAttr(Attribute::OptimizeNone);
  F->addFnAttr(Attribute::NoInline);
  Argument *SlotArray = F->getArg(0);
  SlotArray->setName("slots");
  F->addParamAttr(0, Attribute::NoAlias);
  F->addParamAttr(0, Attribute::ReadOnly);
  IRBuilder<> B(BasicBlock::Create(Ctx, "entry", F));

  // Step 5's flag, aligned as the kernels' buffer arguments promise.
  AllocaInst *Flag = nullptr;
  if (ReportsNonFinite) {
    Flag = B.CreateAlloca(I32, nullptr, "nonfinite");
    Flag->setAlignment(Align(BufferAlignment));
    B.CreateAlignedStore(B.getInt32(0), Flag, Align(BufferAlignment));
  }
  // A pass over a new value that its kernel did not test.
  auto CheckBuffer = [&](Value *Buf, const Node *N) {
    B.CreateCall(checkFiniteFunction(M),
                 {Buf, Flag, B.getInt64(N->Type.numElements())});
  };

  DenseMap<unsigned, Value *> SlotPtrs;
  auto SlotPtr = [&](unsigned I) {
    Value *&P = SlotPtrs[I];
    if (!P)
      P = B.CreateAlignedLoad(Ptr,
                              B.CreateConstInBoundsGEP1_64(Ptr, SlotArray, I),
                              Align(8), Slots.Slots[I].Name);
    return P;
  };
  // Arena pointers are named after their node (`%h`, `%t12`) so that
  // --emit=llvm -O0 reads like the graph dump.
  DenseMap<const Node *, Value *> ArenaPtrs;
  auto PtrOf = [&](const Node *N) -> Value * {
    const Storage &S = Store[N];
    switch (S.Kind) {
    case Storage::Slot:
      return SlotPtr(S.SlotIdx);
    case Storage::Arena: {
      Value *&P = ArenaPtrs[N];
      if (!P)
        P = B.CreateConstInBoundsGEP1_64(
            B.getInt8Ty(), SlotPtr(Slots.Temp), S.Offset,
            N->Name.empty() ? "t" + Twine(Position.lookup(N)) : Twine(N->Name));
      return P;
    }
    case Storage::Global:
      return S.G;
    case Storage::Immediate:
    case Storage::Register:
      break;
    }
    llvm_unreachable("an immediate or register value has no address");
  };

  // --check-numerics: a value in a buffer, checked right after its kernel.
  StringRef EntryName = Name;
  EntryName.consume_front("nnc."); // as the runtime calls it
  auto CheckValue = [&](const Node *N) {
    Storage::KindT K = Store[N].Kind;
    if (Numerics && (K == Storage::Arena || K == Storage::Slot))
      Numerics->emitCheck(B, *N, PtrOf(N), EntryName);
  };
  for (const KernelUnit &U : Units) {
    if (U.isFused()) {
      SmallVector<Value *, 8> Args;
      for (unsigned K = 0; K < U.Outputs.size(); ++K)
        if (U.InPlace[K] < 0)
          Args.push_back(PtrOf(U.Outputs[K]));
      for (const Node *X : U.Inputs)
        Args.push_back(PtrOf(X));
      if (kernelReportsNonFinite(U))
        Args.push_back(Flag);
      B.CreateCall(Kernels.kernelFor(U), Args);
      for (const Node *O : U.Outputs)
        CheckValue(O);
    } else {
      const Node *N = U.Members[0];
      SmallVector<Value *, 4> Args{PtrOf(N)};
      for (unsigned I = 0; I < N->Operands.size(); ++I)
        if (!isImmediate(N->operand(I)))
          Args.push_back(PtrOf(kernelOperand(*N, I)));
      if (kernelReportsNonFinite(U))
        Args.push_back(Flag);
      B.CreateCall(Kernels.kernelFor(U), Args);
      CheckValue(N);
    }
    for (unsigned K = 0; K < U.Outputs.size(); ++K)
      if (U.checked(K) && !kernelChecksOutput(U, K))
        CheckBuffer(PtrOf(U.Outputs[K]), U.Outputs[K]);
  }

  // Stage the new values that live in other slots (the plan's step 4).
  DenseMap<const Node *, Value *> Staged;
  for (const EntryResult &R : Results) {
    if (!R.IsUpdate || !R.Value || Store[R.Value].Staged < 0 ||
        Staged.count(R.Value))
      continue;
    Value *Dst = B.CreateConstInBoundsGEP1_64(
        B.getInt8Ty(), SlotPtr(Slots.Temp), Store[R.Value].Staged);
    B.CreateMemCpy(Dst, Align(BufferAlignment), PtrOf(R.Value),
                   Align(BufferAlignment), R.Value->Type.numElements() * 4);
    Staged[R.Value] = Dst;
  }
  ArenaBytes = std::max(ArenaBytes, Plan.BytesAfter);
  // --stats reports the training step (the whole step is what the plan is
  // for), else the entry needing the most arena.
  if (Name == "nnc.train_step" ||
      (!StatsFromTrainStep && Plan.BytesAfter > Stats.BytesAfter)) {
    Stats = Plan;
    StatsFromTrainStep = Name == "nnc.train_step";
  }

  for (const EntryResult &R : Results) {
    const TensorType &T = Slots.Slots[R.Slot].Type;
    Value *Dst = SlotPtr(R.Slot);
    int64_t Bytes = T.numElements() * 4;
    if (!R.Value) {
      B.CreateMemSet(Dst, B.getInt8(0), Bytes, Align(BufferAlignment));
      continue;
    }
    const Storage &S = Store[R.Value];
    // A checked new value that no kernel computed: a constant is tested
    // now, a copy of another slot once written.
    bool Untested = ReportsNonFinite && R.IsUpdate &&
                    R.Value->dtype() == DType::F32 &&
                    !Computed.count(OwnerOf(R.Value));
    if ((S.Kind == Storage::Immediate || S.Kind == Storage::Global) &&
        Untested && !constantIsFinite(*OwnerOf(R.Value)))
      B.CreateAlignedStore(B.getInt32(1), Flag, Align(BufferAlignment));
    if (S.Kind == Storage::Immediate) {
      double V = R.Value->scalarValue();
      Constant *C = R.Value->dtype() == DType::F32
                        ? ConstantFP::get(B.getFloatTy(), V)
                        : (Constant *)B.getInt32(int32_t(V));
      B.CreateAlignedStore(C, Dst, Align(BufferAlignment));
      continue;
    }
    if (S.Kind == Storage::Slot && S.SlotIdx == R.Slot)
      continue; // the value already is the slot (an update `p := p`)
    Value *Src = Staged.count(R.Value) ? Staged[R.Value] : PtrOf(R.Value);
    B.CreateMemCpy(Dst, Align(BufferAlignment), Src, Align(BufferAlignment),
                   Bytes);
    if (Untested && S.Kind == Storage::Slot)
      CheckBuffer(Dst, R.Value);
  }
  if (Flag)
    B.CreateRet(B.CreateAlignedLoad(I32, Flag, Align(BufferAlignment)));
  else
    B.CreateRetVoid();
  return F;
}
