//===- FileTypes.cpp - Inputs and outputs in their files' element types ---===//
//
// The conversions of FileTypes.h, element by element. Half and bfloat16
// are converted bit by bit (no compiler extension types), rounding to
// nearest even as IEEE and NumPy do.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/FileTypes.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace nnc::rt {

DType fileType(const nnc_slot &S) {
  switch (S.file_dtype) {
  case NNC_FILE_F64:
    return DType::F64;
  case NNC_FILE_F16:
    return DType::F16;
  case NNC_FILE_BF16:
    return DType::BF16;
  case NNC_FILE_I64:
    return DType::I64;
  case NNC_FILE_I16:
    return DType::I16;
  case NNC_FILE_I8:
    return DType::I8;
  case NNC_FILE_U8:
    return DType::U8;
  case NNC_FILE_U16:
    return DType::U16;
  case NNC_FILE_U32:
    return DType::U32;
  case NNC_FILE_U64:
    return DType::U64;
  case NNC_FILE_BOOL:
    return DType::Bool;
  default:
    return DType(S.dtype);
  }
}

DType computeType(DType Stored) {
  switch (Stored) {
  case DType::F32:
  case DType::F64:
  case DType::F16:
  case DType::BF16:
  case DType::Bool:
    return DType::F32;
  case DType::I32:
  case DType::I64:
  case DType::I16:
  case DType::I8:
  case DType::U8:
  case DType::U16:
  case DType::U32:
  case DType::U64:
    return DType::I32;
  }
  return DType::F32;
}

float halfToFloat(uint16_t H) {
  uint32_t Sign = uint32_t(H & 0x8000) << 16;
  uint32_t Exp = (H >> 10) & 0x1f, Mant = H & 0x3ff;
  if (Exp == 0) { // zero or subnormal: Mant * 2^-24
    float V = std::ldexp(float(Mant), -24);
    return Sign ? -V : V;
  }
  if (Exp == 31) // infinity or NaN
    return std::bit_cast<float>(Sign | 0x7f800000u | (Mant << 13));
  return std::bit_cast<float>(Sign | ((Exp - 15 + 127) << 23) | (Mant << 13));
}

uint16_t floatToHalf(float F) {
  uint32_t X = std::bit_cast<uint32_t>(F);
  uint32_t Sign = (X >> 16) & 0x8000;
  uint32_t Mant = X & 0x7fffff;
  int32_t Exp = int32_t((X >> 23) & 0xff);
  if (Exp == 0xff) // infinity, or NaN kept quiet
    return uint16_t(Sign | 0x7c00 | (Mant ? 0x200 | (Mant >> 13) : 0));
  int32_t E = Exp - 127 + 15;
  if (E >= 31)
    return uint16_t(Sign | 0x7c00);
  // Rounds M >> Shift to nearest even.
  auto Round = [](uint32_t M, uint32_t Shift) {
    uint32_t Kept = M >> Shift, Rest = M & ((1u << Shift) - 1);
    uint32_t Half = 1u << (Shift - 1);
    return Kept + (Rest > Half || (Rest == Half && (Kept & 1)));
  };
  if (E <= 0) { // a half subnormal (or zero): M * 2^-24
    if (E < -10)
      return uint16_t(Sign);
    return uint16_t(Sign | Round(Mant | 0x800000, uint32_t(14 - E)));
  }
  // A carry out of the mantissa rightly bumps the exponent (to infinity
  // at the top).
  return uint16_t(Sign | Round((uint32_t(E) << 23) | Mant, 13));
}

float bfloat16ToFloat(uint16_t B) {
  return std::bit_cast<float>(uint32_t(B) << 16);
}

uint16_t floatToBfloat16(float F) {
  uint32_t X = std::bit_cast<uint32_t>(F);
  if (std::isnan(F))
    return uint16_t((X >> 16) | 0x40);
  return uint16_t((X + 0x7fff + ((X >> 16) & 1)) >> 16);
}

