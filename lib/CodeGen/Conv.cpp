//===- Conv.cpp - Convolution and pooling kernels (NCHW) ------------------===//
//
// conv2d(x : [N,C,H,W], w : [K,C,R,S]) -> y : [N,K,OH,OW] and its two
// gradients run as per-image matrix products on the shared register-tiled
// GEMM (Gemm.h), with P = OH*OW output pixels and CRS = C*R*S weights per
// output channel:
//
//  1. forward:      col = im2col(x[n])         [CRS, P]
//                   y[n] = w * col             [K,CRS] x [CRS,P]
//  2. input grad:   col = w^T * dy[n]          [CRS,K] x [K,P]
//                   dx[n] = col2im(col)
//  3. weight grad, one of two ways (`useRowDots`):
//     a. GEMM:      colT = im2col(x[n])^T      [P, CRS]
//                   part[chunk] += dy[n] * colT  [K,P] x [P,CRS]
//                   dw = sum of part[chunk] over chunks, in chunk order
//     b. row dots:  col = im2col(x[n])         [CRS, P]
//                   lanes[chunk][k][crs] (+)= dy[n][k] . col[crs], as VW
//                     lane partials along p (DotTile.h)
//                   dw[k][crs] = lane sum of (sum of lanes[chunk][k][crs]
//                     over chunks, in chunk order), lanes in a fixed order
//
// A 1x1 convolution with stride 1 and no padding skips the unfolding in
// steps 1, 2 and 3b (its col is the image itself). Path 3a unfolds into
// the transposed layout so that the product reads both operands row-major,
// in place; that unfolding is scalar stores with stride CRS (vectorized
// they would be scatters), several times slower per element than the
// forward one of step 1. Path 3b reads dy and the forward unfolding both
// along p, so nothing is transposed: it wins where the unfolding dominates
// the product, with many pixels per weight and few output channels
// (LeNet's first layer: P = 784, CRS = 25, K = 6, 2.3x faster). With many
// channels the GEMM's reuse of each loaded vector wins, so 3a stays there
// (`useRowDots` has the measured thresholds). The first image of a chunk
// overwrites the chunk's lane partials (`Fresh`), so they need no clearing.
//
// The batch is cut into a compile-time number of chunks of consecutive
// images; each chunk owns a slice of a static scratch buffer (no allocation
// per step) and big convolutions run the chunks on the runtime's threads
// (`nnc_parallel_for`). Every output element is computed by one chunk in a
// fixed order, and the weight-gradient partials are summed in chunk order,
// so results do not depend on the thread count.
//
// Pools use windows of `size` with `stride` and no padding. 2x2 windows
// with stride 2 are explicit <16 x float> code (even/odd shuffles of whole
// input rows). Other pools loop over the outputs of one row, innermost,
// with the window unrolled inside (up to 4x4): vectorized for stride 1,
// kept scalar for larger strides (where LLVM would use gathers). When
// windows do not overlap (stride >= size) the gradients are plain stores,
// not scatter-adds. maxpool2d_grad sends each output gradient to the first
// maximum of its window (row-major order), as the forward kernel picks it.
//
//===----------------------------------------------------------------------===//
#include "DotTile.h"
#include "Gemm.h"
#include "Im2Col.h"

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

/// A zero-initialized internal global of `Floats` floats, 64-byte aligned.
Value *staticBuffer(Module &M, int64_t Floats, const Twine &Name) {
  auto *Ty = ArrayType::get(Type::getFloatTy(M.getContext()), Floats);
  auto *G = new GlobalVariable(M, Ty, /*isConstant=*/false,
                               GlobalValue::InternalLinkage,
                               Constant::getNullValue(Ty), Name);
  G->setAlignment(Align(64));
  return G;
}

Value *offsetPtr(IRBuilder<> &B, Value *Base, Value *Floats) {
  return B.CreateInBoundsGEP(B.getFloatTy(), Base, Floats);
}

/// What a convolution kernel does per chunk of images.
struct ChunkBody {
  /// Runs once at the start of a chunk (may be empty).
  function_ref<void(KernelBuilder &, Value *Chunk)> Prologue;
  /// Runs once per image `N` of chunk `Chunk`.
  function_ref<void(KernelBuilder &, Value *Chunk, Value *N)> PerImage;
};

