//===- FusedKernel.cpp - The function of a fused kernel -------------------===//
//
// Emits the function of a unit of several nodes (Fused.h), one kernel the
// `fuse` pass formed. It computes, in this order:
//
//   1. the anchor, if any (matmul, conv, reduce, softmax, ...), emitted by
//      its usual op-group emitter into its result buffer. For a reduction
//      anchor, every read of its operand is routed (KernelBuilder's
//      OperandLoader) through the *prologue*: the elementwise members that
//      produce the operand, evaluated on the fly at that element, so the
//      operand is never stored;
//   2. one loop nest over the anchor's result shape (or, without an anchor,
//      over the shape of the kernel's outputs) that evaluates every other
//      member as scalar SSA values — they live in registers — and stores
//      only the members read outside the kernel. This is the *epilogue*:
//      bias-add and activation after a product, or a parameter's whole
//      optimizer update after its gradient's product. It runs over the
//      anchor's output right after the anchor, while that output is hot in
//      cache; it is not applied per GEMM tile, because the tiled product
//      (Gemm.cpp) is a shared function of its own. The nest is a function
//      of its own over a range of its outermost index, so a large one
//      (2^16 elements or more) runs in pieces on the runtime's threads.
//      After a convolution (forward or input gradient), whose image n of
//      the result depends on image n of the input alone, the convolution
//      itself calls the nest over each image right after storing it
//      (`epilogueRunsPerImage`, KernelBuilder::ImageEpilogue): the image is
//      still in L2, where a pass over the whole batch afterwards read it back
//      from L3 or memory, and the epilogue needs no hand-off of its own.
//      When a stored member is the new value of a param, state or buffer,
//      the nest also tests every element it stores of it for NaN and
//      infinity, and each piece sets the entry's flag if one was
//      (NonFinite.h): the values are in registers, so the test reads no
//      memory.
//
// Indexing: each member is evaluated at a *map* from its dims to the loop
// nest's dims (-1: a broadcast dim, index 0), plus a constant shift per dim
// (a slice's offset). An operand's map follows from its user's by NumPy
// broadcasting (or by swapping for transpose, or by shifting the axis for
// slice), so a bias row read inside `x @ W + b`'s nest has stride 0 along
// the rows. Every buffer read becomes a stride vector over the nest and a
// base (the element read at the nest's origin); like single elementwise
// kernels (Elementwise.cpp), the nest then drops unit dims and merges dims
// contiguous in every buffer (StridedNest, Strides.h, shared by both), so
// same-shape chains are one unit-stride loop.
//
//===----------------------------------------------------------------------===//
#include "Fused.h"

#include "KernelBuilder.h"
#include "KernelDispatch.h"
#include "RuntimeCalls.h"
#include "Strides.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/SmallPtrSet.h>

#include <map>
#include <tuple>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

/// Where a value is read at a point of the loop nest: along its dim J, at
/// index `Shift[J]` plus the index of nest dim `Dim[J]` (-1: plus nothing).
struct Map {
  std::vector<int> Dim;
  std::vector<int64_t> Shift;

  bool operator<(const Map &O) const {
    return std::tie(Dim, Shift) < std::tie(O.Dim, O.Shift);
  }
};

Map identityMap(size_t Rank) {
  Map M{std::vector<int>(Rank), std::vector<int64_t>(Rank, 0)};
  for (size_t I = 0; I < Rank; ++I)
    M.Dim[I] = int(I);
  return M;
}

