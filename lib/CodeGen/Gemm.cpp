//===- Gemm.cpp - Register-tiled, packed, threaded matrix product ---------===//
//
// C (+)= A * B over static shapes, in the BLIS style, with explicit
// vector IR as wide as the target's registers (`<16 x float>` on AVX-512,
// `<8 x float>` on AVX2: the module's VectorUnit, Target.h) so the result
// does not depend on what the loop vectorizer guesses:
//
//  1. Columns of C are cut into panels of NR = 2 vectors, rows into tiles
//     of MR rows (8 on AVX-512, 6 with 16 registers). A micro-kernel keeps
//     one MR x NR tile of C in 2 * MR vector accumulators; per k it loads
//     two vectors of B, broadcasts MR elements of A and issues 2 * MR FMAs
//     (`llvm.fmuladd`: one vfmadd231ps per vector). When one vector holds
//     all N columns, the panel is that vector and the tile 12 rows tall.
//     Ragged edges use a smaller row tile and masked loads/stores on the
//     last panel, so no shape needs padding.
//  2. B is packed panel by panel into a contiguous [K][NR] strip (zero-filled
//     past N) when it is read transposed (column stride != 1) or reused by
//     many row tiles; a row-major B reused by few rows is read in place.
//     A is never packed: its MR broadcasts per k are MR sequential streams
//     (or one contiguous run when A is read transposed). A convolution's
//     A may come with tables of where its rows and its columns start (the
//     unfolded image read in place, Gemm.h), loaded outside the k loop
//     and once per k.
//  3. k is blocked by KC so the B strip of one block (KC x NR floats, 32 KB)
//     stays in L1 while every row tile of the task sweeps over it; C is
//     reloaded between blocks.
//  4. Tasks are (panel, row chunk) pairs. A product big enough to pay for
//     the hand-off runs them through the runtime's `nnc_parallel_for`;
//     smaller ones call the task function directly. Each element of C is
//     computed by exactly one task, in k order, by the same code whatever
//     the thread count, so results are bitwise independent of it.
//  5. Around a weight matrix of 128 KB or more the tasks follow its rows
//     instead, so that each thread keeps the rows it claims from one
//     kernel to the next (Plan::RowTasks, Plan::KParts): the forward
//     (small C) cuts k in halves, the second computed into a scratch and
//     added afterwards; the weight gradient (small B) runs blocks of rows
//     over every panel, B packed before them. The split is a function of
//     the shape alone, so results still do not depend on the threads.
//
//===----------------------------------------------------------------------===//
#include "Gemm.h"
#include "KernelBuilder.h"
#include "RuntimeCalls.h"
#include "Transpose.h"

#include "nnc/CodeGen/Target.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/Twine.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include <algorithm>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

/// Most rows of a one-vector panel's register tile (see Plan::MR).
constexpr int64_t MaxOneVectorRows = 12;
/// Floats of one k block of a B strip (32 KB): it stays in L1.
constexpr int64_t StripBlockFloats = 8192;
/// Products below this many flops run on the calling thread only.
constexpr int64_t ParallelFlops = 1 << 21;
/// ... unless B is at least this large (it does not fit in L2).
constexpr int64_t ParallelBytes = 512 << 10;
/// Row blocks of a weight matrix kept by one thread across the products of
/// a step (Plan::RowTasks, KParts); 8 like the update epilogue's pieces.
constexpr int64_t OwnedParts = 8;
/// Smallest weight matrix (B of the forward, C of the weight gradient)
/// whose rows are kept by their threads.
constexpr int64_t OwnedBytes = 128 << 10;
/// Largest B that row-chunk tasks share, packed before them on the calling
/// thread (read in place, its rows' power-of-two strides thrash L1 sets).
constexpr int64_t MaxPackFirstBytes = 64 << 10;
/// Shortest k cut in halves.
constexpr int64_t MinSplitK = 128;
/// Largest C whose k halves are computed apart and added.
constexpr int64_t MaxSplitKBytes = 64 << 10;

