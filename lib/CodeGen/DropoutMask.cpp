//===- DropoutMask.cpp - The dropout mask kernel --------------------------===//
//
// Element i of the mask is dropout::hash(key, stream, i) compared with the
// rate's threshold (nnc/Graph/DropoutMask.h, which the reference evaluator
// calls): the same 32-bit integer arithmetic written in IR, wrapping
// multiplies and shifts, so the loop vectorizes and any thread could
// compute any element.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

#include "nnc/Graph/DropoutMask.h"

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

void codegen::emitDropoutMask(KernelBuilder &KB) {
  const Node &N = KB.node();
  IRBuilder<> &B = KB.builder();
  auto U32 = [&](uint32_t V) { return B.getInt32(V); };
  Value *Key = KB.loadOperand(0, KB.i64(0));
  Value *Offset =
      B.CreateXor(Key, U32(uint32_t(N.A.Stream) * dropout::StreamMul));
  Value *Threshold = U32(dropout::threshold(N.A.Rate));
  Constant *Kept = KB.f32(dropout::keptValue(N.A.Rate));
  KB.forRange(N.Type.numElements(), [&](Value *I) {
    Value *H = B.CreateAdd(
        B.CreateMul(B.CreateTrunc(I, B.getInt32Ty()), U32(dropout::IndexMul)),
        Offset);
    H = B.CreateXor(H, B.CreateLShr(H, 16));
    H = B.CreateMul(H, U32(dropout::MixMul1));
    H = B.CreateXor(H, B.CreateLShr(H, 15));
    H = B.CreateMul(H, U32(dropout::MixMul2));
    H = B.CreateXor(H, B.CreateLShr(H, 16));
    Value *Keep = B.CreateICmpUGE(B.CreateLShr(H, 8), Threshold);
    KB.store(B.CreateSelect(Keep, Kept, KB.f32(0)), KB.out(), I);
  });
}
