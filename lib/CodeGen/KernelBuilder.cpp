//===- KernelBuilder.cpp - Emitting the loops of one node's kernel --------===//
//
// The loop and memory helpers every op group uses. Loops are emitted in the
// canonical shape LLVM's loop passes expect (preheader, a header with the
// induction phi, a single latch, a dedicated exit) so that the vectorizer
// and unroller recognize them without help, and trip counts stay constants
// whenever the shape is static.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

#include "MemoryPlan.h"
#include "NonFinite.h"
#include "RuntimeCalls.h"

#include <llvm/IR/Intrinsics.h>

#include <algorithm>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

KernelBuilder::KernelBuilder(Function *F, const Node &N, bool ReportsNonFinite)
    : F(F), N(N), B(F->getContext()) {
  Entry = BasicBlock::Create(F->getContext(), "entry", F);
  B.SetInsertPoint(Entry);
  FastMathFlags FMF;
  FMF.setAllowContract();
  B.setFastMathFlags(FMF);
  auto Arg = F->arg_begin();
  Out = &*Arg++;
  Out->setName("out");
  In.assign(N.Operands.size(), nullptr);
  for (unsigned I = 0; I < N.Operands.size(); ++I) {
    if (isImmediate(N.operand(I)))
      continue;
    In[I] = &*Arg++;
    In[I]->setName("in" + Twine(I));
  }
  if (ReportsNonFinite) {
    Arg->setName("nonfinite");
    reportNonFiniteTo(&*Arg++);
  }
  assert(Arg == F->arg_end() && "kernel signature does not match the node");
}

KernelBuilder::KernelBuilder(Function *F, const Node &N, Value *OutPtr,
                             ArrayRef<Value *> InPtrs)
    : F(F), N(N), B(F->getContext()) {
  Entry = BasicBlock::Create(F->getContext(), "entry", F);
  B.SetInsertPoint(Entry);
  FastMathFlags FMF;
  FMF.setAllowContract();
  B.setFastMathFlags(FMF);
  Out = OutPtr;
  In.assign(InPtrs.begin(), InPtrs.end());
  In.resize(N.Operands.size(), nullptr);
}

KernelBuilder::~KernelBuilder() = default;

void KernelBuilder::finish() {
  if (NonFinite)
    NonFinite->report(B, NonFiniteFlag);
  B.CreateRetVoid();
}

void KernelBuilder::reportNonFiniteTo(Value *Flag) {
  NonFiniteFlag = Flag;
  NonFinite = std::make_unique<NonFiniteAccumulator>(*Entry);
}

void KernelBuilder::noteStored(Value *V) {
  if (NonFinite)
    NonFinite->note(B, V);
}

Value *codegen::staticBuffer(Module &M, int64_t Floats, const Twine &Name) {
  auto *Ty = ArrayType::get(Type::getFloatTy(M.getContext()), Floats);
  auto *G = new GlobalVariable(M, Ty, /*isConstant=*/false,
                               GlobalValue::InternalLinkage,
                               Constant::getNullValue(Ty), Name);
  G->setAlignment(Align(64));
  return G;
}

Function *codegen::createKernelFunction(Module &M, const Twine &Name,
                                        unsigned NumPtrs,
                                        const KernelAttrs &Attrs) {
  LLVMContext &Ctx = M.getContext();
  SmallVector<Type *, 8> Params(NumPtrs, PointerType::getUnqual(Ctx));
  Params.append(Attrs.Trailing.begin(), Attrs.Trailing.end());
  Function *F =
      Function::Create(FunctionType::get(Type::getVoidTy(Ctx), Params, false),
                       GlobalValue::InternalLinkage, Name, M);
  // Nothing compares kernel addresses: a kernel identical to another may
  // be replaced by it (mergeIdenticalFunctions, Target.h).
  F->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
  F->addFnAttr(Attribute::NoUnwind);
  if (Attrs.NoInline)
    F->addFnAttr(Attribute::NoInline);
  if (Attrs.MustProgress)
    F->addFnAttr(Attribute::MustProgress);
  for (unsigned I = 0; I < NumPtrs; ++I) {
    F->addParamAttr(I, Attribute::NoCapture);
    if (Attrs.NoAlias)
      F->addParamAttr(I, Attribute::NoAlias);
    if (Attrs.Pointers != KernelAttrs::Unknown)
      F->addParamAttr(I, Attribute::NonNull);
    if (Attrs.Pointers == KernelAttrs::WholeBuffer) {
      F->addParamAttr(I, Attribute::NoUndef);
      F->addParamAttr(I,
                      Attribute::getWithAlignment(Ctx, Align(BufferAlignment)));
    }
  }
  for (unsigned I : Attrs.ReadOnly)
    F->addParamAttr(I, Attribute::ReadOnly);
  return F;
}