/// The map of operand `I` of member `Y`, evaluated at map `MY`.
Map operandMap(const Node &Y, unsigned I, const Map &MY) {
  const Node *Op = Y.operand(I);
  if (Y.Kind == OpKind::Transpose)
    return {{MY.Dim[1], MY.Dim[0]}, {MY.Shift[1], MY.Shift[0]}};
  if (Y.Kind == OpKind::Permute) {
    // Operand axis Perm[k] runs along result axis k.
    Map M = MY;
    for (unsigned K = 0; K < MY.Dim.size(); ++K) {
      M.Dim[permAxis(Y.A.Perm, K)] = MY.Dim[K];
      M.Shift[permAxis(Y.A.Perm, K)] = MY.Shift[K];
    }
    return M;
  }
  if (Y.Kind == OpKind::Slice) {
    Map M = MY;
    M.Shift[Y.A.Axis] += Y.A.Offset;
    return M;
  }
  size_t Rank = Op->dims().size();
  Map M{std::vector<int>(Rank, -1), std::vector<int64_t>(Rank, 0)};
  size_t Lead = Y.dims().size() - Rank;
  for (size_t J = 0; J < Rank; ++J)
    if (Op->dims()[J] != 1) {
      M.Dim[J] = MY.Dim[J + Lead];
      M.Shift[J] = MY.Shift[J + Lead];
    }
  return M;
}

/// A read of a buffer over the loop nest: element `Base + sum_d iv_d *
/// Strides[d]`.
struct Read {
  SmallVector<int64_t, 4> Strides;
  int64_t Base = 0;
};

/// How a nest of rank `Rank` reads `X` through `M`.
Read readOf(const Node *X, const Map &M, size_t Rank) {
  SmallVector<int64_t, 4> Own = contiguousStrides(X->dims());
  Read R{SmallVector<int64_t, 4>(Rank, 0), 0};
  for (size_t J = 0; J < M.Dim.size(); ++J) {
    if (M.Dim[J] >= 0)
      R.Strides[M.Dim[J]] += Own[J];
    R.Base += M.Shift[J] * Own[J];
  }
  return R;
}

/// Evaluates a set of elementwise members as scalar expressions. Values
/// outside the set are read from `Bufs` (or are immediates).
class ExprEmitter {
public:
  ExprEmitter(KernelBuilder &KB, const SmallPtrSetImpl<const Node *> &Computed,
              const DenseMap<const Node *, Value *> &Bufs, size_t Rank)
      : KB(KB), Computed(Computed), Bufs(Bufs), Rank(Rank) {}

  /// Phase 1: records every buffer read `X` at `M` needs.
  void collect(const Node *X, const Map &M) {
    if (isImmediate(X))
      return;
    if (!Computed.count(X)) {
      Reads.try_emplace({X, M}, unsigned(Reads.size()));
      return;
    }
    for (unsigned I = 0; I < X->Operands.size(); ++I)
      collect(X->operand(I), operandMap(*X, I, M));
  }

  /// Fixes the reads after phase 1; `strides(r)` and `base(r)` then say
  /// how read r walks its buffer over the nest.
  void finishReads() {
    ReadOf.assign(Reads.size(), {});
    for (const auto &[K, I] : Reads)
      ReadOf[I] = readOf(K.first, K.second, Rank);
  }
  unsigned numReads() const { return ReadOf.size(); }
  ArrayRef<int64_t> strides(unsigned R) const { return ReadOf[R].Strides; }
  int64_t base(unsigned R) const { return ReadOf[R].Base; }

  /// Phase 2: the value of `X` at `M`; `IndexOf(r)` is the element index of
  /// read r at the current point. Values are shared within one point.
  Value *eval(const Node *X, const Map &M,
              function_ref<Value *(unsigned)> IndexOf) {
    if (isImmediate(X))
      return KB.constOf(X->dtype(), X->scalarValue());
    auto Key = std::make_pair(X, M);
    auto It = Cache.find(Key);
    if (It != Cache.end())
      return It->second;
    Value *V;
    if (!Computed.count(X)) {
      V = KB.load(X->dtype(), Bufs.lookup(X), IndexOf(Reads.at(Key)));
    } else {
      SmallVector<Value *, 2> Args;
      for (unsigned I = 0; I < X->Operands.size(); ++I)
        Args.push_back(eval(X->operand(I), operandMap(*X, I, M), IndexOf));
      V = opClass(X->Kind) == OpClass::Shape ? Args[0]
                                             : emitScalarOp(KB, *X, Args);
    }
    Cache[Key] = V;
    return V;
  }
  /// Forgets the values of the previous point (element).
  void resetPoint() { Cache.clear(); }

private:
  using Key = std::pair<const Node *, Map>;
  KernelBuilder &KB;
  const SmallPtrSetImpl<const Node *> &Computed;
  const DenseMap<const Node *, Value *> &Bufs;
  size_t Rank;
  std::map<Key, unsigned> Reads;
  std::vector<Read> ReadOf;
  std::map<Key, Value *> Cache;
};

