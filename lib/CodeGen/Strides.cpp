//===- Strides.cpp - Strided loop nests shared by the loop emitters -------===//
//
// See Strides.h. The nest simplification keeps, for every buffer, the
// element read at each point of the nest: a dim of size 1 contributes
// nothing, and dims D-1 and D merge exactly when, in every buffer, stepping
// D-1 once equals stepping D across its whole extent.
//
//===----------------------------------------------------------------------===//
#include "Strides.h"

#include "KernelBuilder.h"

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

SmallVector<int64_t, 4> codegen::contiguousStrides(ArrayRef<int64_t> Dims) {
  SmallVector<int64_t, 4> S(Dims.size(), 1);
  for (int I = int(Dims.size()) - 2; I >= 0; --I)
    S[I] = S[I + 1] * Dims[I + 1];
  return S;
}

SmallVector<int64_t, 4> codegen::broadcastStrides(ArrayRef<int64_t> OpDims,
                                                  ArrayRef<int64_t> OutDims) {
  SmallVector<int64_t, 4> Own = contiguousStrides(OpDims);
  SmallVector<int64_t, 4> S(OutDims.size(), 0);
  size_t Shift = OutDims.size() - OpDims.size();
  for (size_t I = 0; I < OpDims.size(); ++I)
    S[Shift + I] = OpDims[I] == 1 ? 0 : Own[I];
  return S;
}

void StridedNest::simplify() {
  StridedNest R;
  R.Strides.resize(Strides.size());
  for (size_t D = 0; D < Dims.size(); ++D) {
    if (Dims[D] == 1)
      continue;
    bool Merge = !R.Dims.empty();
    for (size_t B = 0; Merge && B < Strides.size(); ++B)
      Merge = R.Strides[B].back() == Strides[B][D] * Dims[D];
    if (Merge) {
      R.Dims.back() *= Dims[D];
      for (size_t B = 0; B < Strides.size(); ++B)
        R.Strides[B].back() = Strides[B][D];
      continue;
    }
    R.Dims.push_back(Dims[D]);
    for (size_t B = 0; B < Strides.size(); ++B)
      R.Strides[B].push_back(Strides[B][D]);
  }
  *this = std::move(R);
}

Value *codegen::linearIndex(KernelBuilder &KB, ArrayRef<Value *> IVs,
                            ArrayRef<int64_t> Strides, int64_t Base) {
  IRBuilder<> &B = KB.builder();
  Value *Idx = nullptr;
  for (size_t D = 0; D < IVs.size(); ++D) {
    if (Strides[D] == 0)
      continue;
    Value *Term =
        Strides[D] == 1 ? IVs[D] : B.CreateMul(IVs[D], KB.i64(Strides[D]));
    Idx = Idx ? B.CreateAdd(Idx, Term) : Term;
  }
  if (!Idx)
    return KB.i64(Base);
  return Base ? B.CreateAdd(Idx, KB.i64(Base)) : Idx;
}