void codegen::callSharedCopy(
    KernelBuilder &KB, const Twine &Name, Value *Dst, Value *Src,
    function_ref<void(KernelBuilder &, Value *Dst, Value *Src)> Body) {
  Module &M = *KB.builder().GetInsertBlock()->getModule();
  std::string Key = Name.str();
  Function *F = M.getFunction(Key);
  if (!F) {
    F = createKernelFunction(
        M, Key, 2, {.ReadOnly = {1}, .Pointers = KernelAttrs::NonNull});
    F->getArg(0)->setName("dst");
    F->getArg(1)->setName("src");
    KernelBuilder CKB(F, KB.node(), F->getArg(0), {F->getArg(1)});
    Body(CKB, F->getArg(0), F->getArg(1));
    CKB.finish();
  }
  KB.builder().CreateCall(F, {Dst, Src});
}

Type *KernelBuilder::elemType(DType T) {
  switch (T) {
  case DType::F32:
    return B.getFloatTy();
  case DType::I32:
    return B.getInt32Ty();
  }
  llvm_unreachable("unknown dtype");
}

Constant *KernelBuilder::f32(double V) {
  return ConstantFP::get(B.getFloatTy(), V);
}

Constant *KernelBuilder::constOf(DType T, double V) {
  if (T == DType::F32)
    return f32(V);
  return B.getInt32(int32_t(V));
}

Value *KernelBuilder::load(DType T, Value *Ptr, Value *Idx) {
  Type *Ty = elemType(T);
  return B.CreateLoad(Ty, B.CreateInBoundsGEP(Ty, Ptr, Idx));
}

void KernelBuilder::store(Value *V, Value *Ptr, Value *Idx) {
  B.CreateStore(V, B.CreateInBoundsGEP(V->getType(), Ptr, Idx));
}

Value *KernelBuilder::loadOperand(unsigned I, Value *Idx) {
  if (OperandLoader)
    if (Value *V = OperandLoader(I, Idx))
      return V;
  const Node *Op = N.operand(I);
  if (isImmediate(Op))
    return constOf(Op->dtype(), Op->scalarValue());
  return load(Op->dtype(), In[I], Idx);
}

void codegen::emitRangeCall(KernelBuilder &KB, Function *RangeFn,
                            ArrayRef<Value *> Ptrs, int64_t Count,
                            bool Parallel, int64_t MaxPieces) {
  IRBuilder<> &B = KB.builder();
  SmallVector<Value *, 8> Args(Ptrs.begin(), Ptrs.end());
  int64_t Pieces = std::min(MaxPieces, Count);
  if (!Parallel || Pieces < 2) {
    Args.append({KB.i64(0), KB.i64(Count)});
    B.CreateCall(RangeFn, Args);
    return;
  }
  int64_t Per = (Count + Pieces - 1) / Pieces;
  Pieces = (Count + Per - 1) / Per;
  Module &M = *RangeFn->getParent();
  LLVMContext &Ctx = M.getContext();
  Type *Ptr = PointerType::getUnqual(Ctx);
  // Pieces [begin, end) of the task are indices
  // [begin * Per, min(end * Per, Count)).
  Function *Task = createTaskFunction(M, RangeFn->getName() + ".task");
  {
    IRBuilder<> TB(BasicBlock::Create(Ctx, "entry", Task));
    SmallVector<Value *, 8> TArgs =
        loadTaskContext(TB, Task->getArg(0), Ptrs.size());
    Value *Hi = TB.CreateMul(Task->getArg(2), TB.getInt64(Per));
    TArgs.push_back(TB.CreateMul(Task->getArg(1), TB.getInt64(Per)));
    TArgs.push_back(TB.CreateSelect(TB.CreateICmpSLT(Hi, TB.getInt64(Count)),
                                    Hi, TB.getInt64(Count)));
    TB.CreateCall(RangeFn, TArgs);
    TB.CreateRetVoid();
  }
  AllocaInst *TaskCtx = KB.scratch(ArrayType::get(Ptr, Ptrs.size()), "ctx");
  storeTaskContext(B, TaskCtx, Ptrs);
  B.CreateCall(declareCallback(M, rt::ParallelFor),
               {Task, TaskCtx, KB.i64(Pieces)});
}