/// The derived blocking of one shape for one vector unit.
struct Plan {
  GemmShape S;
  int64_t VW; // floats per vector
  int64_t NV; // vectors per panel row
  int64_t NR; // panel width, NV vectors
  int64_t MR; // rows per register tile
  int64_t KC; // k block
  int64_t Panels, Tiles, TilesPerChunk, Chunks;
  int64_t FullPanels,
      TailCols; // TailCols: valid columns of a last, partial panel
  int64_t FullTiles, TailRows; // TailRows: rows of a last, partial tile
  /// A short last tile has too few accumulators to hide the FMA latency
  /// (2 pipes x 4 cycles on current x86 cores want 8 in flight): then the
  /// last two tiles share their rows, Hi + Lo = MR + TailRows (M = 32 on
  /// AVX2 is 6+6+6+6+4+4, not 6+6+6+6+6+2).
  bool SplitTail;
  int64_t HiRows, LoRows;
  bool PackB;
  bool Parallel;
  /// Tasks are row chunks that each run every panel (see the constructor).
  bool RowTasks = false;
  /// k cut into this many parts of KPerPart; part p > 0 computes into the
  /// scratch C number p - 1, which is added to C after the tasks (never
  /// for a product that accumulates into C).
  int64_t KParts = 1, KPerPart = 0;

  Plan(const GemmShape &Sh, const VectorUnit &VU) : S(Sh) {
    VW = VU.Floats;
    // Two vectors per panel, unless one vector holds every column: then
    // a second would be all padding and the tile half empty.
    NV = S.N <= VW ? 1 : 2;
    NR = NV * VW;
    // The tile's MR * NV accumulators, the NV vectors of B and one
    // broadcast of A must all stay in registers: 8 x 2 zmm on AVX-512
    // (19 of 32), 6 x 2 ymm on AVX2 (15 of 16). More rows than 8 did not
    // pay on AVX-512 with two vectors (the A broadcasts become the
    // bottleneck). With one vector every FMA needs a broadcast of its
    // own whatever MR is; 8, 12 and 16 rows ran resnet_s2's 16-channel
    // weight gradient (M = 144, N = 16) equally fast on Zen 5, and 12
    // still leaves AVX2 a register for B and one for the broadcast.
    MR = NV == 2 ? std::min<int64_t>(8, (VU.Registers - NV - 1) / NV)
                 : std::min(MaxOneVectorRows, VU.Registers - 2);
    KC = StripBlockFloats / NR;
    Panels = (S.N + NR - 1) / NR;
    FullPanels = S.N / NR;
    TailCols = S.N % NR;
    Tiles = (S.M + MR - 1) / MR;
    FullTiles = S.M / MR;
    TailRows = S.M % MR;
    SplitTail = FullTiles >= 1 && TailRows != 0 && TailRows * NV < 8;
    HiRows = (MR + TailRows + 1) / 2;
    LoRows = MR + TailRows - HiRows;
    // Packing costs K*N copies; it pays when the strip is reused by enough
    // row tiles, and it is the only way to read a transposed B by vectors.
    PackB = S.BCol != 1 || (S.AllowPacking && Tiles >= 4);
    int64_t Flops = 2 * S.M * S.N * S.K;
    // Packing happens inside the task that owns the panel, so a packed
    // product is split by panels only.
    TilesPerChunk = Tiles;
    if (!PackB && Panels < 4)
      TilesPerChunk = std::max<int64_t>(1, Tiles / ((4 + Panels - 1) / Panels));
    Chunks = (Tiles + TilesPerChunk - 1) / TilesPerChunk;
    // A product with few rows (inference at batch 1) is bound by reading B
    // from L3 or memory, not by flops: two cores have twice the bandwidth.
    int64_t BBytes = 4 * S.K * S.N;
    Parallel = S.AllowThreads && Panels * Chunks >= 2 &&
               (Flops >= ParallelFlops || BBytes >= ParallelBytes);
    // A weight matrix of OwnedBytes or more is touched by three kernels
    // of a training step: the forward reads it as B, the weight
    // gradient writes its shape as C, the update's epilogue rewrites it by
    // rows. Cut by column panels, every row of it is shared by the two
    // cores at 128-byte granularity, and the lines (and their prefetched
    // neighbours) move between cores in every kernel: on cores that share
    // no cache the MLP's first update ran 4.7x slower on two threads than
    // on one. Cut by row blocks in all three, in the same front-to-back
    // order the pool claims tasks in, each core keeps its rows
    // (docs/performance.md, session 15).
    bool Plain = S.BRows.empty() && S.ARows.empty() && S.ACols.empty() &&
                 S.BCol == 1 && !S.Accumulate && Parallel;
    // The weight gradient (C large, B small): tasks are row chunks over
    // every panel of B, packed first.
    int64_t CBytes = 4 * S.M * S.N;
    RowTasks = Plain && CBytes >= OwnedBytes && BBytes <= MaxPackFirstBytes &&
               Tiles >= 2 * OwnedParts;
    if (RowTasks) {
      TilesPerChunk = (Tiles + OwnedParts - 1) / OwnedParts;
      Chunks = (Tiles + TilesPerChunk - 1) / TilesPerChunk;
    }
    // The forward (B large, C small): k is cut into halves, the second
    // half's partial product goes to a scratch C and is added afterwards.
    // Equal halves keep every part's loops counted by constants.
    KParts = Plain && !RowTasks && BBytes >= OwnedBytes &&
                     CBytes <= MaxSplitKBytes && S.K >= MinSplitK &&
                     S.K % 2 == 0
                 ? 2
                 : 1;
    KPerPart = S.K / KParts;
  }

