//===- Conv.cpp - Convolution kernels (NCHW) ------------------------------===//
//
// conv2d(x : [N,C,H,W], w : [K,C,R,S]) -> y : [N,K,OH,OW] and its two
// gradients run as per-image matrix products on the shared register-tiled
// GEMM (Gemm.h) and row dot products (DotTile.h), with P = OH*OW output
// pixels and CRS = C*R*S weights per output channel. Most read the image
// in place as an *implicit* unfolded matrix (ImplicitConv.h): its row
// (c,r,s) is a run of the image's padded, phase-split layout, found by a
// row table, on virtual output rows a little wider than OW.
//
//  1. forward, one of two ways (`usePixelRows`):
//     a. pixels as rows, K at least two vectors:
//                   yT = rows(layout(x[n]))^T * w^T     [P,CRS] x [CRS,K]
//                   (A through a row table over the real pixels and a
//                   column table over (c,r,s)), then y[n] = yT^T
//     b. otherwise: y[n] = w * rows(layout(x[n]))        [K,CRS] x [CRS,P']
//                   then compacted from virtual rows
//  2. input grad, stride 1: the forward of step 1 on dy, from K to C
//                   channels, with the flipped weights wf[c][k][R-1-r][S-1-s]
//                   and padding R-1-pad;
//     other strides: col = w^T * dy[n]                    [CRS,K] x [K,P]
//                   dx[n] = col2im(col)
//  3. weight grad, one of three ways (`useRowDots`, `useImplicitGemm`):
//     a. GEMM:      colT = im2col(x[n])^T                  [P, CRS]
//                   part[chunk] += dy[n] * colT  [K,P] x [P,CRS]
//                   dw = sum of part[chunk] over chunks, in chunk order
//     b. row dots:  lanes[chunk][k][crs] (+)= dy'[n][k] . rows(layout(x[n]))
//                     [crs], as VW lane partials along the virtual pixels
//                     (dy' is dy on virtual rows, zeros in the gaps)
//                   dw[k][crs] = lane sum of (sum of lanes[chunk][k][crs]
//                     over chunks, in chunk order), lanes in a fixed order
//     c. implicit GEMM: partT[chunk] += rows(layout(x[n])) * dy'[n]^T
//                     [CRS,P'] x [P',K], the rows by A's row table
//                   dw = transposed sum of partT[chunk], in chunk order
//
// The implicit products copy the padded image (C*H*W floats, none with
// stride 1 and no padding) where im2col copied C*R*S*OH*OW: on 3x3
// convolutions with 16 channels at 28x28 the forward went from 48 to 73
// GFLOP/s on one Zen 3 core. Path 3a unfolds into the transposed layout
// so that the product reads both operands row-major, in place; that
// unfolding is scalar stores with stride CRS, several times slower per
// element than a copy. Path 3b needs no unfolding: it wins with few output
// channels, the GEMM's reuse of each loaded vector with many (`useRowDots`
// has the measured thresholds). The first image of a chunk overwrites the
// chunk's lane partials (`Fresh`), so they need no clearing. Path 3c reads
// the image in place too, as the GEMM's A with the CRS weights as its
// rows and K as its columns; it pays where the virtual rows add few
// pixels and K fills the panels (`useImplicitGemm`).
//
// The batch is cut into a compile-time number of chunks of consecutive
// images; each chunk owns a slice of static scratch buffers (no allocation
// per step) and big convolutions run the chunks on the runtime's threads
// (`nnc_parallel_for`). Every output element is computed by one chunk in a
// fixed order, and the weight-gradient partials are summed in chunk order,
// so results do not depend on the thread count.
//
// Pools are in Pool.cpp.
//
//===----------------------------------------------------------------------===//
#include "DotTile.h"
#include "Gemm.h"
#include "Im2Col.h"
#include "ImplicitConv.h"
#include "RuntimeCalls.h"
#include "Strides.h"
#include "Transpose.h"

#include "nnc/CodeGen/Target.h"

#include <algorithm>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

/// Most chunks a batch is cut into: enough to balance a few threads.
constexpr int64_t MaxChunks = 8;
/// Scratch floats (all chunks' unfolded images) beyond which fewer chunks
/// are used: 16 Mi floats = 64 MiB.
constexpr int64_t ScratchBudget = int64_t(1) << 24;
/// Convolutions below this many flops run on the calling thread only.
constexpr int64_t ParallelFlops = int64_t(1) << 21;

/// How a convolution kernel splits its batch.
struct ConvPlan {
  ConvDims D;
  int64_t PerChunk = 1, Chunks = 1;
  bool Parallel = false;

  explicit ConvPlan(const ConvDims &Dims) : D(Dims) {
    int64_t ColFloats = std::max<int64_t>(D.crs() * D.pixels(), 1);
    int64_t Want = std::min(
        {D.N, MaxChunks, std::max<int64_t>(1, ScratchBudget / ColFloats)});
    Want = std::max<int64_t>(Want, 1);
    PerChunk = (D.N + Want - 1) / Want;
    Chunks = (D.N + PerChunk - 1) / PerChunk;
    int64_t Flops = 2 * D.N * D.K * D.crs() * D.pixels();
    Parallel = Flops >= ParallelFlops && Chunks >= 2;
  }

  /// The product settings of one image's GEMM: a product that runs on
  /// several threads at once must not use the GEMM's shared pack buffer,
  /// and must not start threads of its own.
  GemmShape gemm(int64_t M, int64_t N, int64_t K) const {
    GemmShape S;
    S.M = M;
    S.N = N;
    S.K = K;
    S.AllowThreads = !Parallel;
    S.AllowPacking = !Parallel;
    return S;
  }
};

