//===- Reduce.cpp - Kernels that reduce along an axis ---------------------===//
//
// reduce_sum, reduce_max, argmax, argmax_mask, softmax and log_softmax all
// see their operand as [Outer, K, Inner]: K is the reduced axis (or every
// element, with Outer = Inner = 1), Outer the dims before it and Inner the
// dims after. Two loop orders:
//
//   * Inner == 1 (the last axis, or all): for each row, a scalar accumulator
//     runs over K contiguous elements. Sums carry `reassoc` so the
//     vectorizer may keep one partial sum per lane.
//   * Inner > 1: the result row is the accumulator; for each k the whole
//     unit-stride Inner row is combined into it, which vectorizes without
//     reordering any sum.
//
// Max-style kernels keep the *first* maximal element (strict `>`), matching
// the gradient rule that sends the gradient to the first maximum.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

#include <llvm/IR/Intrinsics.h>

#include <optional>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

/// The operand seen as [Outer, K, Inner] for `Axis`.
struct Split {
  int64_t Outer = 1, K = 1, Inner = 1;
};

Split splitAt(ArrayRef<int64_t> Dims, int64_t Axis) {
  Split S;
  if (Axis == ALL_AXES) {
    for (int64_t D : Dims)
      S.K *= D;
    return S;
  }
  for (int64_t I = 0; I < int64_t(Dims.size()); ++I) {
    if (I < Axis)
      S.Outer *= Dims[I];
    else if (I == Axis)
      S.K = Dims[I];
    else
      S.Inner *= Dims[I];
  }
  return S;
}

/// Flat index of (O, K, J) in [Outer, K, Inner].
Value *at(KernelBuilder &KB, const Split &S, Value *O, Value *K, Value *J) {
  IRBuilder<> &B = KB.builder();
  Value *Row = B.CreateAdd(B.CreateMul(O, KB.i64(S.K)), K);
  return B.CreateAdd(B.CreateMul(Row, KB.i64(S.Inner)), J);
}

/// Sum or max of x[o, :, j] into `out[o * Inner + j]`.
void emitSumOrMax(KernelBuilder &KB, const Split &S, bool IsMax) {
  IRBuilder<> &B = KB.builder();
  DType T = KB.node().dtype();
  auto Combine = [&](Value *Acc, Value *X) {
    if (IsMax)
      return B.CreateSelect(KB.greater(T, X, Acc), X, Acc);
    return KB.add(T, Acc, X, /*Reassoc=*/true);
  };
  if (S.Inner == 1) {
    AllocaInst *Acc = KB.scratch(KB.elemType(T), "acc");
    KB.forRange(S.Outer, [&](Value *O) {
      Value *Start = IsMax
                         ? KB.loadOperand(0, at(KB, S, O, KB.i64(0), KB.i64(0)))
                         : KB.constOf(T, 0);
      B.CreateStore(Start, Acc);
      KB.forLoop(KB.i64(IsMax ? 1 : 0), KB.i64(S.K), [&](Value *K) {
        Value *X = KB.loadOperand(0, at(KB, S, O, K, KB.i64(0)));
        B.CreateStore(Combine(B.CreateLoad(Acc->getAllocatedType(), Acc), X),
                      Acc);
      });
      KB.store(B.CreateLoad(Acc->getAllocatedType(), Acc), KB.out(), O);
    });
    return;
  }
  KB.forRange(S.Outer, [&](Value *O) {
    Value *RowBase = B.CreateMul(O, KB.i64(S.Inner));
    KB.forRange(S.Inner, [&](Value *J) {
      Value *Start = IsMax ? KB.loadOperand(0, at(KB, S, O, KB.i64(0), J))
                           : KB.constOf(T, 0);
      KB.store(Start, KB.out(), B.CreateAdd(RowBase, J));
    });
    KB.forLoop(KB.i64(IsMax ? 1 : 0), KB.i64(S.K), [&](Value *K) {
      KB.forRange(S.Inner, [&](Value *J) {
        Value *OutIdx = B.CreateAdd(RowBase, J);
        Value *Acc = KB.load(T, KB.out(), OutIdx);
        Value *X = KB.loadOperand(0, at(KB, S, O, K, J));
        KB.store(Combine(Acc, X), KB.out(), OutIdx);
      });
    });
  });
}

