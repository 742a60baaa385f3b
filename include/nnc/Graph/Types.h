//===- Types.h - Element types and static tensor types --------------------===//
//
// Every graph value has a static type: an element type (f32 or i32) and a
// fully known shape. A rank-0 shape is a scalar.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_TYPES_H
#define NNC_GRAPH_TYPES_H

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/SmallVector.h>

#include <cstdint>
#include <optional>
#include <string>

namespace nnc {

enum class DType : uint8_t { F32, I32 };

/// "f32" / "i32".
const char *dtypeName(DType T);

using Shape = llvm::SmallVector<int64_t, 4>;

struct TensorType {
  DType Elem = DType::F32;
  Shape Dims;

  TensorType() = default;
  TensorType(DType Elem, llvm::ArrayRef<int64_t> Dims)
      : Elem(Elem), Dims(Dims.begin(), Dims.end()) {}
  static TensorType scalar(DType Elem = DType::F32) { return {Elem, {}}; }

  unsigned rank() const { return Dims.size(); }
  bool isScalar() const { return Dims.empty(); }
  int64_t numElements() const;

  bool operator==(const TensorType &O) const {
    return Elem == O.Elem && Dims == O.Dims;
  }
  bool operator!=(const TensorType &O) const { return !(*this == O); }
};

/// "[4, 3]" (a scalar prints as "[]").
std::string formatShape(llvm::ArrayRef<int64_t> Dims);
/// "f32[4, 3]"; a scalar prints as "f32[]".
std::string formatType(const TensorType &T);

/// NumPy broadcasting of two shapes; nullopt when they are incompatible.
std::optional<Shape> broadcastShapes(llvm::ArrayRef<int64_t> A,
                                     llvm::ArrayRef<int64_t> B);

/// Largest number of elements a tensor may have. Bigger shapes are a user
/// error, which keeps every element count and byte size inside int64_t.
constexpr int64_t MaxTensorElements = int64_t(1) << 40;

} // namespace nnc

#endif