/// True when some dim makes the convolution empty: its result is all zeros
/// (or empty) and no product is called.
bool isEmpty(const ConvDims &D) {
  return D.N == 0 || D.C == 0 || D.K == 0 || D.R == 0 || D.S == 0 ||
         D.OH <= 0 || D.OW <= 0;
}

Value *offsetPtr(IRBuilder<> &B, Value *Base, Value *Floats) {
  return B.CreateInBoundsGEP(B.getFloatTy(), Base, Floats);
}

/// Slice `Index` of `Floats` floats each in `Base` (a chunk's scratch, an
/// image of a batch).
Value *sliceOf(KernelBuilder &KB, Value *Base, Value *Index, int64_t Floats) {
  IRBuilder<> &B = KB.builder();
  return offsetPtr(B, Base, B.CreateMul(Index, KB.i64(Floats)));
}

/// Zeroes slice `Index` of `Floats` floats in `Base`: a chunk's partial
/// sums, before its first image adds into them.
void zeroSlice(KernelBuilder &KB, Value *Base, Value *Index, int64_t Floats) {
  Value *Slice = sliceOf(KB, Base, Index, Floats);
  KB.forRange(Floats, [&](Value *I) { KB.store(KB.f32(0), Slice, I); });
}

/// What a convolution kernel does per chunk of images.
struct ChunkBody {
  /// Runs once at the start of a chunk (may be empty).
  function_ref<void(KernelBuilder &, Value *Chunk)> Prologue;
  /// Runs once per image `N` of chunk `Chunk`.
  function_ref<void(KernelBuilder &, Value *Chunk, Value *N)> PerImage;
};

/// `if (Fn) Fn(Ctx, N, N + 1)`: the per-image epilogue of image `N`
/// (KernelBuilder::ImageEpilogue), when the kernel has one.
void emitImageEpilogueCall(KernelBuilder &KB, Value *Fn, Value *Ctx, Value *N) {
  IRBuilder<> &B = KB.builder();
  LLVMContext &C = B.getContext();
  Function *F = B.GetInsertBlock()->getParent();
  BasicBlock *Call = BasicBlock::Create(C, "epi.call", F);
  BasicBlock *Done = BasicBlock::Create(C, "epi.done", F);
  B.CreateCondBr(B.CreateIsNotNull(Fn), Call, Done);
  B.SetInsertPoint(Call);
  // The hook has a task's type (FusedKernel.cpp makes it a task function).
  B.CreateCall(taskFunctionType(C), Fn,
               {Ctx, N, B.CreateAdd(N, B.getInt64(1))});
  B.CreateBr(Done);
  B.SetInsertPoint(Done);
}

/// `@<kernel>.image(out, in0, in1, chunk, n)`: `Body`'s work on image n
/// alone, with `noalias` buffers. The chunk function that calls it (and
/// then the per-image epilogue, which stores through pointers of its own)
/// cannot promise `noalias`; this function can, and inlined into the chunk
/// function its promise becomes alias scopes that keep the copies around
/// the products vectorized.
Function *emitImageFunction(KernelBuilder &KB, Function *ChunkF,
                            const ChunkBody &Body) {
  Module &M = *ChunkF->getParent();
  Type *I64 = Type::getInt64Ty(M.getContext());
  Function *ImageF = createKernelFunction(
      M, KB.builder().GetInsertBlock()->getParent()->getName() + ".image", 3,
      {.ReadOnly = {1, 2},
       .Trailing = {I64, I64},
       .NoInline = false,
       .MustProgress = false,
       .Pointers = KernelAttrs::Unknown});
  KernelBuilder IKB(ImageF, KB.node(), ImageF->getArg(0),
                    {ImageF->getArg(1), ImageF->getArg(2)});
  Body.PerImage(IKB, ImageF->getArg(3), ImageF->getArg(4));
  IKB.finish();
  return ImageF;
}