  /// Tasks of the parallel loop: (part, panel, chunk) triples, or row
  /// chunks.
  int64_t tasks() const {
    return KParts * (RowTasks ? Chunks : Panels * Chunks);
  }
};

/// Emits the product into `@nnc.gemm.<key>` and its task function.
class GemmEmitter {
public:
  GemmEmitter(Module &M, const Plan &P)
      : M(M), P(P), B(M.getContext()), VW(P.VW), NV(P.NV), NR(P.NR), MR(P.MR),
        KC(P.KC) {
    Ctx = &M.getContext();
    F32 = B.getFloatTy();
    I64 = B.getInt64Ty();
    Ptr = PointerType::getUnqual(*Ctx);
    VecTy = FixedVectorType::get(F32, VW);
  }

  Function *emit(StringRef Name);

private:
  Function *emitTask(StringRef Name);
  void emitTaskBody(Value *C, Value *A, Value *Bm, Value *T);
  void emitPanel(Value *C, Value *A, Value *Bm, Value *Panel, Value *Chunk,
                 Value *Part);
  void emitPartSum(Value *C);
  /// Runs `Emit(Tail)` for the full-panel and the partial-panel variant.
  void byPanel(Value *Panel, function_ref<void(bool)> Emit);
  /// Where panel `Panel` of B is packed.
  Value *stripOf(Value *Panel) {
    return B.CreateInBoundsGEP(F32, PackBuf, B.CreateMul(Panel, c(P.S.K * NR)),
                               "strip");
  }
  void emitPack(Value *Dst, Value *Bm, Value *Panel, Value *KLo, Value *KHi,
                bool Tail);
  void emitTransposedPack(Value *Dst, Value *Bm, Value *Col0, int64_t Cols,
                          function_ref<void(Value *, Value *)> Copy);
  void emitTile(Value *C, Value *A, Value *BStrip, int64_t BRowStride,
                Value *Row0, Value *Col0, Value *K0, Value *K1, Value *Fresh,
                int64_t Rows, bool TailPanel);
  /// Offset of row `K` of B from its start: by the table or the stride.
  Value *bRowStart(Value *K, int64_t RowStride) {
    return Table ? loadRowStart(B, Table, K) : B.CreateMul(K, c(RowStride));
  }
  /// Not unrolled: the micro-kernel is unrolled by construction (a tile
  /// of FMAs per k), and unrolling the packing and tile loops around it
  /// doubled the GEMMs' share of compile time (~half of lenet.nn's) for no
  /// measurable speed.
  void loop(Value *Lo, Value *Hi, function_ref<void(Value *)> Body,
            const Twine &Name) {
    emitCountedLoop(B, Lo, Hi, Body, Name, {.Unroll = false});
  }
  Value *c(int64_t V) { return B.getInt64(V); }
  /// Lane mask of the last vector of a partial panel (null: all lanes).
  Value *laneMask(int64_t Vec, bool TailPanel);

  Module &M;
  const Plan &P;
  IRBuilder<> B;
  const int64_t VW, NV, NR, MR, KC; // P's blocking, by their usual names
  LLVMContext *Ctx;
  Type *F32, *I64, *Ptr;
  FixedVectorType *VecTy;
  Value *PackBuf = nullptr;
  /// The partial products of k parts after the first (Plan::KParts).
  Value *PartBuf = nullptr;
  /// B's row table and A's row and column tables (P.S.BRows, ARows,
  /// ACols), where the shape has them.
  GlobalVariable *Table = nullptr, *ATable = nullptr, *AColTable = nullptr;
};

