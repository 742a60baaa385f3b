//===- Tensors.cpp - Decoding ONNX TensorProtos ---------------------------===//
//
// An initializer or a Constant holds its elements either as little-endian
// bytes (`raw_data`) or in the typed repeated field of its element type
// (float_data, int32_data for the small integer types, bool and the 16-bit
// floats' bits, int64_data, double_data, uint64_data). Every count is
// checked against the dims before anything is allocated, so a tensor that
// claims more elements than the file holds is an error, not an allocation.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include "nnc/Graph/Types.h"

#include <bit>
#include <cmath>
#include <cstring>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;

namespace {

using TP = onnx::TensorProto;

Error tensorError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

/// Bytes per element in raw_data; 0 for types nnc does not decode.
size_t rawSize(int32_t T) {
  switch (T) {
  case TP::FLOAT:
  case TP::INT32:
  case TP::UINT32:
    return 4;
  case TP::DOUBLE:
  case TP::INT64:
  case TP::UINT64:
    return 8;
  case TP::FLOAT16:
  case TP::BFLOAT16:
  case TP::INT16:
  case TP::UINT16:
    return 2;
  case TP::INT8:
  case TP::UINT8:
  case TP::BOOL:
    return 1;
  default:
    return 0;
  }
}

template <typename T> T loadRaw(const std::string &Raw, size_t K) {
  T V;
  std::memcpy(&V, Raw.data() + K * sizeof(T), sizeof(T));
  return V;
}

float halfBits(uint16_t H) {
  uint32_t Sign = uint32_t(H & 0x8000) << 16;
  uint32_t Exp = (H >> 10) & 0x1f, Mant = H & 0x3ff;
  if (Exp == 0) {
    float V = std::ldexp(float(Mant), -24);
    return Sign ? -V : V;
  }
  if (Exp == 31)
    return std::bit_cast<float>(Sign | 0x7f800000u | (Mant << 13));
  return std::bit_cast<float>(Sign | ((Exp - 15 + 127) << 23) | (Mant << 13));
}

/// Element K of raw data of type T, as a double.
double rawElement(int32_t T, const std::string &Raw, size_t K) {
  switch (T) {
  case TP::FLOAT:
    return loadRaw<float>(Raw, K);
  case TP::DOUBLE:
    return loadRaw<double>(Raw, K);
  case TP::FLOAT16:
    return halfBits(loadRaw<uint16_t>(Raw, K));
  case TP::BFLOAT16:
    return std::bit_cast<float>(uint32_t(loadRaw<uint16_t>(Raw, K)) << 16);
  case TP::INT32:
    return loadRaw<int32_t>(Raw, K);
  case TP::UINT32:
    return loadRaw<uint32_t>(Raw, K);
  case TP::INT64:
    return double(loadRaw<int64_t>(Raw, K));
  case TP::UINT64:
    return double(loadRaw<uint64_t>(Raw, K));
  case TP::INT16:
    return loadRaw<int16_t>(Raw, K);
  case TP::UINT16:
    return loadRaw<uint16_t>(Raw, K);
  case TP::INT8:
    return loadRaw<int8_t>(Raw, K);
  case TP::UINT8:
    return loadRaw<uint8_t>(Raw, K);
  case TP::BOOL:
    return loadRaw<uint8_t>(Raw, K) != 0;
  default:
    return 0;
  }
}

} // namespace

Error onnx_import::decodeTensor(const onnx::TensorProto &T, OnnxType &Elem,
                                Shape &Dims, std::vector<double> &Data) {
  if (T.data_location() == TP::EXTERNAL || T.external_data_size() > 0)
    return tensorError("its data is stored in an external file, which nnc "
                       "does not read");
  if (T.has_segment())
    return tensorError("it is a segment of a tensor, which nnc does not read");
  Elem = T.data_type();
  size_t Size = rawSize(Elem);
  if (Size == 0)
    return tensorError("element type " + onnxTypeName(Elem) +
                       " is not supported");
  Dims.clear();
  uint64_t Numel = 1;
  for (int64_t D : T.dims()) {
    if (D < 0)
      return tensorError("dimension " + llvm::Twine(D) + " is negative");
    Dims.push_back(D);
    if (D != 0 && Numel > uint64_t(MaxTensorElements) / uint64_t(D))
      return tensorError("its shape " + dimsText(Dims) + " is too large");
    Numel *= uint64_t(D);
  }
  auto WrongCount = [&](uint64_t Have, const char *Unit) {
    return tensorError("it holds " + llvm::Twine(Have) + " " + Unit + ", but " +
                       onnxTypeName(Elem) + dimsText(Dims) + " needs " +
                       llvm::Twine(Numel * (Unit[0] == 'b' ? Size : 1)));
  };
  if (T.has_raw_data()) {
    const std::string &Raw = T.raw_data();
    if (Raw.size() != Numel * Size)
      return WrongCount(Raw.size(), "bytes");
    Data.resize(Numel);
    for (size_t K = 0; K < Numel; ++K)
      Data[K] = rawElement(Elem, Raw, K);
    return Error::success();
  }
  auto Fill = [&](const auto &Field, auto Convert) -> Error {
    if (uint64_t(Field.size()) != Numel)
      return WrongCount(uint64_t(Field.size()), "elements");
    Data.resize(Numel);
    for (size_t K = 0; K < Numel; ++K)
      Data[K] = Convert(Field.Get(int(K)));
    return Error::success();
  };
  auto Same = [](auto X) { return double(X); };
  switch (Elem) {
  case TP::FLOAT:
    return Fill(T.float_data(), Same);
  case TP::DOUBLE:
    return Fill(T.double_data(), Same);
  case TP::INT64:
    return Fill(T.int64_data(), Same);
  case TP::UINT32:
  case TP::UINT64:
    return Fill(T.uint64_data(), Same);
  case TP::FLOAT16:
    return Fill(T.int32_data(),
                [](int32_t X) { return double(halfBits(uint16_t(X))); });
  case TP::BFLOAT16:
    return Fill(T.int32_data(), [](int32_t X) {
      return double(std::bit_cast<float>(uint32_t(uint16_t(X)) << 16));
    });
  case TP::BOOL:
    return Fill(T.int32_data(), [](int32_t X) { return X != 0 ? 1.0 : 0.0; });
  default: // INT32, INT16, INT8, UINT16, UINT8
    return Fill(T.int32_data(), Same);
  }
}
