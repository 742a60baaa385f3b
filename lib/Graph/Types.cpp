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
