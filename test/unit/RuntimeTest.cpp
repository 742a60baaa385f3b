//===- RuntimeTest.cpp - Unit tests of the runtime library ----------------===//
//
// The pieces of the runtime that are easier to pin down from C++ than from
// lit: the JSON reader, safetensors encoding and validation, the PRNG's
// exact bits, IDX parsing and gzip reading, and atomic writes.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Dataset.h"
#include "nnc/Runtime/Json.h"
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Random.h"
#include "nnc/Runtime/TensorFile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>
#include <zlib.h>

using namespace nnc::rt;

namespace {

/// A fresh scratch folder per test.
class RuntimeFiles : public ::testing::Test {
protected:
  void SetUp() override {
    Dir = std::filesystem::temp_directory_path() /
          ("nnc-rt-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(Dir);
    std::filesystem::create_directories(Dir);
  }
  void TearDown() override { std::filesystem::remove_all(Dir); }
  std::string path(const char *Name) { return (Dir / Name).string(); }
  void writeBytes(const std::string &P, const std::string &Bytes) {
    std::ofstream(P, std::ios::binary) << Bytes;
  }
  std::filesystem::path Dir;
};

std::string header(const std::string &Json, const std::string &Data = "") {
  uint64_t N = Json.size();
  std::string Out(8, '\0');
  std::memcpy(Out.data(), &N, 8);
  return Out + Json + Data;
}

TEST(RuntimeJson, ParsesSafetensorsHeaders) {
  Expected<JsonValue> V = parseJson(
      R"( {"__metadata__": {"k": "v\u00e9\n"}, "W": {"dtype": "F32",
          "shape": [2, 3], "data_offsets": [0, 24]}, "x": [true, false,
          null, -1.5e2]} )");
  ASSERT_TRUE(bool(V));
  ASSERT_EQ(V->K, JsonValue::Kind::Object);
  ASSERT_EQ(V->Members.size(), 3u);
  EXPECT_EQ(V->get("__metadata__")->get("k")->Str, "v\xc3\xa9\n");
  const JsonValue *Shape = V->get("W")->get("shape");
  ASSERT_EQ(Shape->Elements.size(), 2u);
  EXPECT_TRUE(Shape->Elements[1].IsInteger);
  EXPECT_EQ(Shape->Elements[1].Integer, 3);
  const JsonValue *X = V->get("x");
  EXPECT_TRUE(X->Elements[0].Bool);
  EXPECT_EQ(X->Elements[2].K, JsonValue::Kind::Null);
  EXPECT_FALSE(X->Elements[3].IsInteger);
  EXPECT_EQ(X->Elements[3].Number, -150.0);
  EXPECT_EQ(V->get("missing"), nullptr);
}

TEST(RuntimeJson, ReportsTheOffsetOfErrors) {
  struct Case {
    const char *Text;
    const char *Message;
  } Cases[] = {
      {"{\"a\": 1,}", "offset 8: expected a string key"},
      {"{\"a\" 1}", "offset 5: expected ':'"},
      {"[1, 2", "offset 5: expected ',' or ']'"},
      {"\"abc", "offset 4: unterminated string"},
      {"{\"a\": 01x}", "offset 8: expected ',' or '}'"},
      {"[1] 2", "offset 4: unexpected text after the JSON value"},
      {"", "offset 0: unexpected end of JSON"},
      {"\"\\q\"", "offset 2: bad escape '\\q'"},
  };
  for (const Case &C : Cases) {
    Expected<JsonValue> V = parseJson(C.Text);
    ASSERT_FALSE(bool(V)) << C.Text;
    EXPECT_EQ(V.takeError().message(), C.Message) << C.Text;
  }
  // Offsets shift by the base (the 8 bytes before a safetensors header).
  Expected<JsonValue> V = parseJson("[}", 8);
  ASSERT_FALSE(bool(V));
  EXPECT_EQ(V.takeError().message(), "offset 9: unexpected character '}'");
}

TEST(RuntimeJson, RejectsDeepNestingWithoutCrashing) {
  std::string Deep(100000, '[');
  Expected<JsonValue> V = parseJson(Deep);
  ASSERT_FALSE(bool(V));
  EXPECT_NE(V.takeError().message().find("nested too deeply"),
            std::string::npos);
}