/// Emits `@<kernel>.chunk(out, in0, in1, [epi, epi ctx,] chunk)` running
/// `Body` over the images of one chunk (and the per-image epilogue of
/// KB.ImageEpilogue after each image, when there is one), and calls it for
/// every chunk from the kernel of `KB`: through `nnc_parallel_for` when the
/// plan is parallel (with a `.task` trampoline unpacking the buffers), in a
/// loop otherwise.
void emitChunks(KernelBuilder &KB, const ConvPlan &P, const ChunkBody &Body) {
  IRBuilder<> &B = KB.builder();
  Function *Kernel = B.GetInsertBlock()->getParent();
  Module &M = *Kernel->getParent();
  LLVMContext &Ctx = M.getContext();
  Type *Ptr = PointerType::getUnqual(Ctx);
  Type *I64 = B.getInt64Ty();
  // With a per-image epilogue, the chunk function takes its function and
  // context (null at run time when the kernel has none), and its buffers
  // are not `noalias`: the epilogue writes the result through pointers of
  // its own.
  bool Hooked = KB.ImageEpilogue.Fn != nullptr;
  SmallVector<Type *, 2> Trailing;
  if (Hooked)
    Trailing.append({Ptr, Ptr});
  Trailing.push_back(I64);
  Function *ChunkF = createKernelFunction(M, Kernel->getName() + ".chunk", 3,
                                          {.Trailing = Trailing,
                                           .NoInline = false,
                                           .MustProgress = false,
                                           .NoAlias = !Hooked,
                                           .Pointers = KernelAttrs::Unknown});
  {
    KernelBuilder CKB(ChunkF, KB.node(), ChunkF->getArg(0),
                      {ChunkF->getArg(1), ChunkF->getArg(2)});
    IRBuilder<> &CB = CKB.builder();
    Value *Chunk = ChunkF->getArg(ChunkF->arg_size() - 1);
    if (Body.Prologue)
      Body.Prologue(CKB, Chunk);
    Value *N0 = CB.CreateMul(Chunk, CKB.i64(P.PerChunk));
    Value *N1 = CB.CreateAdd(N0, CKB.i64(P.PerChunk));
    N1 = CB.CreateSelect(CB.CreateICmpSLT(N1, CKB.i64(P.D.N)), N1,
                         CKB.i64(P.D.N));
    if (!Hooked)
      CKB.forLoop(N0, N1, [&](Value *N) { Body.PerImage(CKB, Chunk, N); });
    else {
      Function *ImageF = emitImageFunction(KB, ChunkF, Body);
      CKB.forLoop(N0, N1, [&](Value *N) {
        CB.CreateCall(ImageF, {ChunkF->getArg(0), ChunkF->getArg(1),
                               ChunkF->getArg(2), Chunk, N});
        emitImageEpilogueCall(CKB, ChunkF->getArg(3), ChunkF->getArg(4), N);
      });
    }
    CKB.finish();
  }

  // A convolution anchor of a fused kernel reads stored buffers too (only
  // reductions read their operand through a prologue).
  assert(KB.in(0) && KB.in(1) && "convolution operand without a buffer");
  SmallVector<Value *, 5> Args = {KB.out(), KB.in(0), KB.in(1)};
  if (Hooked)
    Args.append({KB.ImageEpilogue.Fn, KB.ImageEpilogue.Ctx});
  auto CallChunk = [&](IRBuilder<> &CB, ArrayRef<Value *> Fields, Value *C) {
    SmallVector<Value *, 6> CallArgs(Fields.begin(), Fields.end());
    CallArgs.push_back(C);
    CB.CreateCall(ChunkF, CallArgs);
  };
  if (!P.Parallel) {
    KB.forRange(P.Chunks, [&](Value *C) { CallChunk(B, Args, C); });
    return;
  }
  // The task's ctx is {out, in0, in1} (+ {epilogue, its ctx}).
  Function *Task = createTaskFunction(M, Kernel->getName() + ".task");
  {
    KernelBuilder TKB(Task, KB.node(), nullptr, {});
    IRBuilder<> &TB = TKB.builder();
    SmallVector<Value *, 8> Field =
        loadTaskContext(TB, Task->getArg(0), Args.size());
    TKB.forLoop(Task->getArg(1), Task->getArg(2),
                [&](Value *C) { CallChunk(TB, Field, C); });
    TKB.finish();
  }
  AllocaInst *TaskCtx = KB.scratch(ArrayType::get(Ptr, Args.size()), "ctx");
  storeTaskContext(B, TaskCtx, Args);
  B.CreateCall(declareCallback(M, rt::ParallelFor),
               {Task, TaskCtx, KB.i64(P.Chunks)});
}

/// The kernel's module.
Module &moduleOf(KernelBuilder &KB) {
  return *KB.builder().GetInsertBlock()->getModule();
}

/// The name of the kernel function, as a prefix for its globals.
StringRef kernelName(KernelBuilder &KB) {
  return KB.builder().GetInsertBlock()->getParent()->getName();
}

/// The chunks' scratch for the [CRS, P] unfolding of one image each, or
/// null for a pointwise convolution, whose unfolding is the image itself.
Value *colBuffer(KernelBuilder &KB, const ConvDims &D, const ConvPlan &P) {
  if (D.isPointwise())
    return nullptr;
  return staticBuffer(moduleOf(KB), P.Chunks * D.crs() * D.pixels(),
                      kernelName(KB) + ".col");
}

} // namespace

namespace {

/// The chunks' scratch of an implicit product (ImplicitConv.h): the image's
/// layout, unless it is the image itself, and K planes of virtual rows,
/// when they have gaps.
struct ImplicitScratch {
  const ConvDims &D;
  const PhaseLayout &L;
  Value *Layout = nullptr, *Rows = nullptr;

  ImplicitScratch(KernelBuilder &KB, const ConvDims &D, const ConvPlan &P,
                  const PhaseLayout &L)
      : D(D), L(L) {
    if (!L.InPlace)
      Layout = staticBuffer(moduleOf(KB), P.Chunks * L.Floats,
                            kernelName(KB) + ".layout");
    if (L.hasGaps(D))
      Rows = staticBuffer(moduleOf(KB), P.Chunks * rowFloats(),
                          kernelName(KB) + ".virt");
  }

  int64_t rowFloats() const { return D.K * D.OH * L.Wq; }

  /// Image `X` of chunk `Chunk` in the layout: split into the chunk's
  /// slice, or `X` itself.
  Value *layout(KernelBuilder &CKB, Value *Chunk, Value *X) const {
    if (!Layout)
      return X;
    IRBuilder<> &B = CKB.builder();
    Value *Dst = offsetPtr(B, Layout, B.CreateMul(Chunk, CKB.i64(L.Floats)));
    emitPhaseSplit(CKB, D, L, X, Dst);
    return Dst;
  }

