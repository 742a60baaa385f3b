//===- Library.cpp - A model as a dependency-free C inference library -----===//
//
// Algorithm (Library.h, docs/embedding.md):
//
//  1. Check the interface: at least one output, none that reads a target.
//  2. Lay out the slots of the eval-mode graph (Lowering.h) and emit its
//     `predict` entry point with the executable's EntryEmitter: the same
//     kernels as `EXE predict`, so the same bits.
//  3. Give every slot `predict` touches a home in the object: params and
//     buffers are private constants holding the weights; inputs and
//     outputs internal 64-byte-aligned copies, since the kernels assume
//     64-byte-aligned buffers and the caller's arrays may have any
//     alignment; the arena an internal zero-initialized global (.bss).
//  4. `int MODEL_predict(in..., out...)`: claim the busy flag (a call that
//     overlaps another returns 1 at once and writes nothing), copy the
//     inputs in, run `predict` on the slot array (hidden from the
//     optimizer, so that no weight is folded into the code: the kernels
//     round exactly as the executable's), copy the outputs out, release the
//     flag, return 0.
//  5. Define `nnc_parallel_for`, the one runtime function kernels call (for
//     big products), inside the object with internal linkage, as
//     `fn(ctx, 0, count)`: the tasks run one after another on the caller's
//     thread. Each task writes its own elements with the same arithmetic
//     whichever thread runs it, so the results are the executable's bit
//     for bit, and the object needs no runtime, no threads and no C++.
//  6. Check that no other function is left undefined (a runtime
//     callback); verify.
//
//===----------------------------------------------------------------------===//
#include "nnc/CodeGen/Library.h"

#include "EntryEmitter.h"
#include "Lowering.h"
#include "MemoryPlan.h"
#include "RuntimeCalls.h"

#include <llvm/ADT/DenseSet.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/InlineAsm.h>
#include <llvm/IR/Verifier.h>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

std::string nnc::librarySymbol(StringRef Model) {
  return (Model + "_predict").str();
}

std::optional<OutputTarget> nnc::outputNeedingTarget(const Graph &G) {
  for (const NamedValue &Out : G.Outputs) {
    DenseSet<const Node *> Seen;
    std::vector<const Node *> Work{Out.Value};
    while (!Work.empty()) {
      const Node *N = Work.back();
      Work.pop_back();
      if (!Seen.insert(N).second)
        continue;
      if (N->Kind == OpKind::Target)
        return OutputTarget{&Out, N};
      for (const Node *Op : N->Operands)
        Work.push_back(Op);
    }
  }
  return std::nullopt;
}

namespace {

/// A 64-byte-aligned global of `Bytes` (at least 4): a constant holding
/// `Bits` when given, else zero-initialized scratch.
GlobalVariable *bufferGlobal(Module &M, const SlotInfo &S, int64_t Bytes,
                             const std::vector<uint32_t> *Bits,
                             const Twine &Name) {
  LLVMContext &Ctx = M.getContext();
  Constant *Init;
  if (Bits) {
    Init = S.Type.Elem == DType::F32
               ? ConstantDataArray::getFP(Type::getFloatTy(Ctx), *Bits)
               : ConstantDataArray::get(Ctx, ArrayRef<uint32_t>(*Bits));
  } else {
    auto *Ty = ArrayType::get(Type::getInt8Ty(Ctx),
                              uint64_t(std::max<int64_t>(Bytes, 4)));
    Init = ConstantAggregateZero::get(Ty);
  }
  // Weights are constants (.rodata) with no symbol; the copies and the
  // arena are written, so internal (.bss, a local symbol at most).
  auto *GV = new GlobalVariable(
      M, Init->getType(), /*isConstant=*/Bits != nullptr,
      Bits ? GlobalValue::PrivateLinkage : GlobalValue::InternalLinkage, Init,
      Name);
  GV->setAlignment(Align(BufferAlignment));
  return GV;
}

/// Step 5: `nnc_parallel_for(fn, ctx, count)` as a serial call of
/// `fn(ctx, 0, count)`, when a kernel declared it.
void defineSerialParallelFor(Module &M) {
  Function *F = M.getFunction(rt::ParallelFor.Name);
  if (!F)
    return;
  F->setLinkage(GlobalValue::InternalLinkage);
  F->addFnAttr(Attribute::NoUnwind);
  LLVMContext &Ctx = M.getContext();
  auto *Entry = BasicBlock::Create(Ctx, "entry", F);
  auto *Run = BasicBlock::Create(Ctx, "run", F);
  auto *Done = BasicBlock::Create(Ctx, "done", F);
  IRBuilder<> B(Entry);
  Value *Fn = F->getArg(0), *TaskCtx = F->getArg(1), *Count = F->getArg(2);
  // The runtime runs nothing for count <= 0; so does this.
  B.CreateCondBr(B.CreateICmpSGT(Count, B.getInt64(0)), Run, Done);
  B.SetInsertPoint(Run);
  auto *TaskTy = cast<FunctionType>(
      codegen::detail::IRType<std::remove_pointer_t<nnc_task_fn>>::get(Ctx));
  B.CreateCall(TaskTy, Fn, {TaskCtx, B.getInt64(0), Count});
  B.CreateBr(Done);
  B.SetInsertPoint(Done);
  B.CreateRetVoid();
}

/// Step 6: a function the object would leave for another to define. Every
/// kernel is defined in the module, and the math the kernels use is LLVM
/// intrinsics (which become libm or libc calls, or instructions), so any
/// other declaration is a runtime callback the library cannot have.
Function *undefinedFunction(Module &M) {
  for (Function &F : M)
    if (F.isDeclaration() && !F.isIntrinsic())
      return &F;
  return nullptr;
}

/// Bytes of the module's writable globals: the copies, the arena, the
/// kernels' own scratch (GEMM panels, unfolded images) and the busy flag.
int64_t staticBytes(const Module &M) {
  const DataLayout &DL = M.getDataLayout();
  int64_t Bytes = 0;
  for (const GlobalVariable &GV : M.globals())
    if (!GV.isConstant())
      Bytes += int64_t(DL.getTypeAllocSize(GV.getValueType()));
  return Bytes;
}

} // namespace

