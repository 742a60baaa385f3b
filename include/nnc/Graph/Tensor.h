//===- Tensor.h - A dense tensor value ------------------------------------===//
//
// The value of a `const`, a literal initializer, and everything the reference
// evaluator computes. Row-major; f32 data lives in `F`, i32 data in `I` (the
// other vector stays empty). Plain and obviously correct: speed belongs to
// the generated code, not here.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_TENSOR_H
#define NNC_GRAPH_TENSOR_H

#include "nnc/Graph/Types.h"

#include <vector>

namespace nnc {

struct Tensor {
  TensorType Type;
  std::vector<float> F;   ///< Elements when Type.Elem == F32.
  std::vector<int32_t> I; ///< Elements when Type.Elem == I32.

  Tensor() = default;
  /// A zero-filled tensor of type `T`.
  explicit Tensor(TensorType T);
  static Tensor scalar(float V);

  int64_t numElements() const { return Type.numElements(); }
  /// Element `Idx` (flat, row-major) as a double, whatever the dtype.
  double at(int64_t Idx) const {
    return Type.Elem == DType::F32 ? double(F[Idx]) : double(I[Idx]);
  }
  void set(int64_t Idx, double V);
};

} // namespace nnc

#endif