/// Emits `@<kernel>.chunk(out, in0, in1, chunk)` running `Body` over the
/// images of one chunk, and calls it for every chunk from the kernel of
/// `KB`: through `nnc_parallel_for` when the plan is parallel (with a
/// `.task` trampoline unpacking the buffers), in a loop otherwise.
void emitChunks(KernelBuilder &KB, const ConvPlan &P, const ChunkBody &Body) {
  IRBuilder<> &B = KB.builder();
  Function *Kernel = B.GetInsertBlock()->getParent();
  Module &M = *Kernel->getParent();
  LLVMContext &Ctx = M.getContext();
  Type *Ptr = PointerType::getUnqual(Ctx), *I64 = B.getInt64Ty();

  auto *ChunkTy = FunctionType::get(B.getVoidTy(), {Ptr, Ptr, Ptr, I64}, false);
  Function *ChunkF = Function::Create(ChunkTy, GlobalValue::InternalLinkage,
                                      Kernel->getName() + ".chunk", M);
  ChunkF->addFnAttr(Attribute::NoUnwind);
  for (unsigned I = 0; I < 3; ++I) {
    ChunkF->addParamAttr(I, Attribute::NoAlias);
    ChunkF->addParamAttr(I, Attribute::NoCapture);
  }
  {
    KernelBuilder CKB(ChunkF, KB.node(), ChunkF->getArg(0),
                      {ChunkF->getArg(1), ChunkF->getArg(2)});
    IRBuilder<> &CB = CKB.builder();
    Value *Chunk = ChunkF->getArg(3);
    if (Body.Prologue)
      Body.Prologue(CKB, Chunk);
    Value *N0 = CB.CreateMul(Chunk, CKB.i64(P.PerChunk));
    Value *N1 = CB.CreateAdd(N0, CKB.i64(P.PerChunk));
    N1 = CB.CreateSelect(CB.CreateICmpSLT(N1, CKB.i64(P.D.N)), N1,
                         CKB.i64(P.D.N));
    CKB.forLoop(N0, N1, [&](Value *N) { Body.PerImage(CKB, Chunk, N); });
    CKB.finish();
  }

  // A convolution anchor of a fused kernel reads stored buffers too (only
  // reductions read their operand through a prologue).
  assert(KB.in(0) && KB.in(1) && "convolution operand without a buffer");
  Value *Args[3] = {KB.out(), KB.in(0), KB.in(1)};
  if (!P.Parallel) {
    KB.forRange(P.Chunks, [&](Value *C) {
      B.CreateCall(ChunkF, {Args[0], Args[1], Args[2], C});
    });
    return;
  }
  // void task(ptr ctx, i64 begin, i64 end), ctx = {out, in0, in1}.
  auto *TaskTy = FunctionType::get(B.getVoidTy(), {Ptr, I64, I64}, false);
  Function *Task = Function::Create(TaskTy, GlobalValue::InternalLinkage,
                                    Kernel->getName() + ".task", M);
  Task->addFnAttr(Attribute::NoUnwind);
  {
    KernelBuilder TKB(Task, KB.node(), nullptr, {});
    IRBuilder<> &TB = TKB.builder();
    Value *Field[3];
    for (unsigned I = 0; I < 3; ++I)
      Field[I] = TB.CreateAlignedLoad(
          Ptr, TB.CreateConstInBoundsGEP1_64(Ptr, Task->getArg(0), I),
          Align(8));
    TKB.forLoop(Task->getArg(1), Task->getArg(2), [&](Value *C) {
      TB.CreateCall(ChunkF, {Field[0], Field[1], Field[2], C});
    });
    TKB.finish();
  }
  AllocaInst *TaskCtx = KB.scratch(ArrayType::get(Ptr, 3), "ctx");
  for (unsigned I = 0; I < 3; ++I)
    B.CreateAlignedStore(Args[I], B.CreateConstInBoundsGEP1_64(Ptr, TaskCtx, I),
                         Align(8));
  FunctionCallee ParFor = M.getOrInsertFunction(
      "nnc_parallel_for",
      FunctionType::get(B.getVoidTy(), {Ptr, Ptr, I64}, false));
  B.CreateCall(ParFor, {Task, TaskCtx, KB.i64(P.Chunks)});
}

/// The kernel's module.
Module &moduleOf(KernelBuilder &KB) {
  return *KB.builder().GetInsertBlock()->getModule();
}