  /// The chunk's virtual rows (only when there are gaps).
  Value *rows(KernelBuilder &CKB, Value *Chunk) const {
    IRBuilder<> &B = CKB.builder();
    return offsetPtr(B, Rows, B.CreateMul(Chunk, CKB.i64(rowFloats())));
  }
};

/// y[n] = w * unfold(x[n]) as an implicit product (ImplicitConv.h): the
/// GEMM reads the rows of the unfolded matrix out of the image's phase
/// layout, onto virtual output rows that are then compacted. `Weights` is
/// the [K, CRS] weight matrix, or null for the kernel's operand 1.
void emitImplicitConv(KernelBuilder &KB, const ConvDims &D, Value *Weights) {
  Module &M = moduleOf(KB);
  ConvPlan P(D);
  PhaseLayout L(D);
  int64_t Crs = D.crs();
  GemmShape S = P.gemm(D.K, L.virtualPixels(D), Crs);
  S.ARow = Crs;
  S.BRows = L.rows(D);
  S.CRow = D.OH * L.Wq;
  Function *Gemm = getGemm(M, S);
  ImplicitScratch Scratch(KB, D, P, L);
  emitChunks(KB, P,
             {nullptr, [&](KernelBuilder &CKB, Value *Chunk, Value *N) {
                IRBuilder<> &B = CKB.builder();
                Value *X = offsetPtr(B, CKB.in(0),
                                     B.CreateMul(N, CKB.i64(D.C * D.H * D.W)));
                Value *Y = offsetPtr(B, CKB.out(),
                                     B.CreateMul(N, CKB.i64(D.K * D.pixels())));
                Value *Src = Scratch.layout(CKB, Chunk, X);
                Value *Dst = Scratch.Rows ? Scratch.rows(CKB, Chunk) : Y;
                B.CreateCall(Gemm, {Dst, Weights ? Weights : CKB.in(1), Src});
                if (Scratch.Rows)
                  emitCompact(CKB, D, L, D.K, Dst, Y);
              }});
}

/// y[n] = w * unfold(x[n]) with the output pixels as the GEMM's rows:
/// yT[p][k] = sum over crs of layout(x[n])[ACols[crs] + ARows[p]] *
/// wT[crs][k], A read in place through a row table (where pixel p sits on
/// the virtual rows) and a column table (where row (c, r, s) of the
/// unfolded matrix starts); then y[n][k][p] = yT[p][k]. Unlike
/// emitImplicitConv it computes no pixel twice and its register tiles
/// are full whatever K is (K is the GEMM's N, a whole number of panels
/// when usePixelRows holds). `Weights` as for emitImplicitConv.
void emitPixelRowsConv(KernelBuilder &KB, const ConvDims &D, Value *Weights) {
  Module &M = moduleOf(KB);
  ConvPlan P(D);
  PhaseLayout L(D);
  int64_t Crs = D.crs(), Pix = D.pixels();
  GemmShape S = P.gemm(Pix, D.K, Crs); // yT = rows^T * wT
  for (int64_t Oh = 0; Oh < D.OH; ++Oh)
    for (int64_t Ow = 0; Ow < D.OW; ++Ow)
      S.ARows.push_back(Oh * L.Wq + Ow);
  S.ACols = L.rows(D);
  S.BRow = D.K;
  S.CRow = D.K;
  Function *Gemm = getGemm(M, S);
  // wT[crs][k] = w[k][crs], once per call: B of every image's product.
  Value *WT = staticBuffer(M, Crs * D.K, kernelName(KB) + ".wT");
  emitTransposeCopy(KB, Weights ? Weights : KB.in(1), WT, D.K, Crs,
                    moduleVectorUnit(M).Floats);
  Value *Layout = L.InPlace ? nullptr
                            : staticBuffer(M, P.Chunks * L.Floats,
                                           kernelName(KB) + ".layout");
  Value *YT = staticBuffer(M, P.Chunks * Pix * D.K, kernelName(KB) + ".yT");
  emitChunks(KB, P, {nullptr, [&](KernelBuilder &CKB, Value *Chunk, Value *N) {
                       IRBuilder<> &B = CKB.builder();
                       Value *X = sliceOf(CKB, CKB.in(0), N, D.C * D.H * D.W);
                       Value *Y = sliceOf(CKB, CKB.out(), N, D.K * Pix);
                       if (Layout) {
                         Value *Dst = sliceOf(CKB, Layout, Chunk, L.Floats);
                         emitPhaseSplit(CKB, D, L, X, Dst);
                         X = Dst;
                       }
                       Value *T = sliceOf(CKB, YT, Chunk, Pix * D.K);
                       B.CreateCall(Gemm, {T, X, WT});
                       // y[n][k][p] = yT[p][k], by vector blocks.
                       emitTransposeCopy(CKB, T, Y, Pix, D.K,
                                         moduleVectorUnit(M).Floats);
                     }});
}

/// True when the virtual rows of an implicit product (ImplicitConv.h) add
/// at most a fifth to the real pixels.
bool fewVirtualPixels(const ConvDims &D) {
  return 5 * PhaseLayout(D).virtualPixels(D) <= 6 * D.pixels();
}

/// True when the forward product runs with the pixels as its rows
/// (emitPixelRowsConv): when K fills at least one panel of the GEMM (two
/// vectors). Measured on Zen 3 (AVX2, one thread, training steps, against
/// the virtual rows of emitImplicitConv): resnet_s2 7.5 % faster (its
/// 14x14 products, K = 32: 28 % of the step before, 23 % after; 28x28,
/// K = 16: 17 % before, 15 % after), vgg 6 %, LeNet 4 % (its second
/// layer computed 136 virtual pixels for 100). With fewer channels the
/// panels would be mostly empty. K of exactly one vector fills a
/// one-vector panel (Gemm.cpp), which pays only where the virtual rows
/// waste many pixels. On Zen 5 (AVX-512, one thread, K = 16): LeNet's
/// second layer (136 virtual pixels for 100) took 500 samples of a profile
/// as pixel rows against 585 on the virtual rows; resnet_s2's 28x28 layers
/// (838 for 784) 18.2 % of the step against 15.5 %.
bool usePixelRows(const ConvDims &D, int64_t VW) {
  return D.K >= 2 * VW || (D.K == VW && !fewVirtualPixels(D));
}

/// The forward product of a convolution, by whichever form suits it.
void emitConvProduct(KernelBuilder &KB, const ConvDims &D, Value *Weights) {
  if (usePixelRows(D, moduleVectorUnit(moduleOf(KB)).Floats))
    return emitPixelRowsConv(KB, D, Weights);
  emitImplicitConv(KB, D, Weights);
}

/// True when the input gradient is the implicit convolution of dy with the
/// flipped, transposed weights: stride 1 (a larger stride would have to
/// spread dy with zeros) and a square kernel no narrower than its padding.
bool hasImplicitGradInput(const ConvDims &D) {
  return D.Stride == 1 && D.R == D.S && D.Pad <= D.R - 1;
}

} // namespace

