//===- DotTile.cpp - Register-tiled dot products of row pairs -------------===//
//
// Acc (+)= lane partials of A * B^T over static shapes, with explicit
// vector IR as wide as the target's registers (the module's VectorUnit,
// Target.h), like the GEMM of Gemm.cpp:
//
//  1. Rows of A are cut into tiles of MT rows, rows of B into tiles of NT.
//     A tile keeps its MT x NT partial sums in vector accumulators; per
//     step of VW elements it loads the smaller side's vectors once, then
//     streams the other side's, each FMA'd (`llvm.fmuladd`) into one
//     accumulator per held vector. Accumulators start from Acc (or zero
//     with Fresh) and go back to Acc after the tile.
//  2. MT x NT is chosen per shape by a cost model (`planTile`): a step
//     takes the longest of its FMAs (2 per cycle), its vector loads (2 per
//     cycle) and one FMA latency (4 cycles, the dependence between steps of
//     an accumulator); the accumulators, the held vectors, one streamed
//     vector and one spare (a tail mask) must fit in the registers. Edge
//     tiles take what is left of M and N, so no shape needs padding.
//  3. The last, partial vector of a row (L % VW elements) is one more step
//     with masked loads: the masked-off lanes read as zero and add 0.
//  4. Row tiles of A are outermost: the rows of one A tile stay in L1 while
//     the rows of B stream past (from L2, or memory for large B: cutting L
//     into L2-sized blocks measured slower, the hardware prefetcher keeps
//     up with the streams).
//
// Each lane sums its products in increasing p order, so the result is the
// same bits however the calls are scheduled.
//
//===----------------------------------------------------------------------===//
#include "DotTile.h"
#include "KernelBuilder.h"

#include "nnc/CodeGen/Target.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/Twine.h>
#include <llvm/IR/Intrinsics.h>

#include <algorithm>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

/// Cycles a tile costs besides its steps (pointer set-up, loading and
/// storing the accumulators), for the cost model.
constexpr double TileOverhead = 8;

/// Estimated cycles of one step of a Rows x Cols tile on current x86 cores:
/// two FMAs and two vector loads per cycle, and one FMA latency (4 cycles)
/// between the steps of an accumulator.
double stepCycles(int64_t Rows, int64_t Cols) {
  return std::max({double(Rows * Cols) / 2, double(Rows + Cols) / 2, 4.0});
}

/// Estimated cycles of the whole product with MT x NT tiles.
double productCycles(const DotShape &S, int64_t Steps, int64_t MT, int64_t NT) {
  double Cycles = 0;
  for (auto [Rows, RowTiles] : {std::pair{MT, S.M / MT}, {S.M % MT, 1}})
    for (auto [Cols, ColTiles] : {std::pair{NT, S.N / NT}, {S.N % NT, 1}})
      if (Rows && RowTiles && Cols && ColTiles)
        Cycles += double(RowTiles * ColTiles) *
                  (double(Steps) * stepCycles(Rows, Cols) + TileOverhead);
  return Cycles;
}

/// The derived tiling of one shape for one vector unit.
struct Plan {
  DotShape S;
  int64_t VW;             // floats per vector
  int64_t MT = 1, NT = 1; // tile rows of A and of B
  int64_t Vecs;           // full vectors per row
  int64_t Tail;           // elements of a last, partial vector (0: none)

  Plan(const DotShape &Sh, const VectorUnit &VU) : S(Sh), VW(VU.Floats) {
    Vecs = S.L / VW;
    Tail = S.L % VW;
    planTile(VU.Registers);
  }

  /// The cheapest tile by `productCycles`; among equals the one with more
  /// rows of A, so that B (in a convolution the larger, unfolded operand)
  /// is swept fewer times.
  void planTile(int64_t Registers) {
    int64_t Steps = Vecs + (Tail ? 1 : 0);
    double Best = -1;
    for (int64_t Rows = std::min(S.M, Registers); Rows >= 1; --Rows)
      for (int64_t Cols = std::min(S.N, Registers); Cols >= 1; --Cols) {
        if (Rows * Cols + std::min(Rows, Cols) + 2 > Registers)
          continue;
        double Cycles = productCycles(S, Steps, Rows, Cols);
        if (Best >= 0 && Cycles >= Best)
          continue;
        Best = Cycles;
        MT = Rows;
        NT = Cols;
      }
  }
};

