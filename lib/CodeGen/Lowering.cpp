//===- Lowering.cpp - From a Graph to the entry points of the model ABI ---===//
//
// The top of the code generator (CodeGen.h, docs/codegen.md):
//
//  1. Lay out the slots (Lowering.h): params, state, buffers,
//     hyperparameters, inputs, targets, outputs, loss, metrics, gradients,
//     the arena.
//  2. Emit each entry point the model has (EntryEmitter.cpp) from its
//     results: train_step writes the loss, the metrics and the updates of
//     params, state and buffers; eval_step the loss and metrics; predict
//     the outputs; grad the loss and every param's gradient; train_grad
//     and apply_update are train_step in two halves, for data-parallel
//     training (docs/distributed.md). The three that write updates also
//     return whether a new value is not finite (NonFinite.h). train_step,
//     grad, train_grad and apply_update come from the (train-mode) graph,
//     eval_step and predict from the eval-mode graph when the model has
//     one (Opts.EvalGraph), through a second emitter on the same slots.
//  3. Size the arena slot for the largest entry point, and write the model
//     descriptor (ModelDesc.cpp) and, for executables, `main`.
//  4. Verify the module: invalid IR is a compiler bug, reported as an
//     error rather than left to crash a later stage.
//
//===----------------------------------------------------------------------===//
#include "nnc/CodeGen/CodeGen.h"

#include "EntryEmitter.h"
#include "Lowering.h"
#include "NumericsCheck.h"
#include "RuntimeCalls.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Verifier.h>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

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
  AddLeaves(G.Buffers, NNC_SLOT_BUFFER);
  AddLeaves(G.Hypers, NNC_SLOT_HYPER);
  AddLeaves(G.Inputs, NNC_SLOT_INPUT);
  for (const Node *N : G.Inputs)
    T.Slots[T.LeafSlot[N]].Stored = N->Stored;
  AddLeaves(G.Targets, NNC_SLOT_TARGET);
  for (const NamedValue &V : G.Outputs) {
    T.Outputs.push_back(Add(V.Name, NNC_SLOT_OUTPUT, V.Value->Type, V.Value));
    T.Slots.back().Stored = V.Stored;
  }
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

Expected<SlotTable> codegen::mapSlotTable(const SlotTable &Train,
                                          const Graph &Eval) {
  SlotTable T = Train;
  T.LeafSlot.clear();
  for (const auto &N : Eval.nodes()) {
    if (!N->isLeaf() || N->Kind == OpKind::Const)
      continue;
    auto It = llvm::find_if(Train.Slots, [&](const SlotInfo &S) {
      return S.N && S.N->isLeaf() && S.Name == N->Name;
    });
    if (It == Train.Slots.end())
      return createStringError("internal error: the eval-mode graph's leaf "
                               "'%s' has no slot",
                               N->Name.c_str());
    T.LeafSlot[N.get()] = unsigned(It - Train.Slots.begin());
  }
  return T;
}

/// train_step in two halves for data-parallel training (ModelABI.h,
/// docs/distributed.md): train_grad writes the loss, the metrics, every
/// gradient into its grad slot and the buffers' new values; apply_update
/// reads the gradients back from those slots and writes the new params and
/// optimizer state. Both stay null when the update reads more than the
/// params, state, buffers, hyperparameters and gradients (then averaging
/// the gradients would not be enough to keep the processes in step).
static Error emitSplitTrainStep(const Graph &G, const SlotTable &Slots,
                                EntryEmitter &Emitter, EntryPoints &E) {
  std::vector<EntryResult> Grad{{G.Loss, Slots.Loss}}, Given, Apply;
  for (size_t I = 0; I < G.Metrics.size(); ++I)
    Grad.push_back({G.Metrics[I].Value, Slots.Metrics[I]});
  for (size_t I = 0; I < Slots.Grads.size(); ++I) {
    Grad.push_back({G.Grads[I], Slots.Grads[I]});
    Given.push_back({G.Grads[I], Slots.Grads[I]});
  }
  for (const Update &U : G.Updates) {
    unsigned Slot = Slots.LeafSlot.lookup(U.Target);
    bool IsBuffer = Slots.Slots[Slot].Role == NNC_SLOT_BUFFER;
    (IsBuffer ? Grad : Apply).push_back({U.NewValue, Slot, /*IsUpdate=*/true});
  }
  for (const Node *Leaf : Emitter.leavesRead(Apply, Given))
    if (Leaf->Kind == OpKind::Input || Leaf->Kind == OpKind::Target)
      return Error::success();
  if (Error Err = Emitter
                      .emitEntry("nnc.train_grad", Grad, /*Given=*/{},
                                 /*ReportsNonFinite=*/true)
                      .moveInto(E.TrainGrad))
    return Err;
  return Emitter
      .emitEntry("nnc.apply_update", Apply, Given, /*ReportsNonFinite=*/true)
      .moveInto(E.ApplyUpdate);
}