/// The name of the kernel function, as a prefix for its globals.
StringRef kernelName(KernelBuilder &KB) {
  return KB.builder().GetInsertBlock()->getParent()->getName();
}

} // namespace

void codegen::emitConv2d(KernelBuilder &KB) {
  const Node &Nd = KB.node();
  ConvDims D =
      convDims(Nd.operand(0)->dims(), Nd.operand(1)->dims(), Nd.dims(), Nd.A);
  if (isEmpty(D))
    return KB.fillOut(KB.f32(0), Nd.Type.numElements());
  ConvPlan P(D);
  int64_t Crs = D.crs(), Pix = D.pixels();
  GemmShape S = P.gemm(D.K, Pix, Crs); // y[n] = w * col
  S.ARow = Crs;
  S.BRow = Pix;
  S.CRow = Pix;
  Function *Gemm = getGemm(moduleOf(KB), S);
  Value *Col = D.isPointwise()
                   ? nullptr
                   : staticBuffer(moduleOf(KB), P.Chunks * Crs * Pix,
                                  kernelName(KB) + ".col");
  emitChunks(
      KB, P,
      {nullptr, [&](KernelBuilder &CKB, Value *Chunk, Value *N) {
         IRBuilder<> &B = CKB.builder();
         Value *X =
             offsetPtr(B, CKB.in(0), B.CreateMul(N, CKB.i64(D.C * D.H * D.W)));
         Value *Y = offsetPtr(B, CKB.out(), B.CreateMul(N, CKB.i64(D.K * Pix)));
         Value *Src = X;
         if (Col) {
           Src = offsetPtr(B, Col, B.CreateMul(Chunk, CKB.i64(Crs * Pix)));
           emitIm2Col(CKB, D, X, Src, /*RowStride=*/Pix, /*ColStride=*/1);
         }
         B.CreateCall(Gemm, {Y, CKB.in(1), Src});
       }});
}