Expected<LibraryModule> nnc::lowerLibrary(StringRef Model, const Graph &G,
                                          const LibraryWeights &Weights,
                                          LLVMContext &Ctx,
                                          const LibraryOptions &Opts) {
  // Step 1.
  if (G.Outputs.empty())
    return createStringError("model '%s' has no outputs: an inference "
                             "library computes the model's `output`s",
                             Model.str().c_str());
  if (std::optional<OutputTarget> T = outputNeedingTarget(G))
    return createStringError(
        "output '%s' of model '%s' needs target '%s': an inference library "
        "takes only the model's inputs",
        T->Output->Name.c_str(), Model.str().c_str(), T->Target->Name.c_str());

  // Step 2.
  auto M = std::make_unique<Module>(Model, Ctx);
  recordVectorUnit(*M, Opts.Vector ? *Opts.Vector : hostVectorUnit());
  SlotTable Slots = buildSlotTable(G);
  EntryEmitter Emitter(G, *M, Slots, /*Numerics=*/nullptr);
  std::vector<EntryResult> Results;
  for (size_t I = 0; I < G.Outputs.size(); ++I)
    Results.push_back({G.Outputs[I].Value, Slots.Outputs[I]});
  Expected<Function *> Predict = Emitter.emitEntry("nnc.predict", Results);
  if (!Predict)
    return Predict.takeError();

  // Step 3: the slot array; slots predict never touches stay null.
  LibraryModule Lib;
  Type *Ptr = PointerType::getUnqual(Ctx);
  std::vector<Constant *> SlotPtrs(
      Slots.Slots.size(), ConstantPointerNull::get(cast<PointerType>(Ptr)));
  std::vector<GlobalVariable *> Inputs, Outputs;
  for (unsigned I = 0; I < Slots.Slots.size(); ++I) {
    const SlotInfo &S = Slots.Slots[I];
    int64_t Bytes = S.Type.numElements() * 4;
    switch (S.Role) {
    case NNC_SLOT_PARAM:
    case NNC_SLOT_BUFFER: {
      auto It = Weights.find(S.Name);
      if (It == Weights.end() || int64_t(It->second.size()) * 4 != Bytes)
        return createStringError("no weights of %lld elements for '%s'",
                                 (long long)S.Type.numElements(),
                                 S.Name.c_str());
      SlotPtrs[I] =
          bufferGlobal(*M, S, Bytes, &It->second, "weights." + S.Name);
      break;
    }
    case NNC_SLOT_INPUT:
      Inputs.push_back(bufferGlobal(*M, S, Bytes, nullptr, "input." + S.Name));
      SlotPtrs[I] = Inputs.back();
      break;
    case NNC_SLOT_OUTPUT:
      Outputs.push_back(
          bufferGlobal(*M, S, Bytes, nullptr, "output." + S.Name));
      SlotPtrs[I] = Outputs.back();
      break;
    case NNC_SLOT_TEMP:
      SlotPtrs[I] = bufferGlobal(*M, S, Emitter.arenaBytes(), nullptr, "arena");
      break;
    case NNC_SLOT_STATE:
    case NNC_SLOT_HYPER:
    case NNC_SLOT_TARGET:
    case NNC_SLOT_LOSS:
    case NNC_SLOT_METRIC:
    case NNC_SLOT_GRAD:
      break; // predict reads none of these (step 1 ruled out targets)
    }
  }
  auto *SlotArrayTy = ArrayType::get(Ptr, SlotPtrs.size());
  auto *SlotArray = new GlobalVariable(
      *M, SlotArrayTy, /*isConstant=*/true, GlobalValue::PrivateLinkage,
      ConstantArray::get(SlotArrayTy, SlotPtrs), "slots");

  // Step 4.
  Type *I32 = Type::getInt32Ty(Ctx);
  std::vector<Type *> Params(Inputs.size() + Outputs.size(), Ptr);
  Function *F =
      Function::Create(FunctionType::get(I32, Params, false),
                       GlobalValue::ExternalLinkage, librarySymbol(Model), *M);
  F->addFnAttr(Attribute::NoUnwind);
  for (unsigned I = 0; I < Params.size(); ++I) {
    F->addParamAttr(I, Attribute::NoCapture);
    F->addParamAttr(I, I < Inputs.size() ? Attribute::ReadOnly
                                         : Attribute::WriteOnly);
    F->getArg(I)->setName(I < Inputs.size()
                              ? G.Inputs[I]->Name
                              : G.Outputs[I - Inputs.size()].Name);
  }
  auto *Busy = new GlobalVariable(*M, I32, /*isConstant=*/false,
                                  GlobalValue::InternalLinkage,
                                  ConstantInt::get(I32, 0), "busy");
  IRBuilder<> B(BasicBlock::Create(Ctx, "entry", F));
  auto *Run = BasicBlock::Create(Ctx, "run", F);
  auto *Refuse = BasicBlock::Create(Ctx, "busy", F);
  Value *Was =
      B.CreateAtomicRMW(AtomicRMWInst::Xchg, Busy, ConstantInt::get(I32, 1),
                        Align(4), AtomicOrdering::Acquire);
  B.CreateCondBr(B.CreateICmpEQ(Was, ConstantInt::get(I32, 0)), Run, Refuse);
  B.SetInsertPoint(Refuse);
  B.CreateRet(ConstantInt::get(I32, 1));
  B.SetInsertPoint(Run);
  auto Bytes = [](const Node *N) { return N->Type.numElements() * 4; };
  for (unsigned I = 0; I < Inputs.size(); ++I)
    B.CreateMemCpy(Inputs[I], Align(BufferAlignment), F->getArg(I), Align(1),
                   Bytes(G.Inputs[I]));
  // The slot array passes through an empty asm statement, so that the
  // optimizer cannot see which weights `predict` reads: folding constant
  // weights into the kernels would round differently from the executable
  // (a folded `w * s` loses the FMA the kernel computes `w * s + b` with).
  Value *Opaque = B.CreateCall(
      InlineAsm::get(FunctionType::get(Ptr, {Ptr}, false), "", "=r,0",
                     /*hasSideEffects=*/false),
      {SlotArray}, "slots");
  B.CreateCall(*Predict, {Opaque});
  for (unsigned I = 0; I < Outputs.size(); ++I)
    B.CreateMemCpy(F->getArg(Inputs.size() + I), Align(1), Outputs[I],
                   Align(BufferAlignment), Bytes(G.Outputs[I].Value));
  B.CreateAlignedStore(ConstantInt::get(I32, 0), Busy, Align(4))
      ->setAtomic(AtomicOrdering::Release);
  B.CreateRet(ConstantInt::get(I32, 0));

  // Steps 5-6.
  defineSerialParallelFor(*M);
  if (Function *Ref = undefinedFunction(*M))
    return createStringError("internal error: the library of model '%s' "
                             "calls '%s', which it does not define",
                             Model.str().c_str(), Ref->getName().str().c_str());
  std::string Broken;
  raw_string_ostream OS(Broken);
  if (verifyModule(*M, &OS))
    return createStringError("internal error: invalid LLVM IR for the "
                             "library of model '%s':\n%s",
                             Model.str().c_str(), Broken.c_str());
  Lib.StaticBytes = staticBytes(*M);
  Lib.M = std::move(M);
  return Lib;
}
