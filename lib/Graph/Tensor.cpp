//===- Tensor.cpp - A dense tensor value ----------------------------------===//
#include "nnc/Graph/Tensor.h"

using namespace nnc;

Tensor::Tensor(TensorType T) : Type(std::move(T)) {
  if (Type.Elem == DType::F32)
    F.assign(Type.numElements(), 0.0f);
  else
    I.assign(Type.numElements(), 0);
}

Tensor Tensor::scalar(float V) {
  Tensor T(TensorType::scalar(DType::F32));
  T.F[0] = V;
  return T;
}

void Tensor::set(int64_t Idx, double V) {
  if (Type.Elem == DType::F32)
    F[Idx] = float(V);
  else
    I[Idx] = int32_t(V);
}