namespace {

template <typename T> T load(const char *P, int64_t I) {
  T V;
  std::memcpy(&V, P + I * int64_t(sizeof(T)), sizeof(T));
  return V;
}

template <typename T> void store(char *P, int64_t I, T V) {
  std::memcpy(P + I * int64_t(sizeof(T)), &V, sizeof(T));
}

/// Element I of integer data of type `From`, or nullopt-like false when it
/// is no integer type.
bool loadInteger(DType From, const char *P, int64_t I, long double &V) {
  switch (From) {
  case DType::I32:
    V = load<int32_t>(P, I);
    return true;
  case DType::I64:
    V = load<int64_t>(P, I);
    return true;
  case DType::I16:
    V = load<int16_t>(P, I);
    return true;
  case DType::I8:
    V = load<int8_t>(P, I);
    return true;
  case DType::U8:
    V = load<uint8_t>(P, I);
    return true;
  case DType::U16:
    V = load<uint16_t>(P, I);
    return true;
  case DType::U32:
    V = load<uint32_t>(P, I);
    return true;
  case DType::U64:
    V = load<uint64_t>(P, I);
    return true;
  case DType::Bool:
    V = load<uint8_t>(P, I) != 0;
    return true;
  case DType::F32:
  case DType::F64:
  case DType::F16:
  case DType::BF16:
    return false;
  }
  return false;
}

/// Element I of floating (or BOOL) data of type `From` as a float.
bool loadFloat(DType From, const char *P, int64_t I, float &V) {
  switch (From) {
  case DType::F32:
    V = load<float>(P, I);
    return true;
  case DType::F64:
    V = float(load<double>(P, I));
    return true;
  case DType::F16:
    V = halfToFloat(load<uint16_t>(P, I));
    return true;
  case DType::BF16:
    V = bfloat16ToFloat(load<uint16_t>(P, I));
    return true;
  case DType::Bool:
    V = load<uint8_t>(P, I) != 0 ? 1.0f : 0.0f;
    return true;
  case DType::I32:
  case DType::I64:
  case DType::I16:
  case DType::I8:
  case DType::U8:
  case DType::U16:
  case DType::U32:
  case DType::U64:
    return false;
  }
  return false;
}

} // namespace

Status toComputeType(const std::string &What, const StoredTensor &T, DType To,
                     std::vector<char> &Out) {
  int64_t N = T.numel();
  Out.assign(size_t(N) * 4, 0);
  const char *P = T.Data.data();
  auto Cannot = [&] {
    return Status::error(What + " holds " + dtypeName(T.Type) +
                         " values, which cannot become " + dtypeName(To));
  };
  if (To == DType::F32) {
    for (int64_t I = 0; I < N; ++I) {
      float V;
      if (!loadFloat(T.Type, P, I, V))
        return Cannot();
      store(Out.data(), I, V);
    }
    return Status();
  }
  for (int64_t I = 0; I < N; ++I) {
    long double V;
    if (!loadInteger(T.Type, P, I, V))
      return Cannot();
    if (V < std::numeric_limits<int32_t>::min() ||
        V > std::numeric_limits<int32_t>::max())
      // V is integral, in [-2^63, 2^64): as unsigned when positive, since
      // a U64 beyond 2^63 does not fit a long long (found by fuzzing).
      return Status::error(What + ": element " + std::to_string(I) + " (" +
                           (V < 0 ? std::to_string((long long)V)
                                  : std::to_string((unsigned long long)V)) +
                           ") does not fit the model's i32");
    store(Out.data(), I, int32_t(V));
  }
  return Status();
}

std::vector<char> toFileType(const void *Data, int64_t Numel, DType From,
                             DType To) {
  std::vector<char> Out(size_t(Numel) * size_t(dtypeSize(To)), 0);
  const char *P = static_cast<const char *>(Data);
  char *Q = Out.data();
  for (int64_t I = 0; I < Numel; ++I) {
    float F = From == DType::F32 ? load<float>(P, I) : 0;
    int32_t N = From == DType::I32 ? load<int32_t>(P, I) : 0;
    bool IsF = From == DType::F32;
    switch (To) {
    case DType::F32:
      store(Q, I, IsF ? F : float(N));
      break;
    case DType::I32: // (an f32 value is never stored as I32)
      store(Q, I, N);
      break;
    case DType::F64:
      store(Q, I, IsF ? double(F) : double(N));
      break;
    case DType::F16:
      store(Q, I, floatToHalf(IsF ? F : float(N)));
      break;
    case DType::BF16:
      store(Q, I, floatToBfloat16(IsF ? F : float(N)));
      break;
    case DType::Bool:
      store(Q, I, uint8_t(IsF ? F != 0 : N != 0));
      break;
    // Integers wrap to the narrower types as a C cast does (ONNX's integer
    // arithmetic wraps the same way).
    case DType::I64:
      store(Q, I, int64_t(N));
      break;
    case DType::I16:
      store(Q, I, int16_t(N));
      break;
    case DType::I8:
      store(Q, I, int8_t(N));
      break;
    case DType::U8:
      store(Q, I, uint8_t(N));
      break;
    case DType::U16:
      store(Q, I, uint16_t(N));
      break;
    case DType::U32:
      store(Q, I, uint32_t(N));
      break;
    case DType::U64:
      store(Q, I, uint64_t(int64_t(N)));
      break;
    }
  }
  return Out;
}

} // namespace nnc::rt