/// For each (o, j), the index k of the first maximum of x[o, :, j];
/// `Use(O, J, K)` consumes it.
void forEachArgMax(KernelBuilder &KB, const Split &S,
                   function_ref<void(Value *, Value *, Value *)> Use) {
  IRBuilder<> &B = KB.builder();
  DType T = KB.node().operand(0)->dtype();
  AllocaInst *Best = KB.scratch(KB.elemType(T), "best");
  AllocaInst *BestK = KB.scratch(B.getInt64Ty(), "best.k");
  KB.forRange(S.Outer, [&](Value *O) {
    KB.forRange(S.Inner, [&](Value *J) {
      B.CreateStore(KB.loadOperand(0, at(KB, S, O, KB.i64(0), J)), Best);
      B.CreateStore(KB.i64(0), BestK);
      KB.forLoop(KB.i64(1), KB.i64(S.K), [&](Value *K) {
        Value *X = KB.loadOperand(0, at(KB, S, O, K, J));
        Value *Cur = B.CreateLoad(Best->getAllocatedType(), Best);
        Value *Better = KB.greater(T, X, Cur);
        B.CreateStore(B.CreateSelect(Better, X, Cur), Best);
        B.CreateStore(
            B.CreateSelect(Better, K, B.CreateLoad(B.getInt64Ty(), BestK)),
            BestK);
      });
      Use(O, J, B.CreateLoad(B.getInt64Ty(), BestK));
    });
  });
}

/// softmax / log_softmax along K: subtract the row max, exponentiate,
/// normalize (or subtract the log of the sum).
void softmaxRows(KernelBuilder &KB, const Split &S, bool Log) {
  IRBuilder<> &B = KB.builder();
  AllocaInst *Max = KB.scratch(B.getFloatTy(), "max");
  AllocaInst *Sum = KB.scratch(B.getFloatTy(), "sum");
  KB.forRange(S.Outer, [&](Value *O) {
    KB.forRange(S.Inner, [&](Value *J) {
      B.CreateStore(KB.loadOperand(0, at(KB, S, O, KB.i64(0), J)), Max);
      KB.forLoop(KB.i64(1), KB.i64(S.K), [&](Value *K) {
        Value *X = KB.loadOperand(0, at(KB, S, O, K, J));
        Value *M = B.CreateLoad(B.getFloatTy(), Max);
        B.CreateStore(B.CreateSelect(B.CreateFCmpOGT(X, M), X, M), Max);
      });
      Value *M = B.CreateLoad(B.getFloatTy(), Max);
      B.CreateStore(KB.f32(0), Sum);
      KB.forRange(S.K, [&](Value *K) {
        Value *Idx = at(KB, S, O, K, J);
        Value *E = KB.intrinsic(Intrinsic::exp,
                                B.CreateFSub(KB.loadOperand(0, Idx), M));
        if (!Log)
          KB.store(E, KB.out(), Idx); // normalized below
        B.CreateStore(KB.add(DType::F32, B.CreateLoad(B.getFloatTy(), Sum), E,
                             /*Reassoc=*/true),
                      Sum);
      });
      Value *Total = B.CreateLoad(B.getFloatTy(), Sum);
      if (Log) {
        Value *Shift = B.CreateFAdd(M, KB.intrinsic(Intrinsic::log, Total));
        KB.forRange(S.K, [&](Value *K) {
          Value *Idx = at(KB, S, O, K, J);
          KB.store(B.CreateFSub(KB.loadOperand(0, Idx), Shift), KB.out(), Idx);
        });
        return;
      }
      Value *Inv = B.CreateFDiv(KB.f32(1), Total);
      KB.forRange(S.K, [&](Value *K) {
        Value *Idx = at(KB, S, O, K, J);
        KB.store(B.CreateFMul(KB.load(DType::F32, KB.out(), Idx), Inv),
                 KB.out(), Idx);
      });
    });
  });
}

} // namespace

/// The operand split for this node's axis. An empty operand (only a sum
/// may reduce one, per ShapeRules) fills the result with 0 and returns
/// nullopt.
static std::optional<Split> splitOrFill(KernelBuilder &KB) {
  const Node &N = KB.node();
  const Node *X = N.operand(0);
  if (X->Type.numElements() == 0) {
    KB.fillOut(KB.constOf(N.dtype(), 0), N.Type.numElements());
    return std::nullopt;
  }
  return splitAt(X->dims(), N.A.Axis);
}