/// Step 2 of a fused kernel as a function: one loop nest over the shape of
/// the anchor's result (or of the first stored output) computing the
/// members in `Nested` and storing the outputs `Stored`, in
/// `<kernel>.epi(args..., i64 lo, i64 hi)` over outermost indices
/// [lo, hi) of the nest (`Outer` of them, `Count` elements in all; no
/// function when the nest is empty). `Bufs` and `OutPtr` are arguments of
/// KB's function. Each element is computed the same way whichever range it
/// is in. `Attrs` are the promises of KB's function, which the nest's
/// function makes too. `Flag` (an argument of KB's function, or null)
/// receives the test of the checked outputs (KernelUnit::Checked).
struct Epilogue {
  Function *Fn = nullptr;
  int64_t Outer = 0, Count = 0;
};

Epilogue emitEpilogueFunction(KernelBuilder &KB, const KernelAttrs &Attrs,
                              const KernelUnit &U,
                              const SmallPtrSetImpl<const Node *> &Nested,
                              const DenseMap<const Node *, Value *> &Bufs,
                              ArrayRef<Value *> OutPtr,
                              ArrayRef<unsigned> Stored, Value *Flag) {
  IRBuilder<> &B = KB.builder();
  Function *F = B.GetInsertBlock()->getParent();
  Module &M = *F->getParent();
  ArrayRef<int64_t> Dims = (U.Anchor ? U.Anchor : U.Outputs[Stored[0]])->dims();
  int64_t Count = 1;
  for (int64_t D : Dims)
    Count *= D;
  if (Count == 0)
    return {};
  Map Id = identityMap(Dims.size());

  // The nest, simplified; collecting reads emits no IR, so it can be done
  // here once for the shape and again inside the nest's function.
  auto Collect = [&](ExprEmitter &Epi) {
    for (unsigned I : Stored)
      Epi.collect(U.Outputs[I], Id);
    Epi.finishReads();
  };
  ExprEmitter Shape(KB, Nested, Bufs, Dims.size());
  Collect(Shape);
  StridedNest L;
  L.Dims.assign(Dims.begin(), Dims.end());
  L.Strides.push_back(contiguousStrides(Dims));
  for (unsigned R = 0; R < Shape.numReads(); ++R)
    L.Strides.push_back(SmallVector<int64_t, 4>(Shape.strides(R)));
  L.simplify();
  if (L.Dims.empty()) { // a single element
    L.Dims.push_back(1);
    for (auto &S : L.Strides)
      S.push_back(0);
  }
  int64_t Outer = L.Dims[0];

  // <kernel>.epi(args..., lo, hi). Not noinline: where it runs serially,
  // the kernel is its only caller.
  KernelAttrs EpiAttrs = Attrs;
  EpiAttrs.Trailing = {B.getInt64Ty(), B.getInt64Ty()};
  EpiAttrs.NoInline = false;
  Function *EF =
      createKernelFunction(M, F->getName() + ".epi", F->arg_size(), EpiAttrs);
  DenseMap<Value *, Value *> ArgOf;
  for (unsigned I = 0; I < F->arg_size(); ++I) {
    EF->getArg(I)->setName(F->getArg(I)->getName());
    ArgOf[F->getArg(I)] = EF->getArg(I);
  }
  {
    DenseMap<const Node *, Value *> EBufs;
    for (const auto &[N, V] : Bufs)
      EBufs[N] = ArgOf.lookup(V);
    SmallVector<Value *, 4> EOut;
    for (Value *V : OutPtr)
      EOut.push_back(ArgOf.lookup(V));
    KernelBuilder EKB(EF, KB.node(), nullptr, {});
    if (Flag && llvm::any_of(Stored, [&](unsigned I) { return U.checked(I); }))
      EKB.reportNonFiniteTo(ArgOf.lookup(Flag));
    ExprEmitter Epi(EKB, Nested, EBufs, Dims.size());
    Collect(Epi);
    Value *Lo = EF->getArg(F->arg_size()), *Hi = EF->getArg(F->arg_size() + 1);
    ArrayRef<int64_t> Inner = ArrayRef<int64_t>(L.Dims).drop_front();
    EKB.forLoop(Lo, Hi, [&](Value *I0) {
      EKB.forEach(Inner, [&](ArrayRef<Value *> Rest) {
        SmallVector<Value *, 4> IVs{I0};
        IVs.append(Rest.begin(), Rest.end());
        Epi.resetPoint();
        auto IndexOf = [&](unsigned R) {
          return linearIndex(EKB, IVs, L.Strides[1 + R], Epi.base(R));
        };
        // Every value first, then every store: an output written over an
        // input (in place) or over the anchor's result must not clobber an
        // element another output still reads at this point.
        SmallVector<Value *, 4> Values;
        for (unsigned I : Stored) {
          Values.push_back(Epi.eval(U.Outputs[I], Id, IndexOf));
          if (U.checked(I))
            EKB.noteStored(Values.back());
        }
        Value *OutIdx = linearIndex(EKB, IVs, L.Strides[0]);
        for (unsigned K = 0; K < Stored.size(); ++K)
          EKB.store(Values[K], EOut[Stored[K]], OutIdx);
      });
    });
    EKB.finish();
  }

  return {EF, Outer, Count};
}