void codegen::emitOverRange(
    KernelBuilder &KB, const Twine &Suffix, int64_t Count, int64_t Elements,
    function_ref<void(KernelBuilder &, Value *Lo, Value *Hi)> Body) {
  if (Elements < ParallelElements || KB.OperandLoader || Count < 2)
    return Body(KB, KB.i64(0), KB.i64(Count));
  IRBuilder<> &B = KB.builder();
  Function *Kernel = B.GetInsertBlock()->getParent();
  unsigned NumOperands = KB.node().Operands.size();
  SmallVector<Value *, 4> Bufs{KB.out()};
  for (unsigned I = 0; I < NumOperands; ++I)
    if (KB.in(I))
      Bufs.push_back(KB.in(I));
  Value *Flag = KB.nonFiniteFlag();
  if (Flag)
    Bufs.push_back(Flag);
  Function *RF = createKernelFunction(
      *Kernel->getParent(), Kernel->getName() + "." + Suffix, Bufs.size(),
      {.Trailing = {B.getInt64Ty(), B.getInt64Ty()},
       .NoInline = false,
       .MustProgress = false,
       .Pointers = KernelAttrs::Unknown});
  {
    SmallVector<Value *, 4> In;
    unsigned Arg = 1;
    for (unsigned I = 0; I < NumOperands; ++I)
      In.push_back(KB.in(I) ? RF->getArg(Arg++) : nullptr);
    KernelBuilder RKB(RF, KB.node(), RF->getArg(0), In);
    if (Flag)
      RKB.reportNonFiniteTo(RF->getArg(Bufs.size() - 1));
    Body(RKB, RF->getArg(Bufs.size()), RF->getArg(Bufs.size() + 1));
    RKB.finish();
  }
  emitRangeCall(KB, RF, Bufs, Count, /*Parallel=*/true);
}

void codegen::emitCountedLoop(IRBuilder<> &B, Value *Lo, Value *Hi,
                              function_ref<void(Value *)> Body,
                              const Twine &Name, const LoopHints &Hints) {
  auto *CLo = dyn_cast<ConstantInt>(Lo);
  auto *CHi = dyn_cast<ConstantInt>(Hi);
  bool Static = CLo && CHi;
  if (Static && CLo->getSExtValue() >= CHi->getSExtValue())
    return; // an empty loop: nothing to emit
  LLVMContext &Ctx = B.getContext();
  Function *F = B.GetInsertBlock()->getParent();
  BasicBlock *Pre = B.GetInsertBlock();
  BasicBlock *Header = BasicBlock::Create(Ctx, Name, F);
  BasicBlock *Exit = BasicBlock::Create(Ctx, Name + ".exit", F);
  if (Static)
    B.CreateBr(Header);
  else
    B.CreateCondBr(B.CreateICmpSLT(Lo, Hi), Header, Exit);
  B.SetInsertPoint(Header);
  PHINode *IV = B.CreatePHI(B.getInt64Ty(), 2, Name + ".iv");
  IV->addIncoming(Lo, Pre);
  Body(IV);
  Value *Next = B.CreateAdd(IV, B.getInt64(1), Name + ".next",
                            /*HasNUW=*/true, /*HasNSW=*/true);
  BranchInst *Latch = B.CreateCondBr(B.CreateICmpSLT(Next, Hi), Header, Exit);
  if (MDNode *Loop = loopMetadata(Ctx, Hints))
    Latch->setMetadata(LLVMContext::MD_loop, Loop);
  IV->addIncoming(Next, B.GetInsertBlock());
  B.SetInsertPoint(Exit);
}

void codegen::forLoopUnrolled(KernelBuilder &KB, Value *Lo, Value *Hi,
                              int64_t Factor,
                              function_ref<void(Value *)> Body) {
  assert(Factor >= 1 && "unroll factor below one");
  IRBuilder<> &B = KB.builder();
  constexpr LoopHints Scalar = {.Vectorize = false};
  auto *CLo = dyn_cast<ConstantInt>(Lo);
  auto *CHi = dyn_cast<ConstantInt>(Hi);
  if (CLo && CHi) {
    int64_t L = CLo->getSExtValue(), H = CHi->getSExtValue();
    int64_t Groups = std::max<int64_t>(H - L, 0) / Factor;
    forLoopWithHints(KB, KB.i64(0), KB.i64(Groups), Scalar, [&](Value *G) {
      Value *Base = B.CreateAdd(KB.i64(L), B.CreateMul(G, KB.i64(Factor)));
      for (int64_t K = 0; K < Factor; ++K)
        Body(B.CreateAdd(Base, KB.i64(K)));
    });
    for (int64_t I = L + Groups * Factor; I < H; ++I)
      Body(KB.i64(I));
    return;
  }
  Value *Count = B.CreateSub(Hi, Lo);
  Count = B.CreateSelect(B.CreateICmpSGT(Count, KB.i64(0)), Count, KB.i64(0));
  Value *Groups = B.CreateUDiv(Count, KB.i64(Factor));
  forLoopWithHints(KB, KB.i64(0), Groups, Scalar, [&](Value *G) {
    Value *Base = B.CreateAdd(Lo, B.CreateMul(G, KB.i64(Factor)));
    for (int64_t K = 0; K < Factor; ++K)
      Body(B.CreateAdd(Base, KB.i64(K)));
  });
  Value *Rest = B.CreateAdd(Lo, B.CreateMul(Groups, KB.i64(Factor)));
  forLoopWithHints(KB, Rest, Hi, Scalar, Body);
}