Value *GemmEmitter::laneMask(int64_t Vec, bool TailPanel) {
  if (!TailPanel)
    return nullptr;
  int64_t Valid = P.TailCols - Vec * VW;
  if (Valid >= VW)
    return nullptr;
  SmallVector<Constant *, 16> Bits;
  for (int64_t L = 0; L < VW; ++L)
    Bits.push_back(B.getInt1(L < Valid));
  return ConstantVector::get(Bits);
}

void GemmEmitter::emitPack(Value *Dst, Value *Bm, Value *Panel, Value *KLo,
                           Value *KHi, bool Tail) {
  const GemmShape &S = P.S;
  int64_t Cols = Tail ? P.TailCols : NR;
  Value *Col0 = B.CreateMul(Panel, c(NR));
  // Walk the source in its contiguous direction: k innermost for a
  // transposed B (BRow == 1), j innermost otherwise.
  auto Copy = [&](Value *K, Value *J) {
    Value *Src = B.CreateAdd(bRowStart(K, S.BRow),
                             B.CreateMul(B.CreateAdd(Col0, J), c(S.BCol)));
    Value *V = B.CreateLoad(F32, B.CreateInBoundsGEP(F32, Bm, Src));
    Value *DIdx = B.CreateAdd(B.CreateMul(K, c(NR)), J);
    B.CreateStore(V, B.CreateInBoundsGEP(F32, Dst, DIdx));
  };
  if (S.BRows.empty() && S.BRow == 1 && S.BCol != 1) {
    assert(P.KParts == 1 && "a transposed B is packed whole");
    emitTransposedPack(Dst, Bm, Col0, Cols, Copy);
  } else {
    loop(
        KLo, KHi,
        [&](Value *K) {
          loop(c(0), c(Cols), [&](Value *J) { Copy(K, J); }, "pack.j");
        },
        "pack.k");
  }
  if (Cols == NR)
    return;
  // Zero the columns past N so the micro-kernel reads whole vectors.
  loop(
      KLo, KHi,
      [&](Value *K) {
        loop(
            c(Cols), c(NR),
            [&](Value *J) {
              Value *DIdx = B.CreateAdd(B.CreateMul(K, c(NR)), J);
              B.CreateStore(ConstantFP::get(F32, 0.0),
                            B.CreateInBoundsGEP(F32, Dst, DIdx));
            },
            "pack.z");
      },
      "pack.zk");
}

/// A transposed B (BRow == 1: k is contiguous) packed by VW x VW blocks:
/// VW columns of B are loaded as vectors along k, transposed in registers
/// and stored as VW vectors of the panel's rows, so the copy moves whole
/// vectors both ways. Element by element, every store went to another
/// cache line of the panel; that copy cost more than the product itself
/// at 64 rows (dX = dY * W^T in training, a PyTorch Linear imported from
/// ONNX). The k and column remainders are copied one by one.
void GemmEmitter::emitTransposedPack(
    Value *Dst, Value *Bm, Value *Col0, int64_t Cols,
    function_ref<void(Value *, Value *)> Copy) {
  const GemmShape &S = P.S;
  int64_t KBlocks = S.K / VW, Groups = Cols / VW;
  Align StoreAlign(std::min<uint64_t>(64, uint64_t(4 * VW)));
  if (KBlocks > 0 && Groups > 0)
    loop(
        c(0), c(KBlocks),
        [&](Value *Block) {
          Value *K0 = B.CreateMul(Block, c(VW));
          for (int64_t G = 0; G < Groups; ++G) {
            SmallVector<Value *, 16> V;
            for (int64_t R = 0; R < VW; ++R) {
              Value *Col = B.CreateAdd(Col0, c(G * VW + R));
              Value *Src = B.CreateAdd(K0, B.CreateMul(Col, c(S.BCol)));
              V.push_back(B.CreateAlignedLoad(
                  VecTy, B.CreateInBoundsGEP(F32, Bm, Src), Align(4)));
            }
            transposeInRegisters(B, V);
            for (int64_t K = 0; K < VW; ++K) {
              Value *At = B.CreateAdd(B.CreateMul(B.CreateAdd(K0, c(K)), c(NR)),
                                      c(G * VW));
              B.CreateAlignedStore(V[K], B.CreateInBoundsGEP(F32, Dst, At),
                                   StoreAlign);
            }
          }
        },
        "pack.t");
  if (S.K % VW)
    loop(
        c(KBlocks * VW), c(S.K),
        [&](Value *K) {
          loop(c(0), c(Cols), [&](Value *J) { Copy(K, J); }, "pack.tj");
        },
        "pack.tk");
  if (Cols % VW)
    loop(
        c(Groups * VW), c(Cols),
        [&](Value *J) {
          loop(c(0), c(KBlocks * VW), [&](Value *K) { Copy(K, J); }, "pack.tk");
        },
        "pack.tj");
}