/// Runs the epilogue over the whole nest: once, or in ParallelPieces
/// pieces through `nnc_parallel_for` for a large nest or after a product
/// whose blocks of rows ran on the threads (each thread then mostly
/// updates the rows it computed, in its own cache).
void callEpilogue(KernelBuilder &KB, const Epilogue &E, const Node *Anchor) {
  Function *F = KB.builder().GetInsertBlock()->getParent();
  SmallVector<Value *, 8> Args;
  for (Argument &A : F->args())
    Args.push_back(&A);
  bool RowsOnThreads = Anchor && Anchor->Kind == OpKind::MatMul &&
                       matMulRowsOnThreads(*Anchor, *F->getParent());
  emitRangeCall(KB, E.Fn, Args, E.Outer,
                E.Count >= ParallelElements || RowsOnThreads);
}

/// Whether the epilogue may run image by image inside the anchor, a
/// convolution whose image n of the result depends on image n of its
/// input alone: the nest's outermost index must cover whole images, no
/// member may read another index than the one it computes (transpose,
/// slice: another image may not be stored yet), and no output may be
/// stored over a buffer the convolution still reads for later images. A
/// large epilogue after a convolution that runs on one thread (a small
/// product with a wide output) stays a pass of its own, on the threads.
bool epilogueRunsPerImage(const KernelUnit &U,
                          const SmallPtrSetImpl<const Node *> &Nested,
                          const Epilogue &E) {
  const Node *A = U.Anchor;
  if (!E.Fn || !A || !runsPerImage(A->Kind))
    return false;
  int64_t Images = A->dims()[0];
  if (Images < 2 || E.Outer % Images != 0)
    return false;
  if (E.Count >= ParallelElements && !convRunsOnThreads(*A))
    return false;
  for (const Node *N : Nested)
    if (isIndexRemap(N->Kind) && N->Kind != OpKind::Broadcast)
      return false;
  for (int In : U.InPlace)
    if (In >= 0)
      for (unsigned I = 0; I < A->Operands.size(); ++I)
        if (U.Inputs[In] == kernelOperand(*A, I))
          return false;
  return true;
}

