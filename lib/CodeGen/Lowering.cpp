//===- Lowering.cpp - From a Graph to the entry points of the model ABI ---===//
//
// Algorithm, per entry point (train_step, eval_step, predict, grad):
//
//  1. Roots: the values the entry writes (loss, metrics, outputs, grads, the
//     new values of params and state). Collect every node they reach, in the
//     graph's topological order.
//  2. Units and storage: group the nodes into kernels (the `fuse`
//     partition, Fused.cpp: one function per fused kernel, else one per
//     node). Leaves live in their slots, scalar consts are immediates, other
//     consts are private globals, a reshape aliases its operand, a value
//     used only inside its fused kernel lives in registers, and every other
//     value gets a 64-byte-aligned block of the arena (the TEMP slot).
//  3. Arena plan (memory planning, MemoryPlan.cpp): walk the units in
//     order; place each output in place over an input block (or param/state
//     slot) that dies in this kernel when that is legal, else first-fit among
//     the blocks still live; then release the blocks whose last reader was this
//     unit. A block is allocated before its unit's inputs are released, so a
//     kernel never writes over its own inputs except where planned in place
//     (then through one pointer, so its pointers really are `noalias`).
//     Roots live to the end.
//  4. Emit: load the slot pointers, call each node's kernel with its
//     buffers, then copy every root into its result slot. Updates copy last,
//     after every new value is computed, so a step reads the old params
//     throughout; a new value that lives in a slot is first staged in the
//     arena so that no update reads a slot an earlier update overwrote.
//
// Kernels (one internal `noinline` function per node, shared by the entry
// points) are built by KernelBuilder and the op-group files; the dispatch at
// the bottom is the one switch over every OpKind.
//
//===----------------------------------------------------------------------===//
#include "nnc/CodeGen/CodeGen.h"

#include "Fused.h"
#include "KernelBuilder.h"
#include "Lowering.h"
#include "MemoryPlan.h"
#include "NumericsCheck.h"
#include "RuntimeCalls.h"

#include <llvm/ADT/DenseSet.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Verifier.h>

#include <map>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

constexpr int64_t Alignment = BufferAlignment;

/// A value an entry point writes into a slot. `Value` may be null for a
/// gradient the differentiator left out (the slot is zero-filled).
struct Result {
  const Node *Value;
  unsigned Slot;
  bool IsUpdate = false;
};

/// Where a node's value lives while an entry point runs.
struct Storage {
  /// Register: a value computed and consumed inside one fused kernel; it
  /// has no buffer at all.
  enum KindT { Slot, Arena, Global, Immediate, Register } Kind = Arena;
  unsigned SlotIdx = 0;
  int64_t Offset = 0;
  GlobalVariable *G = nullptr;
  /// A reshape sharing its operand's storage (it has no kernel).
  bool Alias = false;
  /// The arena offset of the copy of an update's new value that lives in
  /// another slot, made before the final copies; -1 if none.
  int64_t Staged = -1;
};

} // namespace

/// The kernel of node `KB.node()`: elementwise ops by their class, every
/// other op by the one switch over the ops with a kernel of their own.
void codegen::emitKernelBody(KernelBuilder &KB) {
  OpKind K = KB.node().Kind;
  assert(!isLeafOp(K) && "leaves have no kernel");
  if (isElementwise(K))
    return emitElementwise(KB);
  switch (*kernelOp(K)) {
  case KernelOp::Reshape: // materialized only when it cannot alias
  case KernelOp::Broadcast:
  case KernelOp::Transpose:
    return emitElementwise(KB);
  case KernelOp::ReduceSum:
    return emitReduce(KB, /*IsMax=*/false);
  case KernelOp::ReduceMax:
    return emitReduce(KB, /*IsMax=*/true);
  case KernelOp::ArgMax:
    return emitArgMax(KB, /*Mask=*/false);
  case KernelOp::ArgMaxMask:
    return emitArgMax(KB, /*Mask=*/true);
  case KernelOp::Softmax:
    return emitSoftmax(KB, /*Log=*/false);
  case KernelOp::LogSoftmax:
    return emitSoftmax(KB, /*Log=*/true);
  case KernelOp::MatMul:
    return emitMatMul(KB);
  case KernelOp::OneHot:
    return emitOneHot(KB);
  case KernelOp::Conv2d:
    return emitConv2d(KB);
  case KernelOp::Conv2dGradInput:
    return emitConv2dGradInput(KB);
  case KernelOp::Conv2dGradWeight:
    return emitConv2dGradWeight(KB);
  case KernelOp::MaxPool2d:
    return emitPool(KB, /*IsMax=*/true);
  case KernelOp::AvgPool2d:
    return emitPool(KB, /*IsMax=*/false);
  case KernelOp::MaxPool2dGrad:
    return emitMaxPoolGrad(KB);
  case KernelOp::AvgPool2dGrad:
    return emitAvgPoolGrad(KB);
  }
  llvm_unreachable("unknown op kind");
}