void GemmEmitter::emitTile(Value *C, Value *A, Value *BStrip,
                           int64_t BRowStride, Value *Row0, Value *Col0,
                           Value *K0, Value *K1, Value *Fresh, int64_t Rows,
                           bool TailPanel) {
  const GemmShape &S = P.S;
  // Vectors that hold at least one valid column.
  int64_t Vecs = TailPanel ? (P.TailCols + VW - 1) / VW : NV;
  // Packed strips are zero-padded, so only in-place reads need masks.
  bool MaskLoads = TailPanel && !P.PackB;
  Align VecAlign = P.PackB ? Align(64) : Align(4);

  auto CPtr = [&](int64_t R, int64_t V) {
    Value *Idx = B.CreateAdd(B.CreateMul(B.CreateAdd(Row0, c(R)), c(S.CRow)),
                             B.CreateAdd(Col0, c(V * VW)));
    return B.CreateInBoundsGEP(F32, C, Idx);
  };
  // Initial accumulators: zero where `Fresh` (the first k block of a
  // plain product's part), the current C otherwise.
  Constant *Zero = Constant::getNullValue(VecTy);
  // Where each row of A starts, before the loop over k.
  SmallVector<Value *, 8> ARowStart;
  for (int64_t R = 0; R < Rows; ++R) {
    Value *Row = B.CreateAdd(Row0, c(R));
    ARowStart.push_back(ATable ? loadRowStart(B, ATable, Row)
                               : B.CreateMul(Row, c(S.ARow)));
  }
  SmallVector<Value *, 32> Init;
  for (int64_t R = 0; R < Rows; ++R)
    for (int64_t V = 0; V < Vecs; ++V) {
      Value *Mask = laneMask(V, TailPanel);
      Value *Old = Mask ? (Value *)B.CreateMaskedLoad(VecTy, CPtr(R, V),
                                                      Align(4), Mask, Zero)
                        : B.CreateAlignedLoad(VecTy, CPtr(R, V), Align(4));
      Init.push_back(B.CreateSelect(Fresh, Zero, Old));
    }

  Function *F = B.GetInsertBlock()->getParent();
  BasicBlock *Pre = B.GetInsertBlock();
  BasicBlock *Body = BasicBlock::Create(*Ctx, "mk", F);
  BasicBlock *Exit = BasicBlock::Create(*Ctx, "mk.exit", F);
  B.CreateCondBr(B.CreateICmpSLT(K0, K1), Body, Exit);
  B.SetInsertPoint(Body);
  PHINode *K = B.CreatePHI(I64, 2, "k");
  K->addIncoming(K0, Pre);
  SmallVector<PHINode *, 32> Acc;
  for (Value *V : Init) {
    PHINode *Phi = B.CreatePHI(VecTy, 2, "acc");
    Phi->addIncoming(V, Pre);
    Acc.push_back(Phi);
  }
  SmallVector<Value *, 2> BVec;
  // A packed strip is evenly spaced whatever B's rows were.
  Value *BRowPtr = B.CreateInBoundsGEP(F32, BStrip,
                                       P.PackB ? B.CreateMul(K, c(BRowStride))
                                               : bRowStart(K, BRowStride));
  for (int64_t V = 0; V < Vecs; ++V) {
    Value *At = B.CreateConstInBoundsGEP1_64(F32, BRowPtr, V * VW);
    Value *Mask = MaskLoads ? laneMask(V, TailPanel) : nullptr;
    BVec.push_back(
        Mask ? (Value *)B.CreateMaskedLoad(VecTy, At, Align(4), Mask, Zero)
             : B.CreateAlignedLoad(VecTy, At, VecAlign));
  }
  Value *AK =
      AColTable ? loadRowStart(B, AColTable, K) : B.CreateMul(K, c(S.ACol));
  SmallVector<Value *, 32> Next;
  for (int64_t R = 0; R < Rows; ++R) {
    Value *AIdx = B.CreateAdd(ARowStart[R], AK);
    Value *Av = B.CreateLoad(F32, B.CreateInBoundsGEP(F32, A, AIdx));
    Value *Splat = B.CreateVectorSplat(VW, Av);
    for (int64_t V = 0; V < Vecs; ++V)
      Next.push_back(B.CreateIntrinsic(Intrinsic::fmuladd, {VecTy},
                                       {Splat, BVec[V], Acc[R * Vecs + V]}));
  }
  Value *KNext = B.CreateAdd(K, c(1), "", true, true);
  BasicBlock *Latch = B.GetInsertBlock();
  K->addIncoming(KNext, Latch);
  for (size_t I = 0; I < Acc.size(); ++I)
    Acc[I]->addIncoming(Next[I], Latch);
  BranchInst *Back = B.CreateCondBr(B.CreateICmpSLT(KNext, K1), Body, Exit);
  Back->setMetadata(LLVMContext::MD_loop,
                    loopMetadata(*Ctx, {.Vectorize = false, .Unroll = false}));

  B.SetInsertPoint(Exit);
  SmallVector<PHINode *, 32> Out;
  for (size_t I = 0; I < Init.size(); ++I) {
    Out.push_back(B.CreatePHI(VecTy, 2, "c"));
    Out.back()->addIncoming(Init[I], Pre);
    Out.back()->addIncoming(Next[I], Latch);
  }
  for (int64_t R = 0; R < Rows; ++R)
    for (int64_t V = 0; V < Vecs; ++V) {
      Value *Res = Out[R * Vecs + V];
      if (Value *Mask = laneMask(V, TailPanel))
        B.CreateMaskedStore(Res, CPtr(R, V), Align(4), Mask);
      else
        B.CreateAlignedStore(Res, CPtr(R, V), Align(4));
    }
}