namespace {

/// Makes the kernel of `KB` call the shared body of its convolution op on
/// geometry `D`: `@nnc.<op>.<dims>(out, in0, in1)`, created by `Body` on
/// first use and called by every kernel with the same op and geometry.
/// The body depends only on them (and on the module's vector unit), so
/// the shared copy computes what a copy of its own would; its scratch
/// buffers are named after it and shared too, which is safe because
/// kernels run one at a time and every body rewrites the scratch it reads.
/// The body of an op whose result is per image (`runsPerImage`, Ops.def:
/// y[n] and dx[n] depend on image n alone) takes a per-image epilogue and
/// its context as two more arguments (KernelBuilder::ImageEpilogue; null
/// for a kernel without), and its buffers are then not `noalias`: the
/// epilogue stores through pointers of its own while the body runs.
void callSharedBody(KernelBuilder &KB, const ConvDims &D,
                    function_ref<void(KernelBuilder &)> Body) {
  Module &M = moduleOf(KB);
  StringRef Op = opSpelling(KB.node().Kind);
  bool PerImage = runsPerImage(KB.node().Kind);
  std::string Name =
      ("nnc." + Op + ".n" + Twine(D.N) + "c" + Twine(D.C) + "h" + Twine(D.H) +
       "w" + Twine(D.W) + ".k" + Twine(D.K) + "r" + Twine(D.R) + "s" +
       Twine(D.S) + ".st" + Twine(D.Stride) + "p" + Twine(D.Pad))
          .str();
  Type *Ptr = PointerType::getUnqual(M.getContext());
  Function *F = M.getFunction(Name);
  if (!F) {
    SmallVector<Type *, 2> Hook;
    if (PerImage)
      Hook.append({Ptr, Ptr});
    F = createKernelFunction(
        M, Name, 3,
        {.ReadOnly = {1, 2}, .Trailing = Hook, .NoAlias = !PerImage});
    F->getArg(0)->setName("out");
    F->getArg(1)->setName("in0");
    F->getArg(2)->setName("in1");
    KernelBuilder SKB(F, KB.node(), F->getArg(0), {F->getArg(1), F->getArg(2)});
    if (PerImage) {
      F->getArg(3)->setName("epi");
      F->getArg(4)->setName("epi.ctx");
      SKB.ImageEpilogue = {F->getArg(3), F->getArg(4)};
    }
    Body(SKB);
    SKB.finish();
  }
  assert(KB.in(0) && KB.in(1) && "convolution operand without a buffer");
  assert((PerImage || !KB.ImageEpilogue.Fn) &&
         "a per-image epilogue on a convolution without per-image results");
  SmallVector<Value *, 5> Args = {KB.out(), KB.in(0), KB.in(1)};
  if (PerImage) {
    Value *Null = ConstantPointerNull::get(cast<PointerType>(Ptr));
    Args.push_back(KB.ImageEpilogue.Fn ? KB.ImageEpilogue.Fn : Null);
    Args.push_back(KB.ImageEpilogue.Ctx ? KB.ImageEpilogue.Ctx : Null);
  }
  KB.builder().CreateCall(F, Args);
}

} // namespace

void codegen::emitConv2d(KernelBuilder &KB) {
  const Node &Nd = KB.node();
  ConvDims D =
      convDims(Nd.operand(0)->dims(), Nd.operand(1)->dims(), Nd.dims(), Nd.A);
  if (isEmpty(D))
    return KB.fillOut(KB.f32(0), Nd.Type.numElements());
  callSharedBody(KB, D,
                 [&](KernelBuilder &SKB) { emitConvProduct(SKB, D, nullptr); });
}