/// `<kernel>.epi.image(ptr ctx, i64 n0, i64 n1)`: the epilogue over images
/// [n0, n1), with the kernel's arguments from `ctx`; and that ctx, filled
/// in the kernel. The convolution calls it after each image it stores
/// (KernelBuilder::ImageEpilogue).
KernelBuilder::ImageHook imageEpilogue(KernelBuilder &KB, const Epilogue &E,
                                       int64_t Images) {
  IRBuilder<> &B = KB.builder();
  Function *F = B.GetInsertBlock()->getParent();
  // A task-shaped function (ctx, begin, end), though the convolution calls
  // it directly, image by image.
  Function *Thunk =
      createTaskFunction(*F->getParent(), E.Fn->getName() + ".image");
  {
    IRBuilder<> TB(BasicBlock::Create(B.getContext(), "entry", Thunk));
    SmallVector<Value *, 8> Args =
        loadTaskContext(TB, Thunk->getArg(0), F->arg_size());
    int64_t PerImage = E.Outer / Images;
    Args.push_back(TB.CreateMul(Thunk->getArg(1), TB.getInt64(PerImage)));
    Args.push_back(TB.CreateMul(Thunk->getArg(2), TB.getInt64(PerImage)));
    TB.CreateCall(E.Fn, Args);
    TB.CreateRetVoid();
  }
  SmallVector<Value *, 8> Fields;
  for (Argument &A : F->args())
    Fields.push_back(&A);
  AllocaInst *Ctx = KB.scratch(
      ArrayType::get(PointerType::getUnqual(B.getContext()), Fields.size()),
      "epi.ctx");
  storeTaskContext(B, Ctx, Fields);
  return {Thunk, Ctx};
}

} // namespace