void GemmEmitter::emitTaskBody(Value *C, Value *A, Value *Bm, Value *T) {
  if (P.RowTasks) {
    loop(
        c(0), c(P.Panels),
        [&](Value *Panel) { emitPanel(C, A, Bm, Panel, T, c(0)); }, "panel");
    return;
  }
  // With one part, T is the task of part 0 (constant k bounds).
  int64_t PerPart = P.Panels * P.Chunks;
  Value *Part = P.KParts > 1 ? B.CreateUDiv(T, c(PerPart), "part") : c(0);
  Value *InPart = P.KParts > 1 ? B.CreateURem(T, c(PerPart)) : T;
  emitPanel(C, A, Bm, B.CreateUDiv(InPart, c(P.Chunks), "panel"),
            B.CreateURem(InPart, c(P.Chunks), "chunk"), Part);
}

void GemmEmitter::byPanel(Value *Panel, function_ref<void(bool)> Emit) {
  if (P.TailCols == 0)
    return Emit(false);
  if (P.FullPanels == 0)
    return Emit(true);
  Function *F = B.GetInsertBlock()->getParent();
  BasicBlock *Full = BasicBlock::Create(*Ctx, "panel.full", F);
  BasicBlock *Part = BasicBlock::Create(*Ctx, "panel.tail", F);
  BasicBlock *Join = BasicBlock::Create(*Ctx, "panel.join", F);
  B.CreateCondBr(B.CreateICmpEQ(Panel, c(P.Panels - 1)), Part, Full);
  B.SetInsertPoint(Full);
  Emit(false);
  B.CreateBr(Join);
  B.SetInsertPoint(Part);
  Emit(true);
  B.CreateBr(Join);
  B.SetInsertPoint(Join);
}