/// Emits the product into `@nnc.dot.<key>`.
class DotEmitter {
public:
  DotEmitter(Module &M, const Plan &P)
      : M(M), P(P), S(P.S), B(M.getContext()), VW(P.VW) {
    F32 = B.getFloatTy();
    I64 = B.getInt64Ty();
    VecTy = FixedVectorType::get(F32, VW);
  }

  Function *emit(StringRef Name);

private:
  /// The operands of one call.
  struct Operands {
    Value *Acc, *A, *Bm;
    bool Fresh; // start from zero instead of Acc
  };

  void emitBody(const Operands &Op);
  void emitTile(const Operands &Op, Value *I0, Value *J0, int64_t Rows,
                int64_t Cols);
  /// One step at element `Pos` of the rows: Acc[r*Cols + c] += a_r * b_c.
  void emitStep(SmallVectorImpl<Value *> &Acc, ArrayRef<Value *> ARows,
                ArrayRef<Value *> BRows, Value *Pos, Value *Mask);
  Value *loadVec(Value *Row, Value *Pos, Value *Mask);
  void loop(Value *Lo, Value *Hi, function_ref<void(Value *)> Body,
            const Twine &Name) {
    emitCountedLoop(B, Lo, Hi, Body, Name);
  }
  Value *c(int64_t V) { return B.getInt64(V); }

  Module &M;
  const Plan &P;
  const DotShape &S;
  IRBuilder<> B;
  const int64_t VW;
  Type *F32, *I64;
  FixedVectorType *VecTy;
  /// B's row table (S.BRows), if it has one.
  GlobalVariable *Table = nullptr;
};

Value *DotEmitter::loadVec(Value *Row, Value *Pos, Value *Mask) {
  Value *At = B.CreateInBoundsGEP(F32, Row, Pos);
  if (!Mask)
    return B.CreateAlignedLoad(VecTy, At, Align(4));
  return B.CreateMaskedLoad(VecTy, At, Align(4), Mask,
                            Constant::getNullValue(VecTy));
}

void DotEmitter::emitStep(SmallVectorImpl<Value *> &Acc,
                          ArrayRef<Value *> ARows, ArrayRef<Value *> BRows,
                          Value *Pos, Value *Mask) {
  int64_t Cols = BRows.size();
  auto Fma = [&](int64_t R, int64_t C, Value *Av, Value *Bv) {
    Value *&Sum = Acc[R * Cols + C];
    Sum = B.CreateIntrinsic(Intrinsic::fmuladd, {VecTy}, {Av, Bv, Sum});
  };
  // The smaller side is held in registers for the whole step; each vector
  // of the other side is loaded once and used right away.
  if (BRows.size() <= ARows.size()) {
    SmallVector<Value *, 16> Held;
    for (Value *Row : BRows)
      Held.push_back(loadVec(Row, Pos, Mask));
    for (size_t R = 0; R < ARows.size(); ++R) {
      Value *Av = loadVec(ARows[R], Pos, Mask);
      for (int64_t C = 0; C < Cols; ++C)
        Fma(R, C, Av, Held[C]);
    }
    return;
  }
  SmallVector<Value *, 16> Held;
  for (Value *Row : ARows)
    Held.push_back(loadVec(Row, Pos, Mask));
  for (int64_t C = 0; C < Cols; ++C) {
    Value *Bv = loadVec(BRows[C], Pos, Mask);
    for (size_t R = 0; R < ARows.size(); ++R)
      Fma(R, C, Held[R], Bv);
  }
}

