//===- ReaderLimitsTest.cpp - The readers' limits, from C++ ---------------===//
//
// The limits of docs/reliability.md ("Limits") that no compiled model of
// test/Runtime can reach: CSV values for i32 inputs and targets, messages
// that quote outside bytes, the JSON reader's escapes, the CSV dialect's
// quoting, and the executable's command line (CommandLine.h) as data.
// test/Runtime/reader-limits.test has the rest, through executables.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/CommandLine.h"
#include "nnc/Runtime/Dataset.h"
#include "nnc/Runtime/Json.h"
#include "nnc/Runtime/LogTable.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace nnc::rt;

namespace {

TEST(ReaderLimits, QuoteForMessage) {
  EXPECT_EQ(quoteForMessage("abc"), "'abc'");
  EXPECT_EQ(quoteForMessage(std::string("a\0b\n\t\x1b'\\", 8)),
            "'a\\x00b\\n\\t\\x1b\\'\\\\'");
  // UTF-8 passes, and a cut never splits a character.
  EXPECT_EQ(quoteForMessage("caf\xC3\xA9"), "'caf\xC3\xA9'");
  EXPECT_EQ(quoteForMessage("caf\xC3\xA9", 4), "'caf...'");
  EXPECT_EQ(quoteForMessage(std::string(100, 'x'), 3), "'xxx...'");
}

TEST(ReaderLimits, JsonErrorsEscapeTheByte) {
  Expected<JsonValue> V = parseJson("[\x01]", 8);
  ASSERT_FALSE(bool(V));
  EXPECT_EQ(V.takeError().message(), "offset 9: unexpected character '\\x01'");
  V = parseJson("\"\\\x1b\"");
  ASSERT_FALSE(bool(V));
  EXPECT_EQ(V.takeError().message(), "offset 2: bad escape '\\\\x1b'");
}

TEST(ReaderLimits, LogLinesAndQuotes) {
  // A lone CR ends a line; a quoted header name may hold a comma.
  Expected<LogTable> T =
      parseLog("\"epoch\",\"loss, train\"\r1,0.5\r\n2,\"0.25\"\r", "run.csv");
  ASSERT_TRUE(bool(T)) << T.takeError().message();
  ASSERT_EQ(T->numRows(), 2u);
  ASSERT_NE(T->find("loss, train"), nullptr);
  EXPECT_EQ(T->find("loss, train")->Values[1], 0.25);
  // Doubled quotes are one quote.
  T = parseLog("epoch,\"say \"\"hi\"\"\"\n1,2\n", "run.csv");
  ASSERT_TRUE(bool(T)) << T.takeError().message();
  EXPECT_NE(T->find("say \"hi\""), nullptr);
  T = parseLog("epoch,loss\n1,\"2\n", "run.csv");
  ASSERT_FALSE(bool(T));
  EXPECT_EQ(T.takeError().message(),
            "run.csv: line 2, column 2: a quoted cell is not closed, or text "
            "follows its closing quote");
  T = parseLog("epoch,loss\n1,\"2\"x\n", "run.csv");
  ASSERT_FALSE(bool(T));
  EXPECT_NE(T.takeError().message().find("text follows its closing quote"),
            std::string::npos);
}

/// A model of one i32 input of 2 values and an i32 target of 2 values
/// (not a label: two columns), as loadCsv sees it.
class CsvLimits : public ::testing::Test {
protected:
  void SetUp() override {
    Path = (std::filesystem::temp_directory_path() /
            ("nnc-csv-" + std::to_string(::getpid()) + ".csv"))
               .string();
    for (nnc_slot *S : {&In, &Tgt}) {
      S->dtype = NNC_I32;
      S->rank = 2;
      S->dims = Dims;
    }
    In.name = "x";
    In.role = NNC_SLOT_INPUT;
    Tgt.name = "t";
    Tgt.role = NNC_SLOT_TARGET;
  }
  void TearDown() override { std::remove(Path.c_str()); }
  std::string load(const std::string &Text) {
    std::ofstream(Path, std::ios::binary) << Text;
    Expected<Dataset> D = loadCsv(Path, {}, {}, false, Layout);
    return D ? "" : D.takeError().message().substr(Path.size());
  }
  int64_t Dims[2] = {1, 2};
  nnc_slot In{}, Tgt{};
  int32_t InBuf[2], TgtBuf[2];
  SlotBuffer InSlot{&In, InBuf, 2}, TgtSlot{&Tgt, TgtBuf, 2};
  SampleLayout Layout{&InSlot, &TgtSlot, 2, 2, 0};
  std::string Path;
};

TEST_F(CsvLimits, I32ValuesAreIntegersInRange) {
  EXPECT_EQ(load("1,-2,3,2147483647\n"), "");
  EXPECT_EQ(load("1,2,3,2147483648\n"),
            ": line 1, column 3: '2147483648' is out of the range of i32");
  EXPECT_EQ(load("-2147483649,2,3,4\n"),
            ": line 1, column 0: '-2147483649' is out of the range of i32");
  EXPECT_EQ(load("1,2.5,3,4\n"), ": line 1, column 1: '2.5' is not an integer");
  EXPECT_EQ(load("1,2,1e300,4\n"),
            ": line 1, column 2: '1e300' is out of the range of i32");
}

ParsedCommandLine parse(std::vector<std::string> Args, bool Train = true) {
  static nnc_model M{};
  M.name = "m";
  M.train.present = Train;
  return parseCommandLine(M, "exe", std::move(Args));
}

TEST(CommandLine, RunsHelpsOrRefuses) {
  ParsedCommandLine P = parse({});
  EXPECT_EQ(P.K, ParsedCommandLine::Run);
  EXPECT_STREQ(P.CommandName, "train");
  P = parse({"train", "--epochs=3", "--lr", "0.5", "--seed", "7"});
  ASSERT_EQ(P.K, ParsedCommandLine::Run);
  EXPECT_EQ(*P.Options.Epochs, 3);
  EXPECT_EQ(*P.Options.Lr, 0.5);
  EXPECT_EQ(*P.Options.Seed, 7u);
  P = parse({"predict", "--help"});
  ASSERT_EQ(P.K, ParsedCommandLine::Help);
  EXPECT_EQ(P.Text.rfind("usage: exe predict", 0), 0u);
  P = parse({"bogus\x1b"});
  ASSERT_EQ(P.K, ParsedCommandLine::UsageError);
  EXPECT_EQ(P.Text, "unknown command 'bogus\\x1b'");
  // A repeated --data replaces the first.
  P = parse({"eval", "--load", "w", "--data", "a", "b", "--data", "c.csv"});
  ASSERT_EQ(P.K, ParsedCommandLine::Run);
  EXPECT_EQ(P.Options.Data, std::vector<std::string>{"c.csv"});
}

TEST(CommandLine, NumbersAreWholeWords) {
  // strto* would skip the space, and strtoull negate " -5" into 2^64 - 5.
  for (const char *Seed :
       {" -5", " 5", "-5", "5x", "", "18446744073709551616"}) {
    ParsedCommandLine P = parse({"init", "--save", "w", "--seed", Seed});
    ASSERT_EQ(P.K, ParsedCommandLine::UsageError) << Seed;
    EXPECT_EQ(P.Text, "invalid value " + quoteForMessage(Seed) +
                          " for --seed (expected a non-negative integer)");
  }
  ParsedCommandLine P = parse({"train", "--lr", "\t0.1"});
  ASSERT_EQ(P.K, ParsedCommandLine::UsageError);
  EXPECT_EQ(P.Text, "invalid value '\\t0.1' for --lr (expected a number)");
  P = parse({"train", "--epochs", "1e3"});
  ASSERT_EQ(P.K, ParsedCommandLine::UsageError);
}

} // namespace