void GemmEmitter::emitPanel(Value *C, Value *A, Value *Bm, Value *Panel,
                            Value *Chunk, Value *Part) {
  const GemmShape &S = P.S;
  Value *Col0 = B.CreateMul(Panel, c(NR), "col0");
  Function *F = B.GetInsertBlock()->getParent();

  // Part p computes k in [KLo, KHi), into C or its scratch.
  // (No wrap: the loops' guards then fold, every part being non-empty.)
  Value *KLo = B.CreateMul(Part, c(P.KPerPart), "klo", true, true);
  Value *KHi = B.CreateAdd(KLo, c(P.KPerPart), "khi", true, true);
  if (P.KParts > 1) {
    Value *Scratch = B.CreateInBoundsGEP(
        F32, PartBuf, B.CreateMul(B.CreateSub(Part, c(1)), c(S.M * S.CRow)));
    C = B.CreateSelect(B.CreateICmpEQ(Part, c(0)), C, Scratch, "c.part");
  }
  Value *Strip = B.CreateInBoundsGEP(F32, Bm, B.CreateMul(Col0, c(S.BCol)));
  int64_t StripRow = S.BRow;
  if (P.PackB) {
    Strip = stripOf(Panel);
    // Row tasks share every panel, packed before them (emit).
    if (!P.RowTasks)
      byPanel(Panel,
              [&](bool Tail) { emitPack(Strip, Bm, Panel, KLo, KHi, Tail); });
    StripRow = NR;
  }

  Value *TileLo = B.CreateMul(Chunk, c(P.TilesPerChunk));
  Value *TileHi = B.CreateAdd(TileLo, c(P.TilesPerChunk));
  TileHi =
      B.CreateSelect(B.CreateICmpSLT(TileHi, c(P.Tiles)), TileHi, c(P.Tiles));
  int64_t KBlocks = (P.KPerPart + KC - 1) / KC;
  loop(
      c(0), c(KBlocks),
      [&](Value *KB) {
        Value *K0 = B.CreateAdd(KLo, B.CreateMul(KB, c(KC)), "", true, true);
        Value *K1 = KHi;
        if (KBlocks > 1) {
          K1 = B.CreateAdd(K0, c(KC), "", true, true);
          K1 = B.CreateSelect(B.CreateICmpSLT(K1, KHi), K1, KHi);
        }
        Value *Fresh = S.Accumulate ? B.getFalse() : B.CreateICmpEQ(K0, KLo);
        byPanel(Panel, [&](bool Tail) {
          loop(
              TileLo, TileHi,
              [&](Value *Tile) {
                Value *Row0 = B.CreateMul(Tile, c(MR));
                auto Emit = [&](Value *R0, int64_t Rows) {
                  emitTile(C, A, Strip, StripRow, R0, Col0, K0, K1, Fresh, Rows,
                           Tail);
                };
                if (P.TailRows == 0)
                  return Emit(Row0, MR);
                if (P.FullTiles == 0)
                  return Emit(Row0, P.TailRows);
                // Full tiles, then the last one or two: a switch on the tile.
                BasicBlock *Full = BasicBlock::Create(*Ctx, "tile.full", F);
                BasicBlock *Join = BasicBlock::Create(*Ctx, "tile.join", F);
                SwitchInst *Sw = B.CreateSwitch(Tile, Full);
                auto Case = [&](int64_t Index, const char *Name,
                                function_ref<void()> Body) {
                  BasicBlock *BB = BasicBlock::Create(*Ctx, Name, F);
                  Sw->addCase(B.getInt64(Index), BB);
                  B.SetInsertPoint(BB);
                  Body();
                  B.CreateBr(Join);
                };
                if (P.SplitTail) {
                  Case(P.Tiles - 2, "tile.hi", [&] { Emit(Row0, P.HiRows); });
                  Case(P.Tiles - 1, "tile.lo", [&] {
                    Emit(c((P.Tiles - 2) * MR + P.HiRows), P.LoRows);
                  });
                } else {
                  Case(P.Tiles - 1, "tile.tail",
                       [&] { Emit(Row0, P.TailRows); });
                }
                B.SetInsertPoint(Full);
                Emit(Row0, MR);
                B.CreateBr(Join);
                B.SetInsertPoint(Join);
              },
              "tile");
        });
      },
      "kb");
}

/// C += each k part's scratch, in part order (C is small: Plan::KParts).
void GemmEmitter::emitPartSum(Value *C) {
  const GemmShape &S = P.S;
  loop(
      c(0), c(S.M),
      [&](Value *Row) {
        Value *RowAt = B.CreateMul(Row, c(S.CRow));
        emitCountedLoop(B, c(0), c(S.N),
                        [&](Value *Col) {
                          Value *At = B.CreateAdd(RowAt, Col);
                          Value *Dst = B.CreateInBoundsGEP(F32, C, At);
                          Value *Sum = B.CreateLoad(F32, Dst);
                          for (int64_t Part = 1; Part < P.KParts; ++Part) {
                            Value *Src = B.CreateInBoundsGEP(
                                F32, PartBuf,
                                B.CreateAdd(At, c((Part - 1) * S.M * S.CRow)));
                            Sum = B.CreateFAdd(Sum, B.CreateLoad(F32, Src));
                          }
                          B.CreateStore(Sum, Dst);
                        },
                        "partsum.col", {});
      },
      "partsum.row");
}