void KernelBuilder::forEach(ArrayRef<int64_t> Dims,
                            function_ref<void(ArrayRef<Value *>)> Body) {
  SmallVector<Value *, 4> IVs;
  // Recursion over the dims, outermost first.
  std::function<void(unsigned)> Level = [&](unsigned D) {
    if (D == Dims.size()) {
      Body(IVs);
      return;
    }
    forRange(Dims[D], [&](Value *IV) {
      IVs.push_back(IV);
      Level(D + 1);
      IVs.pop_back();
    });
  };
  Level(0);
}

AllocaInst *KernelBuilder::scratch(Type *T, const Twine &Name) {
  IRBuilder<> EB(Entry, Entry->begin());
  return EB.CreateAlloca(T, nullptr, Name);
}

void KernelBuilder::fillOut(Value *V, int64_t Count) {
  forRange(Count, [&](Value *I) { store(V, Out, I); });
}

Value *KernelBuilder::add(DType T, Value *A, Value *Bv, bool Reassoc) {
  if (T == DType::I32)
    return B.CreateAdd(A, Bv);
  Value *R = B.CreateFAdd(A, Bv);
  auto *I = dyn_cast<Instruction>(R);
  if (Reassoc && I) {
    FastMathFlags FMF = B.getFastMathFlags();
    FMF.setAllowReassoc();
    I->setFastMathFlags(FMF);
  }
  return R;
}

Value *KernelBuilder::mul(DType T, Value *A, Value *Bv) {
  return T == DType::I32 ? B.CreateMul(A, Bv) : B.CreateFMul(A, Bv);
}

Value *KernelBuilder::greater(DType T, Value *A, Value *Bv) {
  return T == DType::I32 ? B.CreateICmpSGT(A, Bv) : B.CreateFCmpOGT(A, Bv);
}

Value *KernelBuilder::intrinsic(Intrinsic::ID ID, Value *X) {
  return B.CreateUnaryIntrinsic(ID, X);
}

MDNode *codegen::loopMetadata(LLVMContext &Ctx, const LoopHints &Hints) {
  if (Hints.Vectorize && Hints.Unroll)
    return nullptr;
  auto Attr = [&](StringRef Name) {
    return MDNode::get(Ctx, {MDString::get(Ctx, Name)});
  };
  SmallVector<Metadata *, 4> Ops = {nullptr};
  if (!Hints.Vectorize)
    Ops.push_back(MDNode::get(
        Ctx, {MDString::get(Ctx, "llvm.loop.vectorize.enable"),
              ConstantAsMetadata::get(ConstantInt::getFalse(Ctx))}));
  if (!Hints.Unroll)
    Ops.push_back(Attr("llvm.loop.unroll.disable"));
  if (!Hints.Unroll && Hints.Vectorize) {
    // Once vectorized, the vector loop stays rolled, but the scalar
    // remainder (fewer iterations than one vector step covers) gets what
    // LLVM gives it by default: unrolled whole when its trip count is a
    // constant, so a 49-long row's last 17 elements are not a scalar loop.
    Ops.push_back(
        MDNode::get(Ctx, {MDString::get(Ctx, "llvm.loop.vectorize.followup_"
                                             "vectorized"),
                          Attr("llvm.loop.unroll.disable")}));
    Ops.push_back(MDNode::get(
        Ctx, {MDString::get(Ctx, "llvm.loop.vectorize.followup_epilogue"),
              MDNode::get(Ctx, {MDString::get(Ctx, "llvm.loop.isvectorized"),
                                ConstantAsMetadata::get(ConstantInt::get(
                                    Type::getInt32Ty(Ctx), 1))}),
              Attr("llvm.loop.unroll.runtime.disable")}));
  }
  MDNode *Loop = MDNode::getDistinct(Ctx, Ops);
  Loop->replaceOperandWith(0, Loop);
  return Loop;
}
