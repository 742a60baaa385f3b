//===- Types.cpp - Element types and static tensor types ------------------===//
#include "nnc/Graph/Types.h"

#include <llvm/Support/raw_ostream.h>

using namespace nnc;

const char *nnc::dtypeName(DType T) {
  switch (T) {
  case DType::F32:
    return "f32";
  case DType::I32:
    return "i32";
  }
  return "?";
}

namespace {
struct ElementTypeName {
  const char *Name;
  DType Computed;
  FileType Stored;
};
// clang-format off
constexpr ElementTypeName ElementTypes[] = {
    {"f32", DType::F32, FileType::Native}, {"i32", DType::I32, FileType::Native},
    {"f64", DType::F32, FileType::F64},    {"f16", DType::F32, FileType::F16},
    {"bf16", DType::F32, FileType::BF16},  {"bool", DType::F32, FileType::Bool},
    {"i64", DType::I32, FileType::I64},    {"i16", DType::I32, FileType::I16},
    {"i8", DType::I32, FileType::I8},      {"u8", DType::I32, FileType::U8},
    {"u16", DType::I32, FileType::U16},    {"u32", DType::I32, FileType::U32},
    {"u64", DType::I32, FileType::U64},
};
// clang-format on
} // namespace

const char *nnc::fileTypeName(FileType T) {
  if (T == FileType::Native)
    return "";
  for (const ElementTypeName &E : ElementTypes)
    if (E.Stored == T)
      return E.Name;
  return "?";
}

std::optional<std::pair<DType, FileType>>
nnc::elementTypeFromName(llvm::StringRef Name) {
  for (const ElementTypeName &E : ElementTypes)
    if (Name == E.Name)
      return std::make_pair(E.Computed, E.Stored);
  return std::nullopt;
}

DType nnc::computeType(FileType T, DType Native) {
  if (T == FileType::Native)
    return Native;
  for (const ElementTypeName &E : ElementTypes)
    if (E.Stored == T)
      return E.Computed;
  return Native;
}

int64_t TensorType::numElements() const {
  int64_t N = 1;
  for (int64_t D : Dims)
    N *= D;
  return N;
}

std::string nnc::formatShape(llvm::ArrayRef<int64_t> Dims) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  OS << '[';
  llvm::interleave(Dims, OS, ", ");
  OS << ']';
  return S;
}

std::string nnc::formatType(const TensorType &T) {
  return dtypeName(T.Elem) + formatShape(T.Dims);
}

std::optional<Shape> nnc::broadcastShapes(llvm::ArrayRef<int64_t> A,
                                          llvm::ArrayRef<int64_t> B) {
  // Align from the right; a 1 stretches to the other size.
  size_t Rank = std::max(A.size(), B.size());
  Shape Out(Rank, 1);
  for (size_t I = 0; I < Rank; ++I) {
    int64_t DA = I < A.size() ? A[A.size() - 1 - I] : 1;
    int64_t DB = I < B.size() ? B[B.size() - 1 - I] : 1;
    if (DA != DB && DA != 1 && DB != 1)
      return std::nullopt;
    Out[Rank - 1 - I] = DA == 1 ? DB : DA;
  }
  return Out;
}