void DotEmitter::emitTile(const Operands &Op, Value *I0, Value *J0,
                          int64_t Rows, int64_t Cols) {
  // One base pointer per operand; rows and accumulators are constant
  // offsets from it.
  Value *ABase = B.CreateInBoundsGEP(F32, Op.A, B.CreateMul(I0, c(S.ARow)));
  Value *BBase =
      Table ? Op.Bm
            : B.CreateInBoundsGEP(F32, Op.Bm, B.CreateMul(J0, c(S.BRow)));
  Value *AccBase = B.CreateInBoundsGEP(
      F32, Op.Acc,
      B.CreateMul(B.CreateAdd(B.CreateMul(I0, c(S.N)), J0), c(VW)));
  SmallVector<Value *, 16> ARows, BRows;
  for (int64_t R = 0; R < Rows; ++R)
    ARows.push_back(B.CreateConstInBoundsGEP1_64(F32, ABase, R * S.ARow));
  for (int64_t C = 0; C < Cols; ++C)
    BRows.push_back(
        Table ? B.CreateInBoundsGEP(
                    F32, BBase, loadRowStart(B, Table, B.CreateAdd(J0, c(C))))
              : B.CreateConstInBoundsGEP1_64(F32, BBase, C * S.BRow));
  SmallVector<Value *, 32> AccPtr, Acc;
  for (int64_t R = 0; R < Rows; ++R)
    for (int64_t C = 0; C < Cols; ++C) {
      AccPtr.push_back(
          B.CreateConstInBoundsGEP1_64(F32, AccBase, (R * S.N + C) * VW));
      Acc.push_back(Op.Fresh ? Constant::getNullValue(VecTy)
                             : (Value *)B.CreateAlignedLoad(
                                   VecTy, AccPtr.back(), Align(4)));
    }

  // The steps over full vectors, accumulators in PHIs.
  if (P.Vecs > 0) {
    Function *F = B.GetInsertBlock()->getParent();
    LLVMContext &Ctx = M.getContext();
    BasicBlock *Pre = B.GetInsertBlock();
    BasicBlock *Body = BasicBlock::Create(Ctx, "dot", F);
    BasicBlock *Exit = BasicBlock::Create(Ctx, "dot.exit", F);
    B.CreateBr(Body);
    B.SetInsertPoint(Body);
    PHINode *V = B.CreatePHI(I64, 2, "v");
    V->addIncoming(c(0), Pre);
    SmallVector<PHINode *, 32> Phis;
    SmallVector<Value *, 32> Next;
    for (Value *Init : Acc) {
      Phis.push_back(B.CreatePHI(VecTy, 2, "acc"));
      Phis.back()->addIncoming(Init, Pre);
      Next.push_back(Phis.back());
    }
    emitStep(Next, ARows, BRows, B.CreateMul(V, c(VW)), nullptr);
    Value *VNext = B.CreateAdd(V, c(1), "", /*HasNUW=*/true, /*HasNSW=*/true);
    BasicBlock *Latch = B.GetInsertBlock();
    V->addIncoming(VNext, Latch);
    for (size_t I = 0; I < Phis.size(); ++I)
      Phis[I]->addIncoming(Next[I], Latch);
    B.CreateCondBr(B.CreateICmpSLT(VNext, c(P.Vecs)), Body, Exit);
    B.SetInsertPoint(Exit);
    for (size_t I = 0; I < Acc.size(); ++I)
      Acc[I] = Next[I];
  }
  if (P.Tail) {
    SmallVector<Constant *, 16> Bits;
    for (int64_t L = 0; L < VW; ++L)
      Bits.push_back(B.getInt1(L < P.Tail));
    emitStep(Acc, ARows, BRows, c(P.Vecs * VW), ConstantVector::get(Bits));
  }
  for (size_t I = 0; I < Acc.size(); ++I)
    B.CreateAlignedStore(Acc[I], AccPtr[I], Align(4));
}