void codegen::emitReduce(KernelBuilder &KB, bool IsMax) {
  if (auto S = splitOrFill(KB))
    emitSumOrMax(KB, *S, IsMax);
}

void codegen::emitArgMax(KernelBuilder &KB, bool Mask) {
  auto S = splitOrFill(KB);
  if (!S)
    return;
  IRBuilder<> &B = KB.builder();
  if (Mask) {
    KB.fillOut(KB.f32(0), KB.node().Type.numElements());
    forEachArgMax(KB, *S, [&](Value *O, Value *J, Value *K) {
      KB.store(KB.f32(1), KB.out(), at(KB, *S, O, K, J));
    });
    return;
  }
  forEachArgMax(KB, *S, [&](Value *O, Value *J, Value *K) {
    KB.store(B.CreateTrunc(K, B.getInt32Ty()), KB.out(),
             B.CreateAdd(B.CreateMul(O, KB.i64(S->Inner)), J));
  });
}

void codegen::emitSoftmax(KernelBuilder &KB, bool Log) {
  if (auto S = splitOrFill(KB))
    softmaxRows(KB, *S, Log);
}

/// channel_sum: x as [N, C, P] (P: the product of the axes after 1) into
/// out[c]. With P > 1, one accumulator per channel runs over its N
/// contiguous planes (`reassoc`, so the vectorizer keeps partial sums per
/// lane); with P = 1 ([N, C]) each row is added into the result, which is
/// unit-stride along c.
void codegen::emitChannelSum(KernelBuilder &KB) {
  const Node &N = KB.node();
  ArrayRef<int64_t> D = N.operand(0)->dims();
  int64_t Batch = D[0], C = D[1];
  int64_t Plane =
      Batch * C == 0 ? 0 : N.operand(0)->Type.numElements() / (Batch * C);
  DType T = N.dtype();
  if (Plane == 1) {
    IRBuilder<> &B = KB.builder();
    KB.fillOut(KB.constOf(T, 0), C);
    KB.forRange(Batch, [&](Value *I) {
      Value *Row = B.CreateMul(I, KB.i64(C));
      KB.forRange(C, [&](Value *J) {
        Value *Acc = KB.load(T, KB.out(), J);
        Value *X = KB.loadOperand(0, B.CreateAdd(Row, J));
        KB.store(KB.add(T, Acc, X), KB.out(), J);
      });
    });
    return;
  }
  // The plane loop is the one to vectorize (contiguous); left to itself,
  // LLVM unrolls a short plane (7x7) whole and vectorizes the batch loop
  // with gathers instead: thousands of instructions per kernel, slower
  // code and seconds of compile time on a residual net. Channels are
  // independent sums, so a large one runs its channels on the threads
  // (a bias gradient after each convolution of a batch: on one thread it
  // left the other idle for 3.5 % of a two-thread step of
  // bench/models/resnet_s2.nn).
  emitOverRange(
      KB, "channels", C, Batch * C * Plane,
      [&](KernelBuilder &K, Value *Lo, Value *Hi) {
        IRBuilder<> &B = K.builder();
        AllocaInst *Acc = K.scratch(K.elemType(T), "acc");
        K.forLoop(Lo, Hi, [&](Value *J) {
          B.CreateStore(K.constOf(T, 0), Acc);
          forLoopWithHints(
              K, K.i64(0), K.i64(Batch), {.Vectorize = false}, [&](Value *I) {
                Value *Base = B.CreateMul(
                    B.CreateAdd(B.CreateMul(I, K.i64(C)), J), K.i64(Plane));
                forLoopWithHints(
                    K, K.i64(0), K.i64(Plane), {.Unroll = false},
                    [&](Value *P) {
                      Value *X = K.loadOperand(0, B.CreateAdd(Base, P));
                      B.CreateStore(
                          K.add(T, B.CreateLoad(Acc->getAllocatedType(), Acc),
                                X, /*Reassoc=*/true),
                          Acc);
                    });
              });
          K.store(B.CreateLoad(Acc->getAllocatedType(), Acc), K.out(), J);
        });
      });
}