namespace {

class Lowerer {
public:
  Lowerer(const Graph &G, Module &M, const SlotTable &Slots)
      : G(G), M(M), Slots(Slots) {
    for (const auto &N : G.nodes())
      Position[N.get()] = Position.size();
  }

  /// Emits one entry point writing `Results`.
  Expected<Function *> emitEntry(StringRef Name, ArrayRef<Result> Results);

  /// --check-numerics: checks every kernel's outputs (null: no checks).
  std::unique_ptr<NumericsChecker> Numerics;

  /// Bytes of arena the largest entry point needs.
  int64_t arenaBytes() const { return ArenaBytes; }
  /// The memory plan's figures for the largest entry point.
  const ArenaStats &arenaStats() const { return Stats; }

private:
  Function *kernelFor(const Node *N);
  Function *fusedKernelFor(const KernelUnit &U);
  GlobalVariable *globalFor(const Node *N);
  Error planStorage(ArrayRef<const Node *> Order,
                    std::vector<KernelUnit> &Units, ArrayRef<Result> Results,
                    DenseMap<const Node *, Storage> &Store, ArenaStats &Plan);

  const Graph &G;
  Module &M;
  const SlotTable &Slots;
  DenseMap<const Node *, unsigned> Position;
  DenseMap<const Node *, Function *> Kernels;
  DenseMap<const Node *, GlobalVariable *> Globals;
  std::map<std::string, Function *> FusedKernels;
  int64_t ArenaBytes = 0;
  ArenaStats Stats;
  bool StatsFromTrainStep = false;
};

Function *Lowerer::fusedKernelFor(const KernelUnit &U) {
  // Entry points may need different outputs of one kernel (grad stops at
  // the gradient, train_step goes on to the update) or plan it in place
  // differently; each variant is its own function.
  std::string Key;
  auto Add = [&](char Tag, const Node *N) {
    Key += Tag + std::to_string(Position.lookup(N));
  };
  for (const Node *N : U.Members)
    Add('m', N);
  for (unsigned I = 0; I < U.Outputs.size(); ++I) {
    Add('o', U.Outputs[I]);
    Key += "p" + std::to_string(U.InPlace[I]);
  }
  for (const Node *N : U.Inputs)
    Add('i', N);
  Function *&F = FusedKernels[Key];
  if (F)
    return F;
  std::string Name =
      ("k" + Twine(Position.lookup(U.Members[0])) + ".fused").str();
  for (const Node *N : U.Members)
    Name += "." + opSpelling(N->Kind).str();
  for (const Node *N : U.Outputs)
    if (!N->Name.empty()) {
      Name += "." + N->Name;
      break;
    }
  F = emitFusedKernel(M, U, Name);
  return F;
}

Function *Lowerer::kernelFor(const Node *N) {
  if (Function *F = Kernels.lookup(N))
    return F;
  // The result buffer, then the operands' buffers, which it only reads.
  KernelAttrs Attrs;
  unsigned NumArgs = 1;
  for (const Node *Op : N->Operands)
    if (!isImmediate(Op))
      Attrs.ReadOnly.push_back(NumArgs++);
  std::string Name = ("k" + Twine(Position.lookup(N)) + "." + opSpelling(N->Kind))
                         .str();
  if (!N->Name.empty())
    Name += "." + N->Name;
  // Kernels stay separate functions: the optimizer sees each loop nest
  // once (not once per entry point), which keeps compile time low, and the
  // `noalias` arguments carry the no-overlap facts the vectorizer needs.
  Function *F = createKernelFunction(M, Name, NumArgs, Attrs);
  KernelBuilder KB(F, *N);
  emitKernelBody(KB);
  KB.finish();
  Kernels[N] = F;
  return F;
}

GlobalVariable *Lowerer::globalFor(const Node *N) {
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
  GV->setAlignment(Align(Alignment));
  Globals[N] = GV;
  return GV;
}

Error Lowerer::planStorage(ArrayRef<const Node *> Order,
                           std::vector<KernelUnit> &Units,
                           ArrayRef<Result> Results,
                           DenseMap<const Node *, Storage> &Store,
                           ArenaStats &Plan) {
  // Storage kinds; `Owner` maps an alias (reshape) to the node owning its
  // storage.
  DenseMap<const Node *, const Node *> Owner;
  for (const Node *N : Order) {
    Storage S;
    if (N->isLeaf()) {
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
    } else if (N->Kind == OpKind::Reshape &&
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
  for (const Result &R : Results) {
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

Expected<Function *> Lowerer::emitEntry(StringRef Name,
                                        ArrayRef<Result> Results) {
  // 1. The nodes the results need, in topological order.
  DenseSet<const Node *> Needed;
  std::vector<const Node *> Work;
  for (const Result &R : Results)
    if (R.Value)
      Work.push_back(R.Value);
  while (!Work.empty()) {
    const Node *N = Work.back();
    Work.pop_back();
    if (!Needed.insert(N).second)
      continue;
    // Kernel operands: a transpose a matmul reads in place is not computed.
    for (unsigned I = 0; I < N->Operands.size(); ++I)
      Work.push_back(kernelOperand(*N, I));
  }
  std::vector<const Node *> Order;
  for (const auto &N : G.nodes())
    if (Needed.count(N.get()))
      Order.push_back(N.get());

  // 2-3. Kernels (fused or single nodes), storage and the arena plan.
  DenseSet<const Node *> ResultValues;
  for (const Result &R : Results)
    if (R.Value)
      ResultValues.insert(R.Value);
  Expected<std::vector<KernelUnit>> UnitsOr = buildUnits(
      Order,
      [](const Node *N) {
        return !N->isLeaf() &&
               !(aliasesOperand(N->Kind) && !isImmediate(N->operand(0)));
      },
      [&](const Node *N) { return ResultValues.count(N) != 0; });
  if (!UnitsOr)
    return UnitsOr.takeError();
  std::vector<KernelUnit> &Units = *UnitsOr;
  DenseMap<const Node *, Storage> Store;
  ArenaStats Plan;
  if (Error E = planStorage(Order, Units, Results, Store, Plan))
    return E;

  // 4. The function.
  LLVMContext &Ctx = M.getContext();
  Type *Ptr = PointerType::getUnqual(Ctx);
  auto *FT = FunctionType::get(Type::getVoidTy(Ctx), {Ptr}, false);
  Function *F = Function::Create(FT, GlobalValue::InternalLinkage, Name, M);
  F->addFnAttr(Attribute::NoUnwind);
  Argument *SlotArray = F->getArg(0);
  SlotArray->setName("slots");
  F->addParamAttr(0, Attribute::NoAlias);
  F->addParamAttr(0, Attribute::ReadOnly);
  IRBuilder<> B(BasicBlock::Create(Ctx, "entry", F));

  DenseMap<unsigned, Value *> SlotPtrs;
  auto SlotPtr = [&](unsigned I) {
    Value *&P = SlotPtrs[I];
    if (!P)
      P = B.CreateAlignedLoad(
          Ptr, B.CreateConstInBoundsGEP1_64(Ptr, SlotArray, I), Align(8),
          Slots.Slots[I].Name);
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
      B.CreateCall(fusedKernelFor(U), Args);
      for (const Node *O : U.Outputs)
        CheckValue(O);
      continue;
    }
    const Node *N = U.Members[0];
    SmallVector<Value *, 3> Args{PtrOf(N)};
    for (unsigned I = 0; I < N->Operands.size(); ++I)
      if (!isImmediate(N->operand(I)))
        Args.push_back(PtrOf(kernelOperand(*N, I)));
    B.CreateCall(kernelFor(N), Args);
    CheckValue(N);
  }

  // Stage new values that live in slots (see step 4 above).
  DenseMap<const Node *, Value *> Staged;
  for (const Result &R : Results) {
    if (!R.IsUpdate || !R.Value || Store[R.Value].Staged < 0 ||
        Staged.count(R.Value))
      continue;
    Value *Dst = B.CreateConstInBoundsGEP1_64(
        B.getInt8Ty(), SlotPtr(Slots.Temp), Store[R.Value].Staged);
    B.CreateMemCpy(Dst, Align(Alignment), PtrOf(R.Value), Align(Alignment),
                   R.Value->Type.numElements() * 4);
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

  for (const Result &R : Results) {
    const TensorType &T = Slots.Slots[R.Slot].Type;
    Value *Dst = SlotPtr(R.Slot);
    int64_t Bytes = T.numElements() * 4;
    if (!R.Value) {
      B.CreateMemSet(Dst, B.getInt8(0), Bytes, Align(Alignment));
      continue;
    }
    const Storage &S = Store[R.Value];
    if (S.Kind == Storage::Immediate) {
      double V = R.Value->scalarValue();
      Constant *C = R.Value->dtype() == DType::F32
                        ? ConstantFP::get(B.getFloatTy(), V)
                        : (Constant *)B.getInt32(int32_t(V));
      B.CreateAlignedStore(C, Dst, Align(Alignment));
      continue;
    }
    if (S.Kind == Storage::Slot && S.SlotIdx == R.Slot)
      continue; // the value already is the slot (an update `p := p`)
    Value *Src = Staged.count(R.Value) ? Staged[R.Value] : PtrOf(R.Value);
    B.CreateMemCpy(Dst, Align(Alignment), Src, Align(Alignment), Bytes);
  }
  B.CreateRetVoid();
  return F;
}

} // namespace

SlotTable codegen::buildSlotTable(const Graph &G) {
  SlotTable T;
  auto Add = [&](std::string Name, nnc_slot_role Role, const TensorType &Ty,
                 const Node *N) {
    T.Slots.push_back({std::move(Name), Role, Ty, N});
    return unsigned(T.Slots.size() - 1);
  };
  auto AddLeaves = [&](const std::vector<Node *> &Leaves, nnc_slot_role Role) {
    for (const Node *N : Leaves)
      T.LeafSlot[N] = Add(N->Name, Role, N->Type, N);
  };
  AddLeaves(G.Params, NNC_SLOT_PARAM);
  AddLeaves(G.States, NNC_SLOT_STATE);
  AddLeaves(G.Hypers, NNC_SLOT_HYPER);
  AddLeaves(G.Inputs, NNC_SLOT_INPUT);
  AddLeaves(G.Targets, NNC_SLOT_TARGET);
  for (const NamedValue &V : G.Outputs)
    T.Outputs.push_back(Add(V.Name, NNC_SLOT_OUTPUT, V.Value->Type, V.Value));
  if (G.Loss)
    T.Loss = Add("loss", NNC_SLOT_LOSS, G.Loss->Type, G.Loss);
  for (const NamedValue &V : G.Metrics)
    T.Metrics.push_back(Add(V.Name, NNC_SLOT_METRIC, V.Value->Type, V.Value));
  for (size_t I = 0; I < G.Grads.size() && I < G.Params.size(); ++I)
    T.Grads.push_back(Add("grad." + G.Params[I]->Name, NNC_SLOT_GRAD,
                          G.Params[I]->Type, G.Grads[I]));
  T.Temp = Add("arena", NNC_SLOT_TEMP, TensorType(DType::F32, {16}), nullptr);
  return T;
}

Expected<std::unique_ptr<Module>>
nnc::lowerGraph(const Graph &G, const TrainConfig *Train, LLVMContext &Ctx,
                const LoweringOptions &Opts) {
  auto M = std::make_unique<Module>(G.name(), Ctx);
  recordVectorUnit(*M, Opts.Vector ? *Opts.Vector : hostVectorUnit());
  SlotTable Slots = buildSlotTable(G);
  Lowerer L(G, *M, Slots);
  if (Opts.CheckNumerics)
    L.Numerics =
        std::make_unique<NumericsChecker>(*M, G, Opts.SourceName);
  EntryPoints E;

  std::vector<Result> LossAndMetrics;
  if (G.Loss) {
    LossAndMetrics.push_back({G.Loss, Slots.Loss});
    for (size_t I = 0; I < G.Metrics.size(); ++I)
      LossAndMetrics.push_back({G.Metrics[I].Value, Slots.Metrics[I]});
  }
  if (G.Loss && !G.Updates.empty()) {
    std::vector<Result> Train = LossAndMetrics;
    for (const Update &U : G.Updates) {
      auto It = Slots.LeafSlot.find(U.Target);
      if (It == Slots.LeafSlot.end())
        return createStringError("internal error: an update targets '%s', "
                                 "which is neither a param nor state",
                                 U.Target->Name.c_str());
      Train.push_back({U.NewValue, It->second, /*IsUpdate=*/true});
    }
    if (Error Err = L.emitEntry("nnc.train_step", Train).moveInto(E.TrainStep))
      return Err;
  }
  if (G.Loss)
    if (Error Err =
            L.emitEntry("nnc.eval_step", LossAndMetrics).moveInto(E.EvalStep))
      return Err;
  std::vector<Result> Outputs;
  for (size_t I = 0; I < G.Outputs.size(); ++I)
    Outputs.push_back({G.Outputs[I].Value, Slots.Outputs[I]});
  if (Error Err = L.emitEntry("nnc.predict", Outputs).moveInto(E.Predict))
    return Err;
  if (G.Loss && !Slots.Grads.empty()) {
    std::vector<Result> Grads{{G.Loss, Slots.Loss}};
    for (size_t I = 0; I < Slots.Grads.size(); ++I)
      Grads.push_back({G.Grads[I], Slots.Grads[I]});
    if (Error Err = L.emitEntry("nnc.grad", Grads).moveInto(E.Grad))
      return Err;
  }

  // The arena slot is f32[n]; the runtime allocates it 64-byte aligned.
  Slots.Slots[Slots.Temp].Type =
      TensorType(DType::F32, {std::max<int64_t>(L.arenaBytes() / 4, 16)});
  if (Opts.Stats)
    *Opts.Stats = L.arenaStats();
  emitModelDesc(*M, G, Slots, Train, E);

  if (Opts.EmitMain) {
    Type *I32 = Type::getInt32Ty(Ctx), *Ptr = PointerType::getUnqual(Ctx);
    FunctionCallee NncMain = declareCallback(*M, rt::NncMain);
    Function *Main =
        Function::Create(FunctionType::get(I32, {I32, Ptr}, false),
                         GlobalValue::ExternalLinkage, "main", *M);
    IRBuilder<> B(BasicBlock::Create(Ctx, "entry", Main));
    B.CreateRet(B.CreateCall(NncMain, {M->getNamedGlobal(ModelDescSymbol),
                                       Main->getArg(0), Main->getArg(1)}));
  }

  std::string Broken;
  raw_string_ostream OS(Broken);
  if (verifyModule(*M, &OS))
    return createStringError("internal error: invalid LLVM IR for model "
                             "'%s':\n%s",
                             G.name().c_str(), Broken.c_str());
  return M;
}