void DotEmitter::emitBody(const Operands &Op) {
  int64_t FullRows = S.M / P.MT, RowTail = S.M % P.MT;
  int64_t FullCols = S.N / P.NT, ColTail = S.N % P.NT;
  auto AllCols = [&](Value *I0, int64_t Rows) {
    if (FullCols)
      loop(
          c(0), c(FullCols),
          [&](Value *J) {
            emitTile(Op, I0, B.CreateMul(J, c(P.NT)), Rows, P.NT);
          },
          "cols");
    if (ColTail)
      emitTile(Op, I0, c(FullCols * P.NT), Rows, ColTail);
  };
  if (FullRows)
    loop(
        c(0), c(FullRows),
        [&](Value *I) { AllCols(B.CreateMul(I, c(P.MT)), P.MT); }, "rows");
  if (RowTail)
    AllCols(c(FullRows * P.MT), RowTail);
}

Function *DotEmitter::emit(StringRef Name) {
  LLVMContext &Ctx = M.getContext();
  if (!S.BRows.empty())
    Table = getRowTable(M, S.BRows);
  // (Acc, A, B, Fresh); the buffers are parts of the calling kernel's.
  Function *F = createKernelFunction(M, Name, 3,
                                     {.ReadOnly = {1, 2},
                                      .Trailing = {B.getInt1Ty()},
                                      .MustProgress = false,
                                      .Pointers = KernelAttrs::NonNull});
  B.SetInsertPoint(BasicBlock::Create(Ctx, "entry", F));
  // Two copies of the body, so that no accumulator chooses between zero
  // and Acc at run time.
  BasicBlock *FreshBB = BasicBlock::Create(Ctx, "fresh", F);
  BasicBlock *AddBB = BasicBlock::Create(Ctx, "accumulate", F);
  BasicBlock *Done = BasicBlock::Create(Ctx, "done", F);
  B.CreateCondBr(F->getArg(3), FreshBB, AddBB);
  for (auto [BB, Fresh] : {std::pair{FreshBB, true}, {AddBB, false}}) {
    B.SetInsertPoint(BB);
    emitBody({F->getArg(0), F->getArg(1), F->getArg(2), Fresh});
    B.CreateBr(Done);
  }
  B.SetInsertPoint(Done);
  B.CreateRetVoid();
  return F;
}

} // namespace

std::string DotShape::key() const {
  return ("m" + Twine(M) + "n" + Twine(N) + "l" + Twine(L) + ".a" +
          Twine(ARow) + ".b" + Twine(BRow) + rowTableKey(BRows))
      .str();
}

int64_t nnc::codegen::dotLanes(const Module &M) {
  return moduleVectorUnit(M).Floats;
}

Function *nnc::codegen::getRowDots(Module &M, const DotShape &S) {
  assert(S.M > 0 && S.N > 0 && S.L > 0 && "empty products have no kernel");
  assert((S.BRows.empty() || int64_t(S.BRows.size()) == S.N) &&
         "a row table needs one entry per row of B");
  std::string Name = "nnc.dot." + S.key();
  if (Function *F = M.getFunction(Name))
    return F;
  Plan P(S, moduleVectorUnit(M));
  DotEmitter E(M, P);
  return E.emit(Name);
}

Value *nnc::codegen::emitLaneSum(IRBuilder<> &B, Value *V) {
  int64_t N = cast<FixedVectorType>(V->getType())->getNumElements();
  assert(N > 0 && (N & (N - 1)) == 0 && "lane count must be a power of two");
  for (; N > 2; N /= 2) {
    SmallVector<int, 16> Lo, Hi;
    for (int64_t L = 0; L < N / 2; ++L) {
      Lo.push_back(int(L));
      Hi.push_back(int(L + N / 2));
    }
    V = B.CreateFAdd(B.CreateShuffleVector(V, Lo),
                     B.CreateShuffleVector(V, Hi));
  }
  if (N == 1)
    return B.CreateExtractElement(V, uint64_t(0));
  return B.CreateFAdd(B.CreateExtractElement(V, uint64_t(0)),
                      B.CreateExtractElement(V, uint64_t(1)));
}