Expected<std::unique_ptr<Module>> nnc::lowerGraph(const Graph &G,
                                                  const TrainConfig *Train,
                                                  LLVMContext &Ctx,
                                                  const LoweringOptions &Opts) {
  auto M = std::make_unique<Module>(G.name(), Ctx);
  recordVectorUnit(*M, Opts.Vector ? *Opts.Vector : hostVectorUnit());
  SlotTable Slots = buildSlotTable(G);
  std::unique_ptr<NumericsChecker> Numerics;
  if (Opts.CheckNumerics)
    Numerics = std::make_unique<NumericsChecker>(*M, G, Opts.SourceName);
  EntryEmitter Emitter(G, *M, Slots, Numerics.get());
  EntryPoints E;

  // Eval mode: its own graph on the same slots when the modes differ.
  const Graph &EvalG = Opts.EvalGraph ? *Opts.EvalGraph : G;
  SlotTable EvalSlots;
  std::unique_ptr<NumericsChecker> EvalNumerics;
  std::optional<EntryEmitter> EvalEmitterStorage;
  if (Opts.EvalGraph) {
    if (Error Err = mapSlotTable(Slots, EvalG).moveInto(EvalSlots))
      return Err;
    if (Opts.CheckNumerics)
      EvalNumerics =
          std::make_unique<NumericsChecker>(*M, EvalG, Opts.SourceName);
    EvalEmitterStorage.emplace(EvalG, *M, EvalSlots, EvalNumerics.get());
  }
  EntryEmitter &EvalEmitter =
      EvalEmitterStorage ? *EvalEmitterStorage : Emitter;

  // The loss and metrics of graph `X` (the train- or eval-mode one).
  auto LossAndMetrics = [&](const Graph &X) {
    std::vector<EntryResult> R;
    if (X.Loss) {
      R.push_back({X.Loss, Slots.Loss});
      for (size_t I = 0; I < X.Metrics.size(); ++I)
        R.push_back({X.Metrics[I].Value, Slots.Metrics[I]});
    }
    return R;
  };
  if (G.Loss && !G.Updates.empty()) {
    std::vector<EntryResult> Train = LossAndMetrics(G);
    for (const Update &U : G.Updates) {
      auto It = Slots.LeafSlot.find(U.Target);
      if (It == Slots.LeafSlot.end())
        return createStringError("internal error: an update targets '%s', "
                                 "which is neither a param, state nor buffer",
                                 U.Target->Name.c_str());
      Train.push_back({U.NewValue, It->second, /*IsUpdate=*/true});
    }
    if (Error Err = Emitter
                        .emitEntry("nnc.train_step", Train, /*Given=*/{},
                                   /*ReportsNonFinite=*/true)
                        .moveInto(E.TrainStep))
      return Err;
  }
  if (EvalG.Loss)
    if (Error Err =
            EvalEmitter.emitEntry("nnc.eval_step", LossAndMetrics(EvalG))
                .moveInto(E.EvalStep))
      return Err;
  std::vector<EntryResult> Outputs;
  for (size_t I = 0; I < EvalG.Outputs.size(); ++I)
    Outputs.push_back({EvalG.Outputs[I].Value, Slots.Outputs[I]});
  if (Error Err =
          EvalEmitter.emitEntry("nnc.predict", Outputs).moveInto(E.Predict))
    return Err;
  if (G.Loss && !Slots.Grads.empty()) {
    std::vector<EntryResult> Grads{{G.Loss, Slots.Loss}};
    for (size_t I = 0; I < Slots.Grads.size(); ++I)
      Grads.push_back({G.Grads[I], Slots.Grads[I]});
    if (Error Err = Emitter.emitEntry("nnc.grad", Grads).moveInto(E.Grad))
      return Err;
  }
  if (E.TrainStep)
    if (Error Err = emitSplitTrainStep(G, Slots, Emitter, E))
      return Err;

  // The arena slot is f32[n]; the runtime allocates it 64-byte aligned.
  int64_t ArenaBytes = std::max(Emitter.arenaBytes(), EvalEmitter.arenaBytes());
  Slots.Slots[Slots.Temp].Type =
      TensorType(DType::F32, {std::max<int64_t>(ArenaBytes / 4, 16)});
  if (Opts.Stats)
    *Opts.Stats = Emitter.arenaStats();
  emitModelDesc(*M, G, Slots, Train, E);

  if (Opts.EmitMain) {
    Type *I32 = Type::getInt32Ty(Ctx), *Ptr = PointerType::getUnqual(Ctx);
    FunctionCallee NncMain = declareCallback(*M, rt::NncMain);
    Function *Main = Function::Create(FunctionType::get(I32, {I32, Ptr}, false),
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