Function *GemmEmitter::emitTask(StringRef Name) {
  // ctx = {C, A, B}. The serial product calls the task too; noinline
  // keeps one copy of the tiled loops.
  Function *F = createTaskFunction(M, Name + ".task");
  F->addFnAttr(Attribute::NoInline);
  B.SetInsertPoint(BasicBlock::Create(*Ctx, "entry", F));
  SmallVector<Value *, 8> Fields = loadTaskContext(B, F->getArg(0), 3);
  Value *C = Fields[0], *A = Fields[1], *Bm = Fields[2];
  C->setName("C");
  A->setName("A");
  Bm->setName("B");
  loop(
      F->getArg(1), F->getArg(2), [&](Value *T) { emitTaskBody(C, A, Bm, T); },
      "task");
  B.CreateRetVoid();
  return F;
}

Function *GemmEmitter::emit(StringRef Name) {
  if (!P.S.BRows.empty())
    Table = getRowTable(M, P.S.BRows);
  if (!P.S.ARows.empty())
    ATable = getRowTable(M, P.S.ARows);
  if (!P.S.ACols.empty())
    AColTable = getRowTable(M, P.S.ACols);
  if (P.PackB)
    PackBuf = staticBuffer(M, P.Panels * P.S.K * NR, Name + ".pack");
  if (P.KParts > 1)
    PartBuf =
        staticBuffer(M, (P.KParts - 1) * P.S.M * P.S.CRow, Name + ".parts");
  Function *Task = emitTask(Name);

  // (C, A, B), parts of the calling kernel's buffers.
  Function *F = createKernelFunction(M, Name, 3,
                                     {.MustProgress = false,
                                      .NoAlias = false,
                                      .Pointers = KernelAttrs::NonNull});
  B.SetInsertPoint(BasicBlock::Create(*Ctx, "entry", F));
  auto *CtxTy = ArrayType::get(Ptr, 3);
  Value *TaskCtx = B.CreateAlloca(CtxTy, nullptr, "ctx");
  storeTaskContext(B, TaskCtx, {F->getArg(0), F->getArg(1), F->getArg(2)});
  if (P.RowTasks && P.PackB)
    loop(
        c(0), c(P.Panels),
        [&](Value *Panel) {
          byPanel(Panel, [&](bool Tail) {
            emitPack(stripOf(Panel), F->getArg(2), Panel, c(0), c(P.S.K), Tail);
          });
        },
        "pack.panel");
  Value *Count = c(P.tasks());
  if (P.Parallel) {
    B.CreateCall(declareCallback(M, rt::ParallelFor), {Task, TaskCtx, Count});
  } else {
    B.CreateCall(Task, {TaskCtx, c(0), Count});
  }
  if (P.KParts > 1)
    emitPartSum(F->getArg(0));
  B.CreateRetVoid();
  return F;
}

} // namespace

std::string GemmShape::key() const {
  return ("m" + Twine(M) + "n" + Twine(N) + "k" + Twine(K) + ".a" +
          Twine(ARow) + "_" + Twine(ACol) + ".b" + Twine(BRow) + "_" +
          Twine(BCol) + ".c" + Twine(CRow) + (Accumulate ? ".acc" : "") +
          (AllowThreads ? "" : ".st") + (AllowPacking ? "" : ".np") +
          rowTableKey(BRows) + (ARows.empty() ? "" : ".a") +
          rowTableKey(ARows) + (ACols.empty() ? "" : ".ac") +
          rowTableKey(ACols))
      .str();
}

bool nnc::codegen::gemmRowsOnThreads(Module &M, const GemmShape &S) {
  return Plan(S, moduleVectorUnit(M)).RowTasks;
}

Function *nnc::codegen::getGemm(Module &M, const GemmShape &S) {
  assert(S.M > 0 && S.N > 0 && S.K > 0 && "empty products have no kernel");
  assert((S.BRows.empty() || int64_t(S.BRows.size()) == S.K) &&
         "a row table needs one entry per row of B");
  assert((S.ARows.empty() || int64_t(S.ARows.size()) == S.M) &&
         "a row table needs one entry per row of A");
  assert((S.ACols.empty() || int64_t(S.ACols.size()) == S.K) &&
         "a column table needs one entry per column of A");
  assert((S.AllowPacking || S.BCol == 1) &&
         "a transposed B can only be read through a packed strip");
  std::string Name = "nnc.gemm." + S.key();
  if (Function *F = M.getFunction(Name))
    return F;
  Plan P(S, moduleVectorUnit(M));
  GemmEmitter E(M, P);
  return E.emit(Name);
}