void codegen::emitConv2dGradInput(KernelBuilder &KB) {
  // (dy : [N,K,OH,OW], w : [K,C,R,S]) -> dx : [N,C,H,W]
  const Node &Nd = KB.node();
  ConvDims D =
      convDims(Nd.dims(), Nd.operand(1)->dims(), Nd.operand(0)->dims(), Nd.A);
  if (isEmpty(D))
    return KB.fillOut(KB.f32(0), Nd.Type.numElements());
  ConvPlan P(D);
  int64_t Crs = D.crs(), Pix = D.pixels();
  GemmShape S = P.gemm(Crs, Pix, D.K); // col = w^T * dy[n]
  S.ARow = 1;
  S.ACol = Crs;
  S.BRow = Pix;
  S.CRow = Pix;
  Function *Gemm = getGemm(moduleOf(KB), S);
  Value *Col = D.isPointwise()
                   ? nullptr
                   : staticBuffer(moduleOf(KB), P.Chunks * Crs * Pix,
                                  kernelName(KB) + ".col");
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
  auto PartOf = [&](KernelBuilder &CKB, Value *Chunk) {
    IRBuilder<> &CB = CKB.builder();
    return offsetPtr(CB, Parts, CB.CreateMul(Chunk, CKB.i64(Dw)));
  };
  emitChunks(
      KB, P,
      {[&](KernelBuilder &CKB, Value *Chunk) {
         Value *Part = PartOf(CKB, Chunk);
         CKB.forRange(Dw, [&](Value *I) { CKB.store(CKB.f32(0), Part, I); });
       },
       [&](KernelBuilder &CKB, Value *Chunk, Value *N) {
         IRBuilder<> &CB = CKB.builder();
         Value *X = offsetPtr(CB, CKB.in(0),
                              CB.CreateMul(N, CKB.i64(D.C * D.H * D.W)));
         Value *Dy =
             offsetPtr(CB, CKB.in(1), CB.CreateMul(N, CKB.i64(D.K * Pix)));
         Value *Col =
             offsetPtr(CB, ColT, CB.CreateMul(Chunk, CKB.i64(Pix * Crs)));
         emitIm2Col(CKB, D, X, Col, /*RowStride=*/1, /*ColStride=*/Crs);
         CB.CreateCall(Gemm, {PartOf(CKB, Chunk), Dy, Col});
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

/// The weight gradient as row dot products over the forward unfolding:
/// lanes[chunk] (+)= lane partials of dy[n] . col[crs] along p (DotTile.h),
/// col = im2col(x[n]) [CRS, P] (x[n] itself for a pointwise convolution).
void emitGradWeightDots(KernelBuilder &KB, const ConvDims &D) {
  IRBuilder<> &B = KB.builder();
  Module &M = moduleOf(KB);
  ConvPlan P(D);
  int64_t Crs = D.crs(), Pix = D.pixels(), Dw = D.K * Crs;
  int64_t VW = dotLanes(M), LaneFloats = Dw * VW;
  DotShape S;
  S.M = D.K;
  S.N = Crs;
  S.L = Pix;
  S.ARow = Pix;
  S.BRow = Pix;
  Function *Dots = getRowDots(M, S);
  Value *Col = D.isPointwise() ? nullptr
                               : staticBuffer(M, P.Chunks * Crs * Pix,
                                              kernelName(KB) + ".col");
  Value *Lanes =
      staticBuffer(M, P.Chunks * LaneFloats, kernelName(KB) + ".lanes");
  emitChunks(
      KB, P,
      {nullptr, [&](KernelBuilder &CKB, Value *Chunk, Value *N) {
         IRBuilder<> &CB = CKB.builder();
         Value *X = offsetPtr(CB, CKB.in(0),
                              CB.CreateMul(N, CKB.i64(D.C * D.H * D.W)));
         Value *Dy =
             offsetPtr(CB, CKB.in(1), CB.CreateMul(N, CKB.i64(D.K * Pix)));
         Value *Src = X;
         if (Col) {
           Src = offsetPtr(CB, Col, CB.CreateMul(Chunk, CKB.i64(Crs * Pix)));
           emitIm2Col(CKB, D, X, Src, /*RowStride=*/Pix, /*ColStride=*/1);
         }
         // The chunk's first image overwrites the partials of the last step.
         Value *Fresh =
             CB.CreateICmpEQ(N, CB.CreateMul(Chunk, CKB.i64(P.PerChunk)));
         Value *Part =
             offsetPtr(CB, Lanes, CB.CreateMul(Chunk, CKB.i64(LaneFloats)));
         CB.CreateCall(Dots, {Part, Dy, Src, Fresh});
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
/// The partial sums must fit the scratch budget.
bool useRowDots(const ConvDims &D, const ConvPlan &P, int64_t Lanes) {
  int64_t Pix = D.pixels(), Crs = D.crs();
  if (P.Chunks * D.K * Crs * Lanes > ScratchBudget)
    return false;
  if (D.isPointwise())
    return Pix >= 2 * Crs;
  if (D.K > RowDotsMaxK)
    return false;
  return Pix >= (D.Stride == 1 ? 1 : 4) * Crs;
}

} // namespace

void codegen::emitConv2dGradWeight(KernelBuilder &KB) {
  // (x : [N,C,H,W], dy : [N,K,OH,OW]) -> dw : [K,C,R,S]
  const Node &Nd = KB.node();
  ConvDims D =
      convDims(Nd.operand(0)->dims(), Nd.dims(), Nd.operand(1)->dims(), Nd.A);
  if (isEmpty(D))
    return KB.fillOut(KB.f32(0), Nd.Type.numElements());
  if (useRowDots(D, ConvPlan(D), dotLanes(moduleOf(KB))))
    return emitGradWeightDots(KB, D);
  emitGradWeightGemm(KB, D);
}

namespace {

/// Pool geometry: input [NC, H, W] (N and C fused), output [NC, OH, OW].
struct PoolDims {
  int64_t NC, H, W, OH, OW, Size, Stride;

  /// True when no input pixel lies in two windows.
  bool disjoint() const { return Stride >= Size; }
};

PoolDims poolDims(ArrayRef<int64_t> X, ArrayRef<int64_t> Y, const Attrs &A) {
  return {X[0] * X[1], X[2], X[3], Y[2], Y[3], A.Size, A.Stride};
}

/// Windows of at most this many elements are unrolled in the IR.
constexpr int64_t UnrollWindow = 16;

/// Indices into one output row (nc, oh) and the input rows its windows
/// read: `out(ow)` and `in(a, b, ow)` for window element (a, b) of output
/// column ow.
struct PoolRow {
  KernelBuilder &KB;
  const PoolDims &P;
  Value *OutRow, *Plane, *Ih0;

  Value *out(Value *Ow) const { return KB.builder().CreateAdd(OutRow, Ow); }
  Value *in(Value *A, Value *Bv, Value *Ow) const {
    IRBuilder<> &B = KB.builder();
    Value *Row = B.CreateMul(B.CreateAdd(Ih0, A), KB.i64(P.W));
    Value *Col = B.CreateAdd(B.CreateMul(Ow, KB.i64(P.Stride)), Bv);
    return B.CreateAdd(Plane, B.CreateAdd(Row, Col));
  }
};

/// Runs `Body(row)` for every output row (nc, oh).
void forEachPoolRow(KernelBuilder &KB, const PoolDims &P,
                    function_ref<void(const PoolRow &)> Body) {
  IRBuilder<> &B = KB.builder();
  KB.forEach({P.NC, P.OH}, [&](ArrayRef<Value *> I) {
    Value *OutRow = B.CreateMul(
        B.CreateAdd(B.CreateMul(I[0], KB.i64(P.OH)), I[1]), KB.i64(P.OW));
    Body({KB, P, OutRow, B.CreateMul(I[0], KB.i64(P.H * P.W)),
          B.CreateMul(I[1], KB.i64(P.Stride))});
  });
}

/// Runs `Body(ow)` over the outputs of a row. With stride > 1 the input
/// reads are strided, which the vectorizer turns into gathers (and the
/// gradient's stores into scatters) that cost more than scalar code, so
/// such loops stay scalar; the unrolled window gives them parallelism.
void forEachOutCol(KernelBuilder &KB, const PoolDims &P,
                   function_ref<void(Value *)> Body) {
  loopOver(KB, KB.i64(0), KB.i64(P.OW), /*Scalar=*/P.Stride != 1, Body);
}

/// Visits the window elements (a, b) in row-major order. Small windows are
/// unrolled: independent loads and compares per output.
void forEachWindowElem(KernelBuilder &KB, const PoolDims &P,
                       function_ref<void(Value *, Value *)> Body) {
  if (P.Size * P.Size > UnrollWindow)
    return KB.forEach({P.Size, P.Size},
                      [&](ArrayRef<Value *> AB) { Body(AB[0], AB[1]); });
  for (int64_t A = 0; A < P.Size; ++A)
    for (int64_t Bv = 0; Bv < P.Size; ++Bv)
      Body(KB.i64(A), KB.i64(Bv));
}

/// Per output column of `Row`: the first maximum of its window into `Best`
/// and its input index into `BestIdx` (scalar accumulators).
void windowArgMax(KernelBuilder &KB, const PoolDims &P, const PoolRow &Row,
                  Value *Ow, AllocaInst *Best, AllocaInst *BestIdx) {
  IRBuilder<> &B = KB.builder();
  Value *First = Row.in(KB.i64(0), KB.i64(0), Ow);
  B.CreateStore(KB.loadOperand(0, First), Best);
  B.CreateStore(First, BestIdx);
  // A later element wins only when strictly greater (NaN never does).
  forEachWindowElem(KB, P, [&](Value *A, Value *Bv) {
    Value *Idx = Row.in(A, Bv, Ow);
    Value *X = KB.loadOperand(0, Idx);
    Value *Cur = B.CreateLoad(B.getFloatTy(), Best);
    Value *Better = B.CreateFCmpOGT(X, Cur);
    B.CreateStore(B.CreateSelect(Better, X, Cur), Best);
    B.CreateStore(
        B.CreateSelect(Better, Idx, B.CreateLoad(B.getInt64Ty(), BestIdx)),
        BestIdx);
  });
}

/// Outputs per vector of the 2x2/2 pools.
constexpr int64_t PV = 16;

/// True for the 2x2 windows with stride 2 of most CNNs, which are read by
/// explicit vectors: one load of 2*PV input floats and two shuffles give a
/// window row's even and odd columns for PV outputs. (The loop vectorizer
/// would read the same data with gathers.)
bool isVectorPool(KernelBuilder &KB, const PoolDims &P,
                  ArrayRef<unsigned> Operands) {
  if (P.Size != 2 || P.Stride != 2 || P.OW == 0 || KB.OperandLoader)
    return false;
  return llvm::all_of(Operands, [&](unsigned I) { return KB.in(I); });
}

/// Runs `Body(row, ow0, count)` over blocks of PV outputs of every row: a
/// loop over the full blocks, then one tail block of `count` < PV outputs.
void forEachPoolBlock(
    KernelBuilder &KB, const PoolDims &P,
    function_ref<void(const PoolRow &, Value *, int64_t)> Body) {
  IRBuilder<> &B = KB.builder();
  forEachPoolRow(KB, P, [&](const PoolRow &Row) {
    KB.forRange(P.OW / PV, [&](Value *Blk) {
      Body(Row, B.CreateMul(Blk, KB.i64(PV)), PV);
    });
    if (P.OW % PV)
      Body(Row, KB.i64(P.OW / PV * PV), P.OW % PV);
  });
}

/// Lane mask of a <Lanes x float> access with the first `Valid` lanes on.
Constant *laneMask(IRBuilder<> &B, int64_t Lanes, int64_t Valid) {
  SmallVector<Constant *, 32> Bits;
  for (int64_t L = 0; L < Lanes; ++L)
    Bits.push_back(B.getInt1(L < Valid));
  return ConstantVector::get(Bits);
}

/// <Lanes x float> at Ptr[Idx], the first `Valid` lanes only.
Value *loadVec(IRBuilder<> &B, Value *Ptr, Value *Idx, int64_t Lanes,
               int64_t Valid) {
  auto *Ty = FixedVectorType::get(B.getFloatTy(), Lanes);
  Value *At = B.CreateInBoundsGEP(B.getFloatTy(), Ptr, Idx);
  if (Valid == Lanes)
    return B.CreateAlignedLoad(Ty, At, Align(4));
  return B.CreateMaskedLoad(Ty, At, Align(4), laneMask(B, Lanes, Valid),
                            Constant::getNullValue(Ty));
}

void storeVec(IRBuilder<> &B, Value *V, Value *Ptr, Value *Idx, int64_t Valid) {
  int64_t Lanes = cast<FixedVectorType>(V->getType())->getNumElements();
  Value *At = B.CreateInBoundsGEP(B.getFloatTy(), Ptr, Idx);
  if (Valid == Lanes)
    B.CreateAlignedStore(V, At, Align(4));
  else
    B.CreateMaskedStore(V, At, Align(4), laneMask(B, Lanes, Valid));
}

/// The four window elements of PV outputs, in row-major window order:
/// {x(0,0), x(0,1), x(1,0), x(1,1)}, each a <PV x float>.
SmallVector<Value *, 4> loadWindows(KernelBuilder &KB, unsigned Operand,
                                    const PoolRow &Row, Value *Ow0,
                                    int64_t Count) {
  IRBuilder<> &B = KB.builder();
  SmallVector<Value *, 4> E;
  for (int64_t A = 0; A < 2; ++A) {
    Value *Pair = loadVec(B, KB.in(Operand), Row.in(KB.i64(A), KB.i64(0), Ow0),
                          2 * PV, 2 * Count);
    for (int64_t Phase = 0; Phase < 2; ++Phase) {
      SmallVector<int, PV> Mask;
      for (int64_t L = 0; L < PV; ++L)
        Mask.push_back(int(2 * L + Phase));
      E.push_back(B.CreateShuffleVector(Pair, Mask));
    }
  }
  return E;
}

/// Stores the even and odd columns of window row `A` for PV outputs.
void storeWindowRow(KernelBuilder &KB, const PoolRow &Row, Value *Ow0,
                    int64_t Count, int64_t A, Value *Even, Value *Odd) {
  IRBuilder<> &B = KB.builder();
  SmallVector<int, 2 * PV> Mask;
  for (int64_t L = 0; L < 2 * PV; ++L)
    Mask.push_back(int(L / 2 + (L % 2) * PV));
  storeVec(B, B.CreateShuffleVector(Even, Odd, Mask), KB.out(),
           Row.in(KB.i64(A), KB.i64(0), Ow0), 2 * Count);
}

/// The first maximum of each window (strict `>`, as the scalar kernels)
/// and, in `Which`, its position 0..3 in window order.
Value *vectorArgMax(IRBuilder<> &B, ArrayRef<Value *> E, Value **Which) {
  Value *Best = E[0];
  Value *Pos = ConstantInt::get(FixedVectorType::get(B.getInt32Ty(), PV), 0);
  for (unsigned I = 1; I < E.size(); ++I) {
    Value *Gt = B.CreateFCmpOGT(E[I], Best);
    Best = B.CreateSelect(Gt, E[I], Best);
    Pos = B.CreateSelect(Gt, B.CreateVectorSplat(PV, B.getInt32(I)), Pos);
  }
  if (Which)
    *Which = Pos;
  return Best;
}

/// emitPool for isVectorPool shapes.
void emitVectorPool(KernelBuilder &KB, const PoolDims &P, bool IsMax) {
  IRBuilder<> &B = KB.builder();
  forEachPoolBlock(KB, P, [&](const PoolRow &Row, Value *Ow0, int64_t Count) {
    SmallVector<Value *, 4> E = loadWindows(KB, 0, Row, Ow0, Count);
    Value *R;
    if (IsMax) {
      R = vectorArgMax(B, E, nullptr);
    } else {
      // The scalar kernel's order: ((0 + x00) + x01) + x10) + x11.
      R = Constant::getNullValue(E[0]->getType());
      for (Value *V : E)
        R = B.CreateFAdd(R, V);
      R = B.CreateFMul(R, B.CreateVectorSplat(PV, KB.f32(0.25)));
    }
    storeVec(B, R, KB.out(), Row.out(Ow0), Count);
  });
}

} // namespace

void codegen::emitPool(KernelBuilder &KB, bool IsMax) {
  const Node &Nd = KB.node();
  IRBuilder<> &B = KB.builder();
  PoolDims P = poolDims(Nd.operand(0)->dims(), Nd.dims(), Nd.A);
  if (P.Size == 0) // no window: nothing to pool (shape rules forbid it)
    return KB.fillOut(KB.f32(0), Nd.Type.numElements());
  if (isVectorPool(KB, P, {0}))
    return emitVectorPool(KB, P, IsMax);
  AllocaInst *Acc = KB.scratch(B.getFloatTy(), "acc");
  AllocaInst *AccIdx = KB.scratch(B.getInt64Ty(), "acc.idx");
  forEachPoolRow(KB, P, [&](const PoolRow &Row) {
    forEachOutCol(KB, P, [&](Value *Ow) {
      if (IsMax) {
        windowArgMax(KB, P, Row, Ow, Acc, AccIdx);
        KB.store(B.CreateLoad(B.getFloatTy(), Acc), KB.out(), Row.out(Ow));
        return;
      }
      B.CreateStore(KB.f32(0), Acc);
      forEachWindowElem(KB, P, [&](Value *A, Value *Bv) {
        Value *X = KB.loadOperand(0, Row.in(A, Bv, Ow));
        B.CreateStore(B.CreateFAdd(B.CreateLoad(B.getFloatTy(), Acc), X), Acc);
      });
      Value *Mean = B.CreateFMul(B.CreateLoad(B.getFloatTy(), Acc),
                                 KB.f32(1.0 / double(P.Size * P.Size)));
      KB.store(Mean, KB.out(), Row.out(Ow));
    });
  });
}

void codegen::emitMaxPoolGrad(KernelBuilder &KB) {
  // (x, dy) -> dx: each dy goes to the first maximum of its window.
  const Node &Nd = KB.node();
  IRBuilder<> &B = KB.builder();
  PoolDims P = poolDims(Nd.operand(0)->dims(), Nd.operand(1)->dims(), Nd.A);
  KB.fillOut(KB.f32(0), Nd.Type.numElements());
  if (P.Size == 0)
    return;
  if (isVectorPool(KB, P, {0, 1})) {
    // dy to the window element that won, 0 to the other three.
    forEachPoolBlock(KB, P, [&](const PoolRow &Row, Value *Ow0, int64_t Count) {
      Value *Which;
      vectorArgMax(B, loadWindows(KB, 0, Row, Ow0, Count), &Which);
      Value *Dy = loadVec(B, KB.in(1), Row.out(Ow0), PV, Count);
      Value *Zero = Constant::getNullValue(Dy->getType());
      auto At = [&](int64_t Pos) {
        return B.CreateSelect(
            B.CreateICmpEQ(Which, B.CreateVectorSplat(PV, B.getInt32(Pos))), Dy,
            Zero);
      };
      for (int64_t A = 0; A < 2; ++A)
        storeWindowRow(KB, Row, Ow0, Count, A, At(2 * A), At(2 * A + 1));
    });
    return;
  }
  AllocaInst *Best = KB.scratch(B.getFloatTy(), "best");
  AllocaInst *BestIdx = KB.scratch(B.getInt64Ty(), "best.idx");
  if (P.disjoint()) {
    // Every pixel is in at most one window: each window element is stored
    // once (dy at the maximum, 0 elsewhere), with no read of dx, so the
    // loop over a row's windows vectorizes.
    forEachPoolRow(KB, P, [&](const PoolRow &Row) {
      forEachOutCol(KB, P, [&](Value *Ow) {
        windowArgMax(KB, P, Row, Ow, Best, BestIdx);
        Value *Dy = KB.loadOperand(1, Row.out(Ow));
        Value *Max = B.CreateLoad(B.getInt64Ty(), BestIdx);
        forEachWindowElem(KB, P, [&](Value *A, Value *Bv) {
          Value *Idx = Row.in(A, Bv, Ow);
          KB.store(B.CreateSelect(B.CreateICmpEQ(Idx, Max), Dy, KB.f32(0)),
                   KB.out(), Idx);
        });
      });
    });
    return;
  }
  // Overlapping windows: the maxima of a row first (vectorizable), then
  // one serial scatter-add in output order.
  int64_t Cols = std::max<int64_t>(P.OW, 1);
  AllocaInst *RowIdx =
      KB.scratch(ArrayType::get(B.getInt64Ty(), Cols), "row.idx");
  auto IdxAt = [&](Value *Ow) {
    return B.CreateInBoundsGEP(B.getInt64Ty(), RowIdx, Ow);
  };
  forEachPoolRow(KB, P, [&](const PoolRow &Row) {
    forEachOutCol(KB, P, [&](Value *Ow) {
      windowArgMax(KB, P, Row, Ow, Best, BestIdx);
      B.CreateStore(B.CreateLoad(B.getInt64Ty(), BestIdx), IdxAt(Ow));
    });
    forEachOutCol(KB, P, [&](Value *Ow) {
      Value *Idx = B.CreateLoad(B.getInt64Ty(), IdxAt(Ow));
      Value *Dy = KB.loadOperand(1, Row.out(Ow));
      KB.store(B.CreateFAdd(KB.load(DType::F32, KB.out(), Idx), Dy), KB.out(),
               Idx);
    });
  });
}

void codegen::emitAvgPoolGrad(KernelBuilder &KB) {
  // dy -> dx: each dy spreads evenly over its window.
  const Node &Nd = KB.node();
  IRBuilder<> &B = KB.builder();
  PoolDims P = poolDims(Nd.dims(), Nd.operand(0)->dims(), Nd.A);
  KB.fillOut(KB.f32(0), Nd.Type.numElements());
  if (P.Size == 0)
    return;
  Value *Scale = KB.f32(1.0 / double(P.Size * P.Size));
  if (isVectorPool(KB, P, {0})) {
    forEachPoolBlock(KB, P, [&](const PoolRow &Row, Value *Ow0, int64_t Count) {
      Value *G = B.CreateFMul(loadVec(B, KB.in(0), Row.out(Ow0), PV, Count),
                              B.CreateVectorSplat(PV, Scale));
      for (int64_t A = 0; A < 2; ++A)
        storeWindowRow(KB, Row, Ow0, Count, A, G, G);
    });
    return;
  }
  forEachPoolRow(KB, P, [&](const PoolRow &Row) {
    if (P.disjoint()) {
      // One store per pixel, no read of dx: vectorizes like the forward.
      forEachOutCol(KB, P, [&](Value *Ow) {
        Value *G = B.CreateFMul(KB.loadOperand(0, Row.out(Ow)), Scale);
        forEachWindowElem(KB, P, [&](Value *A, Value *Bv) {
          KB.store(G, KB.out(), Row.in(A, Bv, Ow));
        });
      });
      return;
    }
    // Overlapping windows add into shared pixels. For a fixed window
    // offset the outputs of a row still write distinct pixels, so the
    // inner loop over them has no conflicts.
    forEachWindowElem(KB, P, [&](Value *A, Value *Bv) {
      forEachOutCol(KB, P, [&](Value *Ow) {
        Value *G = B.CreateFMul(KB.loadOperand(0, Row.out(Ow)), Scale);
        Value *Idx = Row.in(A, Bv, Ow);
        KB.store(B.CreateFAdd(KB.load(DType::F32, KB.out(), Idx), G), KB.out(),
                 Idx);
      });
    });
  });
}