namespace {

/// The body of conv2d_grad_input (see emitConv2dGradInput).
void emitGradInputBody(KernelBuilder &KB, const ConvDims &D) {
  if (hasImplicitGradInput(D)) {
    // dx = conv2d(dy, wf, padding = R-1-pad), a convolution from K to C
    // channels with wf[c][k][r][s] = w[k][c][R-1-r][S-1-s].
    ConvDims T{D.N, D.K, D.OH, D.OW,           D.C, D.R, D.S,
               D.H, D.W, 1,    D.R - 1 - D.Pad};
    Value *Flipped =
        staticBuffer(moduleOf(KB), D.K * D.crs(), kernelName(KB) + ".flipped");
    // (k, c, r, s) of w goes to (c, k, R-1-r, S-1-s) of wf.
    int64_t RS = D.R * D.S;
    KB.forEach({D.K, D.C, D.R, D.S}, [&](ArrayRef<Value *> I) {
      Value *V =
          KB.load(DType::F32, KB.in(1),
                  linearIndex(KB, I, contiguousStrides({D.K, D.C, D.R, D.S})));
      KB.store(V, Flipped,
               linearIndex(KB, I, {RS, D.K * RS, -D.S, -1}, RS - 1));
    });
    return emitConvProduct(KB, T, Flipped);
  }
  ConvPlan P(D);
  int64_t Crs = D.crs(), Pix = D.pixels();
  GemmShape S = P.gemm(Crs, Pix, D.K); // col = w^T * dy[n]
  S.ARow = 1;
  S.ACol = Crs;
  S.BRow = Pix;
  S.CRow = Pix;
  Function *Gemm = getGemm(moduleOf(KB), S);
  Value *Col = colBuffer(KB, D, P);
  emitChunks(KB, P,
             {nullptr, [&](KernelBuilder &CKB, Value *Chunk, Value *N) {
                IRBuilder<> &B = CKB.builder();
                Value *Dy =
                    offsetPtr(B, CKB.in(0), B.CreateMul(N, CKB.i64(D.K * Pix)));
                Value *Dx = offsetPtr(B, CKB.out(),
                                      B.CreateMul(N, CKB.i64(D.C * D.H * D.W)));
                if (!Col) {
                  B.CreateCall(Gemm, {Dx, CKB.in(1), Dy});
                  return;
                }
                Value *Dst =
                    offsetPtr(B, Col, B.CreateMul(Chunk, CKB.i64(Crs * Pix)));
                B.CreateCall(Gemm, {Dst, CKB.in(1), Dy});
                emitCol2Im(CKB, D, Dst, Dx);
              }});
}

} // namespace

bool codegen::convRunsOnThreads(const Node &Conv) {
  ArrayRef<int64_t> Out = Conv.dims(), Wt = Conv.operand(1)->dims();
  ConvDims D = Conv.Kind == OpKind::Conv2d
                   ? convDims(Conv.operand(0)->dims(), Wt, Out, Conv.A)
                   : convDims(Out, Wt, Conv.operand(0)->dims(), Conv.A);
  return !isEmpty(D) && ConvPlan(D).Parallel;
}

void codegen::emitConv2dGradInput(KernelBuilder &KB) {
  // (dy : [N,K,OH,OW], w : [K,C,R,S]) -> dx : [N,C,H,W]
  const Node &Nd = KB.node();
  ConvDims D =
      convDims(Nd.dims(), Nd.operand(1)->dims(), Nd.operand(0)->dims(), Nd.A);
  if (isEmpty(D))
    return KB.fillOut(KB.f32(0), Nd.Type.numElements());
  callSharedBody(KB, D, [&](KernelBuilder &SKB) { emitGradInputBody(SKB, D); });
}