TEST(RuntimeJson, QuotesStrings) {
  EXPECT_EQ(quoteJson("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
}

TEST_F(RuntimeFiles, TensorFileRoundTrip) {
  float W[6] = {1, 2, 3, 4, 5, 6.5f};
  int32_t L[3] = {-1, 0, 7};
  float S = 0.25f;
  std::string P = path("rt.safetensors");
  ASSERT_FALSE(writeTensorFile(P,
                               {{"h1.W", DType::F32, {2, 3}, W},
                                {"labels", DType::I32, {3}, L},
                                {"loss", DType::F32, {}, &S}},
                               {{"model", "m"}}));
  Expected<TensorFile> F = readTensorFile(P);
  ASSERT_TRUE(bool(F)) << F.takeError().message();
  ASSERT_EQ(F->Tensors.size(), 3u);
  EXPECT_EQ(F->Metadata.at("model"), "m");
  const StoredTensor *T = F->find("h1.W");
  ASSERT_NE(T, nullptr);
  EXPECT_EQ(T->Type, DType::F32);
  EXPECT_EQ(T->Shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(T->Data.data(), W, sizeof(W)), 0);
  EXPECT_EQ(F->find("labels")->Type, DType::I32);
  EXPECT_EQ(std::memcmp(F->find("labels")->Data.data(), L, sizeof(L)), 0);
  EXPECT_TRUE(F->find("loss")->Shape.empty());
  EXPECT_EQ(F->find("loss")->numel(), 1);
  // The data section starts 8-byte aligned.
  std::string Bytes = encodeTensorFile({{"a", DType::F32, {1}, &S}}, {});
  uint64_t HeaderLen;
  std::memcpy(&HeaderLen, Bytes.data(), 8);
  EXPECT_EQ((8 + HeaderLen) % 8, 0u);
}

TEST_F(RuntimeFiles, TensorFileValidation) {
  struct Case {
    std::string Bytes;
    const char *Message;
  } Cases[] = {
      {"abc", "file too short for a safetensors header (3 bytes)"},
      {header("{}").substr(0, 8) + "{", "header length 2 exceeds"},
      {header("{\"W\":"), "invalid JSON header: offset 13: unexpected end"},
      {header("{\"W\":{\"dtype\":\"F32\",\"shape\":[1]}}"),
       "tensor 'W': missing key 'data_offsets'"},
      {header("{\"W\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "abcd"),
       "tensor 'W': missing key 'dtype'"},
      {header("{\"W\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,"
              "8]}}",
              "abcdefgh"),
       "unsupported dtype 'C64'"},
      {header("{\"W\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,"
              "4]}}",
              "abcd"),
       "'shape' holds something other than non-negative integers"},
      {header("{\"W\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,"
              "0]}}",
              "abcd"),
       "data_offsets [4, 0] out of range"},
      {header("{\"W\":{\"dtype\":\"F32\",\"shape\":[1000000000,1000000000,"
              "1000000000],\"data_offsets\":[0,4]}}",
              "abcd"),
       "is too large"},
      {header("{\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,"
              "4]},\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":["
              "0,4]}}",
              "abcd"),
       "tensors 'a' and 'b' have overlapping data_offsets"},
      {header("{\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,"
              "4]},\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":["
              "4,8]}}",
              "abcdefgh"),
       "tensor 'a' appears twice"},
  };
  for (const Case &C : Cases) {
    std::string P = path("bad.safetensors");
    writeBytes(P, C.Bytes);
    Expected<TensorFile> F = readTensorFile(P);
    ASSERT_FALSE(bool(F)) << C.Message;
    std::string Msg = F.takeError().message();
    EXPECT_EQ(Msg.rfind(P + ": ", 0), 0u) << Msg;
    EXPECT_NE(Msg.find(C.Message), std::string::npos) << Msg;
  }
}

TEST_F(RuntimeFiles, AtomicWriteLeavesNoTempFileOnFailure) {
  // Renaming a file over a directory fails after the temp file was written.
  std::string Target = path("target");
  std::filesystem::create_directory(Target);
  Status S = writeFileAtomically(Target, "data");
  ASSERT_TRUE(bool(S));
  EXPECT_NE(S.message().find("cannot rename"), std::string::npos);
  int Entries = 0;
  for (auto &E : std::filesystem::directory_iterator(Dir)) {
    (void)E;
    ++Entries;
  }
  EXPECT_EQ(Entries, 1); // Only the directory itself.
  // Success replaces an existing file.
  std::string P = path("f");
  writeBytes(P, "old");
  ASSERT_FALSE(writeFileAtomically(P, "new contents"));
  std::ifstream In(P);
  std::string Got((std::istreambuf_iterator<char>(In)), {});
  EXPECT_EQ(Got, "new contents");
}

TEST(RuntimeRandom, SameSeedSameBits) {
  // splitmix64's published first output for state 0.
  uint64_t State = 0;
  EXPECT_EQ(splitMix64(State), 0xe220a8397b1dcdafULL);
  Rng A(42), B(42), C(43);
  bool Differs = false;
  for (int I = 0; I < 1000; ++I) {
    uint64_t X = A.next();
    EXPECT_EQ(X, B.next());
    Differs |= X != C.next();
  }
  EXPECT_TRUE(Differs);
  // Pinned values: a change here changes every nnc user's initial weights.
  Rng D(1);
  EXPECT_EQ(D.next(), 0xb3f2af6d0fc710c5ULL);
  EXPECT_EQ(hashName("W1"), 0x09380707b5c97365ULL);
}

TEST(RuntimeRandom, Distributions) {
  Rng R(7);
  double Sum = 0, SumSq = 0;
  constexpr int N = 200000;
  for (int I = 0; I < N; ++I) {
    double U = R.uniform();
    ASSERT_GE(U, 0.0);
    ASSERT_LT(U, 1.0);
  }
  for (int I = 0; I < N; ++I) {
    double X = R.normal();
    Sum += X;
    SumSq += X * X;
  }
  EXPECT_NEAR(Sum / N, 0.0, 0.01);
  EXPECT_NEAR(SumSq / N, 1.0, 0.02);
  int Counts[3] = {0, 0, 0};
  for (int I = 0; I < 30000; ++I) {
    uint64_t K = R.below(3);
    ASSERT_LT(K, 3u);
    ++Counts[K];
  }
  for (int Count : Counts)
    EXPECT_NEAR(Count, 10000, 400);
}

TEST(RuntimeInit, FanInOut) {
  double In, Out;
  fanInOut({784, 256}, In, Out);
  EXPECT_EQ(In, 784);
  EXPECT_EQ(Out, 256);
  fanInOut({16, 6, 5, 5}, In, Out);
  EXPECT_EQ(In, 150);
  EXPECT_EQ(Out, 400);
  fanInOut({10}, In, Out);
  EXPECT_EQ(In, 10);
  EXPECT_EQ(Out, 10);
  fanInOut({}, In, Out);
  EXPECT_EQ(In, 1);
}

std::vector<uint8_t> idxBytes(std::vector<uint8_t> Header, size_t DataBytes) {
  for (size_t I = 0; I < DataBytes; ++I)
    Header.push_back(uint8_t(I * 7));
  return Header;
}

TEST(RuntimeIdx, ParsesHeaderAndData) {
  Expected<IdxArray> A =
      parseIdx("f", idxBytes({0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 1, 0},
                             2 * 3 * 256 + 5));
  ASSERT_TRUE(bool(A)) << A.takeError().message();
  EXPECT_EQ(A->Dims, (std::vector<int64_t>{2, 3, 256}));
  // Trailing bytes beyond the promised size are dropped.
  ASSERT_EQ(A->Data.size(), 2u * 3 * 256);
  EXPECT_EQ(A->Data[1], 7);
}

TEST(RuntimeIdx, RejectsBadFiles) {
  struct Case {
    std::vector<uint8_t> Bytes;
    const char *Message;
  } Cases[] = {
      {{0, 0}, "f: offset 0: file too short for an IDX header (2 bytes)"},
      {{1, 2, 3, 4}, "f: offset 0: bad IDX magic 0x01020304"},
      {{0, 0, 0x0B, 1}, "f: offset 2: unsupported IDX element type 0x0b"},
      {{0, 0, 8, 0}, "f: offset 3: IDX file with no dimensions"},
      {{0, 0, 8, 2, 0, 0}, "f: offset 6: truncated IDX header"},
      {idxBytes({0, 0, 8, 1, 0, 0, 0, 9}, 4),
       "f: offset 12: truncated IDX data (the header promises [9] bytes"},
      // Huge dimensions must not overflow into a small product.
      {idxBytes(
           {0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 0, 1, 0, 0}, 4),
       "f: offset 8: IDX dimensions [4294967295, 4294967295]... exceed 2^62 "
       "elements"},
      // Nor may a zero count let absurd image dimensions through.
      {idxBytes(
           {0, 0, 8, 3, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255}, 4),
       "f: offset 12: IDX dimensions [0, 4294967295, 4294967295]... exceed "
       "2^62 elements"},
  };
  for (Case &C : Cases) {
    Expected<IdxArray> A = parseIdx("f", C.Bytes);
    ASSERT_FALSE(bool(A)) << C.Message;
    std::string Msg = A.takeError().message();
    EXPECT_NE(Msg.find(C.Message), std::string::npos) << Msg;
  }
}

TEST_F(RuntimeFiles, ReadsGzipAndPlainAlike) {
  std::string Payload("\x00\x00\x08\x01\x00\x00\x00\x03\x05\x06\x07", 11);
  std::string Plain = path("plain"), Gz = path("data.gz");
  writeBytes(Plain, Payload);
  gzFile F = gzopen(Gz.c_str(), "wb");
  ASSERT_NE(F, nullptr);
  gzwrite(F, Payload.data(), unsigned(Payload.size()));
  gzclose(F);
  for (const std::string &P : {Plain, Gz}) {
    Expected<std::vector<uint8_t>> Bytes = readMaybeGzip(P);
    ASSERT_TRUE(bool(Bytes)) << Bytes.takeError().message();
    EXPECT_EQ(std::string(Bytes->begin(), Bytes->end()), Payload);
  }
  // A gzip stream cut short is an error, not silently short data.
  std::ifstream In(Gz, std::ios::binary);
  std::string Compressed((std::istreambuf_iterator<char>(In)), {});
  std::string Cut = path("cut.gz");
  writeBytes(Cut, Compressed.substr(0, Compressed.size() - 6));
  Expected<std::vector<uint8_t>> Bytes = readMaybeGzip(Cut);
  ASSERT_FALSE(bool(Bytes));
  EXPECT_NE(Bytes.takeError().message().find("truncated gzip data"),
            std::string::npos);
  Expected<std::vector<uint8_t>> Missing = readMaybeGzip(path("none"));
  ASSERT_FALSE(bool(Missing));
  EXPECT_NE(Missing.takeError().message().find("No such file"),
            std::string::npos);
}

} // namespace
