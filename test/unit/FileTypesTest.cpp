//===- FileTypesTest.cpp - Tensor files' element types to slots and back --===//
#include "nnc/Runtime/FileTypes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace nnc::rt;

namespace {

StoredTensor stored(DType T, const void *Data, size_t Bytes, int64_t N) {
  StoredTensor S;
  S.Name = "x";
  S.Type = T;
  S.Shape = {N};
  S.Data.assign(static_cast<const char *>(Data),
                static_cast<const char *>(Data) + Bytes);
  return S;
}

TEST(FileTypesTest, HalfRoundTripsEveryFiniteValue) {
  // Every half converts to a float exactly, and back to itself.
  for (uint32_t H = 0; H < 0x10000; ++H) {
    uint16_t Bits = uint16_t(H);
    float F = halfToFloat(Bits);
    if (std::isnan(F))
      continue;
    EXPECT_EQ(floatToHalf(F), Bits) << "half 0x" << std::hex << H;
  }
}

TEST(FileTypesTest, HalfRoundsToNearestEven) {
  EXPECT_EQ(halfToFloat(floatToHalf(1.0f)), 1.0f);
  // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to even (1).
  EXPECT_EQ(halfToFloat(floatToHalf(1.0f + std::ldexp(1.0f, -11))), 1.0f);
  EXPECT_EQ(halfToFloat(floatToHalf(65504.0f)), 65504.0f);
  EXPECT_TRUE(std::isinf(halfToFloat(floatToHalf(70000.0f))));
  // The smallest subnormal half, 2^-24, and half of it rounding to 0.
  EXPECT_EQ(halfToFloat(floatToHalf(std::ldexp(1.0f, -24))),
            std::ldexp(1.0f, -24));
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -25)), 0);
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(NAN))));
}

TEST(FileTypesTest, Bfloat16KeepsTheTopBitsRounded) {
  EXPECT_EQ(bfloat16ToFloat(floatToBfloat16(1.5f)), 1.5f);
  EXPECT_EQ(floatToBfloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80); // a tie
  EXPECT_TRUE(std::isnan(bfloat16ToFloat(floatToBfloat16(NAN))));
}

TEST(FileTypesTest, IntegersBecomeI32OrSayWhyNot) {
  int64_t In[] = {-3, 0, 2147483647};
  std::vector<char> Out;
  ASSERT_FALSE(toComputeType("x", stored(DType::I64, In, sizeof(In), 3),
                             DType::I32, Out));
  int32_t Got[3];
  std::memcpy(Got, Out.data(), sizeof(Got));
  EXPECT_EQ(Got[0], -3);
  EXPECT_EQ(Got[2], 2147483647);
  int64_t Big[] = {1, int64_t(1) << 40};
  Status S =
      toComputeType("f: tensor 'x'", stored(DType::I64, Big, sizeof(Big), 2),
                    DType::I32, Out);
  ASSERT_TRUE(S);
  EXPECT_EQ(S.message(),
            "f: tensor 'x': element 1 (1099511627776) does not fit the "
            "model's i32");
  // Beyond int64 too: a U64 of 2^64 - 1 (found by fuzzing: its message
  // converted it to long long, which is undefined).
  uint64_t Huge[] = {~uint64_t(0)};
  S = toComputeType("f: tensor 'u'", stored(DType::U64, Huge, sizeof(Huge), 1),
                    DType::I32, Out);
  ASSERT_TRUE(S);
  EXPECT_EQ(S.message(), "f: tensor 'u': element 0 (18446744073709551615) does "
                         "not fit the model's i32");
  // A float file cannot feed an integer slot.
  double D[] = {1.5};
  S = toComputeType("x", stored(DType::F64, D, sizeof(D), 1), DType::I32, Out);
  ASSERT_TRUE(S);
  EXPECT_EQ(S.message(), "x holds F64 values, which cannot become I32");
}

TEST(FileTypesTest, OutputsTakeTheirFilesTypes) {
  float F[] = {0.0f, -2.5f, 1e10f};
  std::vector<char> B = toFileType(F, 3, DType::F32, DType::Bool);
  EXPECT_EQ(std::vector<char>(B.begin(), B.end()),
            (std::vector<char>{0, 1, 1}));
  std::vector<char> D = toFileType(F, 3, DType::F32, DType::F64);
  double Back[3];
  std::memcpy(Back, D.data(), sizeof(Back));
  EXPECT_EQ(Back[1], -2.5);
  int32_t I[] = {-1, 300};
  std::vector<char> U8 = toFileType(I, 2, DType::I32, DType::U8);
  EXPECT_EQ(uint8_t(U8[0]), 255); // wraps, as a C cast
  EXPECT_EQ(uint8_t(U8[1]), 44);
  std::vector<char> I64 = toFileType(I, 2, DType::I32, DType::I64);
  int64_t Wide[2];
  std::memcpy(Wide, I64.data(), sizeof(Wide));
  EXPECT_EQ(Wide[0], -1);
}

} // namespace