namespace {

/// The weight gradient as a GEMM over the transposed unfolding:
/// part[chunk] += dy[n] * colT, colT = im2col(x[n])^T [P, CRS].
void emitGradWeightGemm(KernelBuilder &KB, const ConvDims &D) {
  IRBuilder<> &B = KB.builder();
  ConvPlan P(D);
  int64_t Crs = D.crs(), Pix = D.pixels(), Dw = D.K * Crs;
  GemmShape S = P.gemm(D.K, Crs, Pix); // part += dy[n] * colT
  S.ARow = Pix;
  S.BRow = Crs;
  S.CRow = Crs;
  S.Accumulate = true;
  Function *Gemm = getGemm(moduleOf(KB), S);
  Value *ColT = staticBuffer(moduleOf(KB), P.Chunks * Pix * Crs,
                             kernelName(KB) + ".colT");
  Value *Parts =
      staticBuffer(moduleOf(KB), P.Chunks * Dw, kernelName(KB) + ".part");
  emitChunks(KB, P,
             {[&](KernelBuilder &CKB, Value *Chunk) {
                zeroSlice(CKB, Parts, Chunk, Dw);
              },
              [&](KernelBuilder &CKB, Value *Chunk, Value *N) {
                Value *X = sliceOf(CKB, CKB.in(0), N, D.C * D.H * D.W);
                Value *Dy = sliceOf(CKB, CKB.in(1), N, D.K * Pix);
                Value *Col = sliceOf(CKB, ColT, Chunk, Pix * Crs);
                emitIm2Col(CKB, D, X, Col, /*RowStride=*/1, /*ColStride=*/Crs);
                CKB.builder().CreateCall(
                    Gemm, {sliceOf(CKB, Parts, Chunk, Dw), Dy, Col});
              }});
  // dw = part[0] + part[1] + ...: the same order whatever ran each chunk.
  KB.forRange(Dw, [&](Value *I) {
    KB.store(KB.load(DType::F32, Parts, I), KB.out(), I);
  });
  KB.forLoop(KB.i64(1), KB.i64(P.Chunks), [&](Value *C) {
    Value *Part = offsetPtr(B, Parts, B.CreateMul(C, KB.i64(Dw)));
    KB.forRange(Dw, [&](Value *I) {
      KB.store(B.CreateFAdd(KB.load(DType::F32, KB.out(), I),
                            KB.load(DType::F32, Part, I)),
               KB.out(), I);
    });
  });
}

/// The weight gradient as a GEMM with the pixels as its k and the output
/// channels as its columns: partT[chunk] += rows(layout(x[n])) * dyT',
/// the implicit unfolding [CRS, P'] (ImplicitConv.h) read through A's row
/// table, and dyT' = dy[n]^T on virtual rows [P', K] read through B's row
/// table: dy[n] is transposed once by vector blocks into [P, K] with a row
/// of zeros after it, and every gap pixel of the virtual rows reads that
/// row. Then dw[k][crs] is the sum over chunks of partT[chunk][crs][k],
/// in chunk order. Nothing is unfolded, and the product's rows are the
/// CRS weights, which fill its register tiles where K does not.
void emitGradWeightImplicit(KernelBuilder &KB, const ConvDims &D) {
  IRBuilder<> &B = KB.builder();
  Module &M = moduleOf(KB);
  ConvPlan P(D);
  PhaseLayout L(D);
  int64_t Crs = D.crs(), Pix = D.pixels(), Dw = D.K * Crs;
  int64_t Virt = L.virtualPixels(D);
  GemmShape S = P.gemm(Crs, D.K, Virt); // partT += rows * dyT'
  S.ARows = L.rows(D);
  for (int64_t J = 0; J < Virt; ++J) {
    int64_t Oh = J / L.Wq, Ow = J % L.Wq;
    S.BRows.push_back(Ow < D.OW ? (Oh * D.OW + Ow) * D.K : Pix * D.K);
  }
  S.CRow = D.K;
  S.Accumulate = true;
  Function *Gemm = getGemm(M, S);
  Value *Layout = L.InPlace ? nullptr
                            : staticBuffer(M, P.Chunks * L.Floats,
                                           kernelName(KB) + ".layout");
  int64_t DyTFloats = (Pix + 1) * D.K;
  Value *DyT = staticBuffer(M, P.Chunks * DyTFloats, kernelName(KB) + ".dyT");
  Value *Parts = staticBuffer(M, P.Chunks * Dw, kernelName(KB) + ".part");
  emitChunks(
      KB, P,
      {[&](KernelBuilder &CKB, Value *Chunk) {
         zeroSlice(CKB, Parts, Chunk, Dw);
       },
       [&](KernelBuilder &CKB, Value *Chunk, Value *N) {
         IRBuilder<> &CB = CKB.builder();
         Value *X = sliceOf(CKB, CKB.in(0), N, D.C * D.H * D.W);
         Value *Dy = sliceOf(CKB, CKB.in(1), N, D.K * Pix);
         if (Layout) {
           Value *Dst = sliceOf(CKB, Layout, Chunk, L.Floats);
           emitPhaseSplit(CKB, D, L, X, Dst);
           X = Dst;
         }
         // dyT[p][k] = dy[k][p], then the row of zeros.
         Value *T = sliceOf(CKB, DyT, Chunk, DyTFloats);
         emitTransposeCopy(CKB, Dy, T, D.K, Pix, moduleVectorUnit(M).Floats);
         Value *Zeros = offsetPtr(CB, T, CKB.i64(Pix * D.K));
         CKB.forRange(D.K, [&](Value *K) { CKB.store(CKB.f32(0), Zeros, K); });
         CB.CreateCall(Gemm, {sliceOf(CKB, Parts, Chunk, Dw), X, T});
       }});
  // dw[k][crs] = partT[0][crs][k] + partT[1][crs][k] + ...: the same order
  // whatever ran each chunk.
  KB.forRange(D.K, [&](Value *K) {
    forLoopWithHints(
        KB, KB.i64(0), KB.i64(Crs), {.Vectorize = false}, [&](Value *I) {
          Value *From = B.CreateAdd(B.CreateMul(I, KB.i64(D.K)), K);
          Value *Sum = KB.load(DType::F32, Parts, From);
          for (int64_t C = 1; C < P.Chunks; ++C)
            Sum = B.CreateFAdd(Sum, KB.load(DType::F32, Parts,
                                            B.CreateAdd(From, KB.i64(C * Dw))));
          KB.store(Sum, KB.out(), B.CreateAdd(B.CreateMul(K, KB.i64(Crs)), I));
        });
  });
}

/// The weight gradient as row dot products along the output pixels:
/// lanes[chunk] (+)= lane partials of dy[n] . col[crs] along p (DotTile.h).
/// The rows col[crs] are read out of the image's phase layout on virtual
/// rows (ImplicitConv.h), against dy expanded to virtual rows with zeros
/// in the gaps; nothing is unfolded.
void emitGradWeightDots(KernelBuilder &KB, const ConvDims &D) {
  IRBuilder<> &B = KB.builder();
  Module &M = moduleOf(KB);
  ConvPlan P(D);
  PhaseLayout L(D);
  int64_t Crs = D.crs(), Dw = D.K * Crs;
  int64_t VW = dotLanes(M), LaneFloats = Dw * VW;
  DotShape S;
  S.M = D.K;
  S.N = Crs;
  S.L = L.virtualPixels(D);
  S.ARow = D.OH * L.Wq;
  S.BRows = L.rows(D);
  Function *Dots = getRowDots(M, S);
  ImplicitScratch Scratch(KB, D, P, L);
  Value *Lanes =
      staticBuffer(M, P.Chunks * LaneFloats, kernelName(KB) + ".lanes");
  emitChunks(
      KB, P,
      {nullptr, [&](KernelBuilder &CKB, Value *Chunk, Value *N) {
         IRBuilder<> &CB = CKB.builder();
         Value *X = offsetPtr(CB, CKB.in(0),
                              CB.CreateMul(N, CKB.i64(D.C * D.H * D.W)));
         Value *Dy = offsetPtr(CB, CKB.in(1),
                               CB.CreateMul(N, CKB.i64(D.K * D.pixels())));
         X = Scratch.layout(CKB, Chunk, X);
         if (Scratch.Rows) {
           Value *Dst = Scratch.rows(CKB, Chunk);
           emitExpand(CKB, D, L, D.K, Dy, Dst);
           Dy = Dst;
         }
         // The chunk's first image overwrites the partials of the last step.
         Value *Fresh =
             CB.CreateICmpEQ(N, CB.CreateMul(Chunk, CKB.i64(P.PerChunk)));
         Value *Part =
             offsetPtr(CB, Lanes, CB.CreateMul(Chunk, CKB.i64(LaneFloats)));
         CB.CreateCall(Dots, {Part, Dy, X, Fresh});
       }});
  // dw = lane sum of (lanes[0] + lanes[1] + ...), chunks in order, then the
  // lanes in emitLaneSum's fixed order: the same whatever ran each chunk.
  auto *VecTy = FixedVectorType::get(B.getFloatTy(), VW);
  KB.forRange(Dw, [&](Value *I) {
    Value *Sum = nullptr;
    for (int64_t C = 0; C < P.Chunks; ++C) {
      Value *At = offsetPtr(
          B, Lanes,
          B.CreateAdd(KB.i64(C * LaneFloats), B.CreateMul(I, KB.i64(VW))));
      Value *V = B.CreateAlignedLoad(VecTy, At, Align(4));
      Sum = Sum ? B.CreateFAdd(Sum, V) : V;
    }
    KB.store(emitLaneSum(B, Sum), KB.out(), I);
  });
}

/// Output channels up to which the row dot products beat the GEMM on an
/// unfolded image: with more, the GEMM's reuse of each loaded vector (one
/// load of colT feeds a whole row tile) wins over the cheaper unfolding.
constexpr int64_t RowDotsMaxK = 32;

/// True when the weight gradient is faster as row dot products. Measured
/// on Zen 3 (AVX2, one thread) against the GEMM path over 37 shapes, batch
/// 16-64 (conv2 = LeNet's second layer, 6x14x14 -> 16, 5x5):
/// - a pointwise convolution has nothing to unfold, and the dots save the
///   GEMM path's transposed copy of x: they win from P >= 2 CRS at any K
///   (P=1024 CRS=64 K=256: 1.3x) and lose below (P=196 CRS=128: 0.86x);
/// - stride 1, up to RowDotsMaxK channels: the forward unfolding is much
///   cheaper than the transposed one, which pays from P >= CRS (conv1
///   2.3x, P=256 CRS=150 K=16 2x, conv2 with P=100 CRS=150 0.95x); with
///   64 or more channels it is 0.7x-1.1x;
/// - larger strides unfold slowly in both layouts, which only pays where
///   the GEMM wastes most of its panels (CRS small): P >= 4 CRS (P=196
///   CRS=25 K=6 stride 2: 1.1x-1.7x; P=256 CRS=144: 0.7x).
/// The partial sums must fit the scratch budget. With 16-float vectors
/// (AVX-512) the dots are bound by their loads, and where the implicit
/// GEMM applies it wins (Zen 5, one thread: vgg's 28x28 layer with 32
/// channels, 925 MFLOP a step, 9.2 ms as dots at 100 GFLOP/s against 4.7
/// as the implicit GEMM; steps 6 % faster). On Zen 3 the two are even.
bool useRowDots(const ConvDims &D, const ConvPlan &P, int64_t Lanes,
                bool ImplicitApplies) {
  int64_t Pix = D.pixels(), Crs = D.crs();
  if (P.Chunks * D.K * Crs * Lanes > ScratchBudget)
    return false;
  if (Lanes >= 16 && ImplicitApplies)
    return false;
  if (D.isPointwise())
    return Pix >= 2 * Crs;
  if (D.K > RowDotsMaxK)
    return false;
  return Pix >= (D.Stride == 1 ? 1 : 4) * Crs;
}

/// True when the weight gradient is faster as the implicit GEMM
/// (emitGradWeightImplicit) than over the transposed unfolding, where the
/// row dots do not apply. It reads x in place but computes every virtual
/// pixel, and its panels are K columns wide: it needs few virtual pixels
/// beyond the real ones and K filling its panels: two vectors or more, or
/// exactly one (a one-vector panel, Gemm.cpp). Measured on Zen 3 (AVX2,
/// one thread, training steps): 3x3 padding 1 at 14x14 (222 virtual pixels
/// for 196, K = 32) cut resnet_s2's weight gradients from 20 % to 15 % of
/// the step (7 % faster steps; vgg within noise); LeNet's second layer
/// (5x5 unpadded, 136 for 100, K = 16) made steps 5 % slower. On Zen 5
/// (AVX-512, one thread), resnet_s2's 28x28 layers with K = 16 as
/// one-vector panels instead of row dots: 12.6 % of the step before, 8.6 %
/// after.
bool useImplicitGemm(const ConvDims &D, int64_t VW) {
  return (D.K == VW || D.K >= 2 * VW) && fewVirtualPixels(D);
}

} // namespace

void codegen::emitConv2dGradWeight(KernelBuilder &KB) {
  // (x : [N,C,H,W], dy : [N,K,OH,OW]) -> dw : [K,C,R,S]
  const Node &Nd = KB.node();
  ConvDims D =
      convDims(Nd.operand(0)->dims(), Nd.dims(), Nd.operand(1)->dims(), Nd.A);
  if (isEmpty(D))
    return KB.fillOut(KB.f32(0), Nd.Type.numElements());
  callSharedBody(KB, D, [&](KernelBuilder &SKB) {
    Module &M = moduleOf(SKB);
    bool Implicit = useImplicitGemm(D, moduleVectorUnit(M).Floats);
    if (useRowDots(D, ConvPlan(D), dotLanes(M), Implicit))
      return emitGradWeightDots(SKB, D);
    if (Implicit)
      return emitGradWeightImplicit(SKB, D);
    emitGradWeightGemm(SKB, D);
  });
}
