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
#include <llvm/ADT/StringRef.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace nnc {

enum class DType : uint8_t { F32, I32 };

/// "f32" / "i32".
const char *dtypeName(DType T);

/// How a tensor file stores an input or an output that nnc computes in f32
/// or i32 (docs/language.md, "Types"): the element types of models from
/// other tools (ONNX). Native is the computed type itself; the floating
/// types and Bool (0/1) are computed in f32, the integer types in i32.
enum class FileType : uint8_t {
  Native,
  F64,
  F16,
  BF16,
  I64,
  I16,
  I8,
  U8,
  U16,
  U32,
  U64,
  Bool,
};

/// "f64", "i64", "bool", ...; "" for Native.
const char *fileTypeName(FileType T);
/// The element type a declaration spells `Name` ("f32", "i64", "bool",
/// ...): the computed type and how files store it; nullopt if no such
/// type exists.
std::optional<std::pair<DType, FileType>>
elementTypeFromName(llvm::StringRef Name);
/// The type a value stored as `T` is computed in.
DType computeType(FileType T, DType Native);

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