Function *codegen::emitFusedKernel(Module &M, const KernelUnit &U,
                                   const std::string &Name) {
  // Outputs with a buffer of their own, then the inputs; inputs no output
  // is written over are read only. Then the non-finite flag, if any.
  unsigned NumOutArgs = llvm::count(U.InPlace, -1);
  KernelAttrs Attrs;
  for (unsigned I = 0; I < U.Inputs.size(); ++I)
    if (!llvm::is_contained(U.InPlace, int(I)))
      Attrs.ReadOnly.push_back(NumOutArgs + I);
  bool Reports = kernelReportsNonFinite(U);
  Function *F = createKernelFunction(
      M, Name, NumOutArgs + U.Inputs.size() + Reports, Attrs);
  // Buffers by node.
  DenseMap<const Node *, Value *> Bufs;
  SmallVector<Value *, 4> OutPtr(U.Outputs.size(), nullptr);
  unsigned Arg = 0;
  for (unsigned I = 0; I < U.Outputs.size(); ++I)
    if (U.InPlace[I] < 0) {
      OutPtr[I] = F->getArg(Arg++);
      OutPtr[I]->setName("out" + Twine(I));
    }
  for (unsigned I = 0; I < U.Inputs.size(); ++I) {
    Value *P = F->getArg(Arg++);
    P->setName("in" + Twine(I));
    Bufs[U.Inputs[I]] = P;
  }
  for (unsigned I = 0; I < U.Outputs.size(); ++I)
    if (U.InPlace[I] >= 0)
      OutPtr[I] = Bufs[U.Inputs[U.InPlace[I]]];
  Value *Flag = Reports ? F->getArg(Arg++) : nullptr;
  if (Flag)
    Flag->setName("nonfinite");

  const auto &Prologue = U.Prologue;
  SmallPtrSet<const Node *, 16> Nested;
  for (const Node *N : U.Members)
    if (N != U.Anchor && !Prologue.count(N))
      Nested.insert(N);

  // The KernelBuilder belongs to the anchor (or, without one, the first
  // output); the epilogue only uses its loop and memory helpers.
  const Node *Main = U.Anchor ? U.Anchor : U.Outputs[0];
  Value *MainOut = OutPtr[0];
  SmallVector<Value *, 2> MainIn;
  if (U.Anchor) {
    auto It = llvm::find(U.Outputs, U.Anchor);
    MainOut = It != U.Outputs.end() ? OutPtr[It - U.Outputs.begin()]
                                    : OutPtr[U.AnchorBuffer];
    Bufs[U.Anchor] = MainOut;
    for (unsigned I = 0; I < U.Anchor->Operands.size(); ++I) {
      const Node *X = kernelOperand(*U.Anchor, I);
      MainIn.push_back(isImmediate(U.Anchor->operand(I)) ||
                               Prologue.count(U.Anchor->operand(I))
                           ? nullptr
                           : Bufs.lookup(X));
    }
  }
  KernelBuilder KB(F, *Main, MainOut, MainIn);
  IRBuilder<> &B = KB.builder();
  if (U.Anchor) {
    auto It = llvm::find(U.Outputs, U.Anchor);
    if (It != U.Outputs.end() &&
        kernelChecksOutput(U, unsigned(It - U.Outputs.begin())))
      KB.reportNonFiniteTo(Flag);
  }

  // The outputs the epilogue stores (all but the anchor).
  SmallVector<unsigned, 4> Stored;
  for (unsigned I = 0; I < U.Outputs.size(); ++I)
    if (U.Outputs[I] != U.Anchor)
      Stored.push_back(I);
  Epilogue Epi;

  // 1. The anchor, reading its operand through the prologue.
  ExprEmitter Pro(
      KB, Prologue, Bufs,
      U.Anchor && !Prologue.empty() ? U.Anchor->operand(0)->dims().size() : 0);
  if (U.Anchor) {
    if (!Prologue.empty()) {
      const Node *Root = U.Anchor->operand(0);
      ArrayRef<int64_t> Dims = Root->dims();
      Pro.collect(Root, identityMap(Dims.size()));
      Pro.finishReads();
      SmallVector<int64_t, 4> Own = contiguousStrides(Dims);
      KB.OperandLoader = [&, Root, Dims, Own](unsigned I,
                                              Value *Flat) -> Value * {
        if (I != 0)
          return nullptr;
        // Coordinates from the flat index, only if some read needs them.
        SmallVector<Value *, 4> Coords;
        auto IndexOf = [&](unsigned R) -> Value * {
          ArrayRef<int64_t> S = Pro.strides(R);
          if (S == ArrayRef<int64_t>(Own) && Pro.base(R) == 0)
            return Flat;
          if (Coords.empty())
            for (size_t D = 0; D < Dims.size(); ++D)
              Coords.push_back(B.CreateURem(B.CreateUDiv(Flat, KB.i64(Own[D])),
                                            KB.i64(Dims[D])));
          return linearIndex(KB, Coords, S, Pro.base(R));
        };
        Pro.resetPoint();
        return Pro.eval(Root, identityMap(Dims.size()), IndexOf);
      };
    }
    // A convolution runs the epilogue image by image while the image is
    // in cache, instead of over the whole batch after it.
    if (!Stored.empty() && runsPerImage(U.Anchor->Kind)) {
      Epi = emitEpilogueFunction(KB, Attrs, U, Nested, Bufs, OutPtr, Stored,
                                 Flag);
      if (epilogueRunsPerImage(U, Nested, Epi))
        KB.ImageEpilogue = imageEpilogue(KB, Epi, U.Anchor->dims()[0]);
    }
    emitKernelBody(KB);
    KB.OperandLoader = nullptr;
    if (KB.ImageEpilogue.Fn) {
      KB.finish();
      return F;
    }
  }

  // 2. The loop nest over the other members.
  if (!Stored.empty() && !Epi.Fn)
    Epi =
        emitEpilogueFunction(KB, Attrs, U, Nested, Bufs, OutPtr, Stored, Flag);
  if (Epi.Fn)
    callEpilogue(KB, Epi, U.Anchor);
  KB.finish();
  return F;
}
