//===- PlotTest.cpp - Unit tests of `EXE plot`'s pure parts ---------------===//
//
// The three functions behind `plot` (docs/runtime.md, "plot"), each from
// bytes or numbers to a value: the tick algorithm, the `--log` reader and
// the SVG writer. The command itself, and the picture in a browser, are
// tested by lit (test/Runtime/plot*.test).
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/CurvePlot.h"
#include "nnc/Runtime/LogTable.h"
#include "nnc/Runtime/Ticks.h"
#include "nnc/Runtime/Xml.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>

using namespace nnc::rt;

namespace {

using Strings = std::vector<std::string>;
using Values = std::vector<double>;

//===-- Ticks -------------------------------------------------------------===//

TEST(NiceAxis, WidensToRoundTicksAroundTheData) {
  Axis A = niceAxis(0.013, 2.31, 6, false);
  EXPECT_EQ(A.Lo, 0);
  EXPECT_EQ(A.Hi, 2.5);
  EXPECT_EQ(A.Step, 0.5);
  EXPECT_EQ(A.Labels, (Strings{"0.0", "0.5", "1.0", "1.5", "2.0", "2.5"}));
}

TEST(NiceAxis, QuarterStepsGetOneMoreDecimal) {
  // 0.02 would need 7 ticks; 0.025 needs 6.
  Axis A = niceAxis(0.8123, 0.9187, 6, false);
  EXPECT_EQ(A.Step, 0.025);
  EXPECT_EQ(A.Labels,
            (Strings{"0.800", "0.825", "0.850", "0.875", "0.900", "0.925"}));
}

TEST(NiceAxis, NegativeRangesHaveNoMinusZero) {
  Axis A = niceAxis(-0.3, 0.7, 6, false);
  EXPECT_EQ(A.Step, 0.25);
  EXPECT_EQ(A.Labels,
            (Strings{"-0.50", "-0.25", "0.00", "0.25", "0.50", "0.75"}));
}

TEST(NiceAxis, EpochsAreIntegers) {
  EXPECT_EQ(niceAxis(1, 5, 11, true).Labels,
            (Strings{"1", "2", "3", "4", "5"}));
  // Without the integer rule 1..3 would be labelled in halves.
  EXPECT_EQ(niceAxis(1, 3, 11, true).Labels, (Strings{"1", "2", "3"}));
  EXPECT_EQ(niceAxis(1, 3, 11, false).Step, 0.2);
  Axis Twelve = niceAxis(1, 12, 11, true);
  EXPECT_EQ(Twelve.Step, 2);
  EXPECT_EQ(Twelve.Lo, 0);
  EXPECT_EQ(Twelve.Hi, 12);
  Axis Long = niceAxis(1, 10000, 11, true);
  EXPECT_EQ(Long.Step, 1000);
  EXPECT_EQ(Long.Labels.back(), "10000");
}

TEST(NiceAxis, OneValueIsWidened) {
  // A one-epoch log, and a constant learning rate.
  EXPECT_EQ(niceAxis(1, 1, 11, true).Labels, (Strings{"0", "1", "2"}));
  Axis Rate = niceAxis(0.5, 0.5, 6, false);
  EXPECT_NEAR(Rate.Lo, 0.45, 1e-12);
  EXPECT_NEAR(Rate.Hi, 0.55, 1e-12);
  EXPECT_EQ(Rate.Labels.front(), "0.450");
  Axis Zero = niceAxis(0, 0, 6, false);
  EXPECT_EQ(Zero.Lo, -1);
  EXPECT_EQ(Zero.Hi, 1);
}

TEST(NiceAxis, TinyAndHugeValuesAreScientific) {
  EXPECT_EQ(niceAxis(0, 1e-4, 6, false).Labels,
            (Strings{"0", "2.0e-5", "4.0e-5", "6.0e-5", "8.0e-5", "1.0e-4"}));
  EXPECT_EQ(niceAxis(0, 3e6, 6, false).Labels,
            (Strings{"0", "1e6", "2e6", "3e6"}));
  // A rate of 1e-3 still reads better in decimals.
  EXPECT_EQ(niceAxis(0, 1e-3, 6, false).Labels.back(), "0.0010");
}

/// Whether `Step` is m * 10^k for m in {1, 2, 2.5, 5}.
bool isNiceStep(double Step) {
  double Scale = std::pow(10.0, std::floor(std::log10(Step)));
  double M = Step / Scale;
  for (double Nice : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (std::fabs(M - Nice) < 1e-9)
      return true;
  return false;
}

TEST(NiceAxis, RandomRangesKeepTheContract) {
  uint64_t State = 12345;
  auto Next = [&] {
    State = State * 6364136223846793005ull + 1442695040888963407ull;
    return double(State >> 11) / double(1ull << 53);
  };
  for (int I = 0; I < 2000; ++I) {
    double Scale = std::pow(10.0, std::floor(Next() * 16) - 8);
    double A = (Next() * 2 - 1) * Scale, B = (Next() * 2 - 1) * Scale;
    double Lo = std::min(A, B), Hi = std::max(A, B);
    int Max = 3 + int(Next() * 10);
    SCOPED_TRACE(testing::Message()
                 << "[" << Lo << ", " << Hi << "] max " << Max);
    Axis X = niceAxis(Lo, Hi, Max, false);
    ASSERT_LE(X.Lo, Lo);
    ASSERT_GE(X.Hi, Hi);
    ASSERT_GE(X.Ticks.size(), 2u);
    ASSERT_LE(X.Ticks.size(), size_t(Max));
    ASSERT_EQ(X.Labels.size(), X.Ticks.size());
    ASSERT_TRUE(isNiceStep(X.Step)) << X.Step;
    for (size_t K = 1; K < X.Ticks.size(); ++K)
      ASSERT_NEAR(X.Ticks[K] - X.Ticks[K - 1], X.Step, X.Step * 1e-6);
    // The labels tell the ticks apart.
    for (size_t K = 1; K < X.Labels.size(); ++K)
      ASSERT_NE(X.Labels[K], X.Labels[K - 1]);
  }
}

TEST(NiceAxis, AnyFiniteRangeGivesAFiniteAxis) {
  for (auto [Lo, Hi] : std::vector<std::pair<double, double>>{
           {-DBL_MAX, DBL_MAX},
           {DBL_MAX, DBL_MAX},
           {-DBL_MAX, -DBL_MAX},
           {0, 5e-324},
           {5e-324, 5e-324},
           {1e17, 1e17 + 16},
           {-1e300, 1e300},
           // Found by fuzzing: a value a billionth of a step past the top
           // tick; a subnormal constant.
           {-1.0565885584504058e+270, 2.1219947786e-314},
           {2.5e-323, 2.5e-323}}) {
    SCOPED_TRACE(testing::Message() << "[" << Lo << ", " << Hi << "]");
    Axis A = niceAxis(Lo, Hi, 6, false);
    EXPECT_TRUE(std::isfinite(A.Lo) && std::isfinite(A.Hi));
    EXPECT_LE(A.Lo, Lo);
    EXPECT_GE(A.Hi, Hi);
    EXPECT_FALSE(A.Ticks.empty());
    EXPECT_LE(A.Ticks.size(), 6u);
    EXPECT_EQ(A.Labels.size(), A.Ticks.size());
    EXPECT_TRUE(std::is_sorted(A.Ticks.begin(), A.Ticks.end()));
    double Mid = A.fraction(Lo / 2 + Hi / 2);
    EXPECT_TRUE(Mid >= 0 && Mid <= 1) << Mid;
  }
}

//===-- The log reader ----------------------------------------------------===//

TEST(LogTable, ReadsWhatTrainLogWrites) {
  Expected<LogTable> T =
      parseLog("epoch,lr,loss,accuracy,val_loss,val_accuracy,seconds\n"
               "1,0.1,2.30258512,0.1,2.2,0.12,0.012\n"
               "2,0.1,-nan,0.5,inf,0.55,0.011\n",
               "run.csv");
  ASSERT_TRUE(T) << T.takeError().message();
  ASSERT_EQ(T->Columns.size(), 7u);
  EXPECT_EQ(T->numRows(), 2u);
  EXPECT_EQ(T->Columns[4].Name, "val_loss");
  EXPECT_EQ(T->find("loss")->Values[0], 2.30258512);
  EXPECT_TRUE(std::isnan(T->find("loss")->Values[1]));
  EXPECT_TRUE(std::isinf(T->find("val_loss")->Values[1]));
  EXPECT_EQ(T->find("epoch")->Values, (Values{1, 2}));
  EXPECT_EQ(T->find("nope"), nullptr);
}

TEST(LogTable, AcceptsWhatEditorsAndScriptsWrite) {
  // A byte-order mark, CRLF, blank lines, spaces, an empty (missing) cell
  // as pandas writes one, no newline at the end.
  Expected<LogTable> T = parseLog("\xEF\xBB\xBF"
                                  "epoch, loss\r\n\r\n 1 , 0.5\r\n2,\r\n"
                                  "3, +1e-3",
                                  "run.csv");
  ASSERT_TRUE(T) << T.takeError().message();
  EXPECT_EQ(T->Columns[0].Name, "epoch");
  EXPECT_EQ(T->Columns[1].Name, "loss");
  const Values &L = T->find("loss")->Values;
  ASSERT_EQ(L.size(), 3u);
  EXPECT_EQ(L[0], 0.5);
  EXPECT_TRUE(std::isnan(L[1]));
  EXPECT_EQ(L[2], 1e-3);
}

/// The message parseLog gives for `Bytes`.
std::string errorOf(std::string_view Bytes) {
  Expected<LogTable> T = parseLog(Bytes, "run.csv");
  return T ? "(no error)" : T.takeError().message();
}

TEST(LogTable, EveryBadInputIsOneMessageWithFileAndLine) {
  EXPECT_EQ(errorOf(""), "run.csv: the file is empty (a log written by "
                         "'train --log' starts with 'epoch,lr,loss')");
  EXPECT_EQ(errorOf("\n \r\n"), errorOf(""));
  EXPECT_EQ(errorOf("step,loss\n1,2\n"),
            "run.csv: line 1: the header has no 'epoch' column (a log written "
            "by 'train --log' starts with 'epoch,lr,loss')");
  EXPECT_EQ(errorOf("epoch,loss,loss\n"),
            "run.csv: line 1: the header names column 'loss' twice");
  EXPECT_EQ(errorOf("epoch,,loss\n"),
            "run.csv: line 1: column 2 of the header has no name");
  EXPECT_EQ(errorOf("epoch,loss\n"),
            "run.csv: no epochs: the log has a header but no rows");
  // Blank lines count: the ragged row is the file's fourth line.
  EXPECT_EQ(errorOf("epoch,loss\n1,2\n\n3,4,5\n"),
            "run.csv: line 4: 3 columns, expected 2 (as in the header)");
  EXPECT_EQ(errorOf("epoch,loss\n1\n"),
            "run.csv: line 2: 1 columns, expected 2 (as in the header)");
  EXPECT_EQ(errorOf("epoch,loss\n1,0.5\n2,low\n"),
            "run.csv: line 3, column 'loss': 'low' is not a number");
  EXPECT_EQ(errorOf("epoch,loss\n1,0.5x\n"),
            "run.csv: line 2, column 'loss': '0.5x' is not a number");
  EXPECT_EQ(errorOf("epoch,loss\n,0.5\n"),
            "run.csv: line 2: the epoch is missing");
  EXPECT_EQ(errorOf("epoch,loss\nnan,0.5\n"),
            "run.csv: line 2: the epoch 'nan' is not finite");
  // A long cell is cut short in the message.
  EXPECT_EQ(errorOf("epoch,loss\n1," + std::string(1000, 'x') + "\n"),
            "run.csv: line 2, column 'loss': '" + std::string(40, 'x') +
                "...' is not a number");
  // A NUL inside a number is not a number, and shows escaped.
  const std::string Cell("1\0"
                         "2",
                         3);
  EXPECT_EQ(errorOf("epoch\n" + Cell + "\n"),
            "run.csv: line 2, column 'epoch': '1\\x002' is not a number");
}

//===-- The SVG writer ----------------------------------------------------===//

/// A table of `Names` whose column I holds Rows[r][I].
LogTable table(const Strings &Names, const std::vector<Values> &Rows) {
  LogTable T;
  for (size_t C = 0; C < Names.size(); ++C) {
    T.Columns.push_back({Names[C], {}});
    for (const Values &R : Rows)
      T.Columns.back().Values.push_back(R[C]);
  }
  return T;
}

/// Each panel as "label: column, column".
Strings panelsOf(const LogTable &T) {
  Strings Out;
  for (const Panel &P : curvePanels(T)) {
    std::string S = P.Label + ":";
    for (const Curve &C : P.Curves)
      S += " " + T.Columns[C.Column].Name;
    Out.push_back(S);
  }
  return Out;
}

TEST(CurvePlot, PanelsGroupColumnsByName) {
  // The layout of a model with validation and test sets (resnet.nn).
  LogTable T = table({"epoch", "lr", "loss", "accuracy", "val_loss",
                      "val_accuracy", "test_loss", "test_accuracy", "seconds"},
                     {{1, 0.1, 1, 0.5, 1, 0.5, 1, 0.5, 3}});
  EXPECT_EQ(panelsOf(T),
            (Strings{"loss: loss val_loss test_loss",
                     "accuracy: accuracy val_accuracy test_accuracy",
                     "learning rate: lr"}));
  EXPECT_EQ(curvePanels(T)[1].Curves[1].Set, CurveSet::Validation);
  // Order in the file does not matter: losses first, train before
  // validation before test, the rate last; `val_` alone is a name.
  LogTable U = table({"test_f1", "lr", "val_f1", "epoch", "val_loss", "val_"},
                     {{1, 2, 3, 4, 5, 6}});
  EXPECT_EQ(panelsOf(U), (Strings{"loss: val_loss", "f1: val_f1 test_f1",
                                  "val_: val_", "learning rate: lr"}));
  EXPECT_TRUE(curvePanels(table({"epoch", "seconds"}, {{1, 2}})).empty());
}

/// How often `Needle` occurs in `Hay`.
size_t count(const std::string &Hay, const std::string &Needle) {
  size_t N = 0;
  for (size_t At = Hay.find(Needle); At != std::string::npos;
       At = Hay.find(Needle, At + 1))
    ++N;
  return N;
}

TEST(CurvePlot, PointsMapIntoTheFrame) {
  // Epochs 1..2 span the x axis exactly, losses 0..1 the y axis; data sits
  // 6 px inside the frame: x from 86 + 6 to 86 + 490 - 6, y from the
  // panel's top 50 + 6 down to 50 + 180 - 6.
  std::string Svg = curvesSvg(table({"epoch", "loss"}, {{1, 0}, {2, 1}}), "t");
  EXPECT_NE(Svg.find("data-series=\"loss\" fill=\"none\" stroke=\"#1f77b4\" "
                     "stroke-width=\"2\" stroke-linejoin=\"round\" "
                     "points=\"92.0,224.0 570.0,56.0\"/>"),
            std::string::npos)
      << Svg;
  // Short logs get a circle on each point.
  EXPECT_EQ(count(Svg, "<circle cx=\"92.0\" cy=\"224.0\" r=\"3.2\"/>"), 1u);
}

TEST(CurvePlot, NonFiniteValuesAreGaps) {
  double Nan = std::nan(""), Inf = INFINITY;
  std::vector<Values> Rows;
  for (int E = 1; E <= 60; ++E)
    Rows.push_back({double(E), E == 20 || E == 22 ? Nan
                               : E == 40          ? Inf
                                                  : 1.0 / E});
  std::string Svg = curvesSvg(table({"epoch", "loss"}, Rows), "t");
  // Runs 1-19, 23-39, 41-60 are lines; 21 alone is a circle (60 rows are
  // too many for a circle on every point).
  EXPECT_EQ(count(Svg, "<polyline class=\"curve\" data-series=\"loss\""), 3u);
  EXPECT_EQ(count(Svg, "<circle "), 1u);
  EXPECT_EQ(Svg.find("nan"), std::string::npos);
  EXPECT_EQ(Svg.find("inf"), std::string::npos);
}

TEST(CurvePlot, LongLogsKeepTheirShapeInFewPoints) {
  // 100000 epochs of loss 1 with one spike to 2 and one dip to 0: at most
  // 4 points per pixel column (first, lowest, highest, last) of the 478
  // the data spans, and the extremes among them. The y axis is 0..2, so
  // the spike is at the top of the data (y 56.0), the dip at its bottom
  // (y 224.0), and the rest in the middle (y 140.0).
  std::vector<Values> Rows;
  for (int E = 1; E <= 100000; ++E)
    Rows.push_back({double(E), E == 31416 ? 2.0 : E == 77777 ? 0.0 : 1.0});
  std::string Svg = curvesSvg(table({"epoch", "loss"}, Rows), "t");
  size_t Begin = Svg.find("points=\"");
  ASSERT_NE(Begin, std::string::npos);
  std::string Points =
      Svg.substr(Begin + 8, Svg.find('"', Begin + 8) - Begin - 8);
  size_t N = count(Points, ",");
  EXPECT_GT(N, 478u);
  EXPECT_LE(N, 4u * 479u);
  EXPECT_EQ(count(Points, ",56.0"), 1u);
  EXPECT_EQ(count(Points, ",224.0"), 1u);
  EXPECT_EQ(count(Points, ",140.0"), N - 2);
  // The line still starts at the first epoch and ends at the last.
  EXPECT_EQ(Points.rfind("92.0,140.0 ", 0), 0u);
  EXPECT_EQ(Points.substr(Points.size() - 12), " 570.0,140.0");
}

TEST(CurvePlot, OneEpochIsAPointOnEveryCurve) {
  std::string Svg = curvesSvg(
      table({"epoch", "lr", "loss", "val_loss"}, {{1, 0.01, 0.7, 0.8}}), "t");
  EXPECT_EQ(count(Svg, "<polyline"), 0u);
  EXPECT_EQ(count(Svg, "<g class=\"points\" data-series="), 3u);
  // One circle per curve and one in each legend entry.
  EXPECT_EQ(count(Svg, "<circle "), 6u);
}

TEST(CurvePlot, LegendsAxesAndTitleAreLabelled) {
  std::string Svg =
      curvesSvg(table({"epoch", "loss", "accuracy", "val_accuracy", "lr"},
                      {{1, 0.5, 0.8, 0.7, 0.1}, {2, 0.25, 0.9, 0.85, 0.1}}),
                "Training curves: run.csv");
  for (const char *Text :
       {">Training curves: run.csv</text>", ">loss</text></g>",
        ">accuracy</text></g>", ">val_accuracy</text></g>", ">lr</text></g>",
        "rotate(-90)\" text-anchor=\"middle\" font-size=\"13\" "
        "fill=\"#222222\">learning rate</text>",
        ">epoch</text>"})
    EXPECT_NE(Svg.find(Text), std::string::npos) << Text;
  EXPECT_EQ(count(Svg, "<g class=\"panel\""), 3u);
  // Validation is orange and dashed in every panel.
  EXPECT_NE(Svg.find("data-series=\"val_accuracy\" fill=\"none\" "
                     "stroke=\"#ff7f0e\" stroke-width=\"2\" "
                     "stroke-linejoin=\"round\" stroke-dasharray=\"7 4\""),
            std::string::npos);
}

TEST(CurvePlot, NamesAreEscaped) {
  std::string Svg = curvesSvg(
      table({"epoch", "a<b&\"c\"", "val_\xff"}, {{1, 1, 1}, {2, 2, 2}}),
      "<title>");
  EXPECT_NE(Svg.find("data-series=\"a&lt;b&amp;&quot;c&quot;\""),
            std::string::npos);
  EXPECT_NE(Svg.find(">&lt;title&gt;</text>"), std::string::npos);
  EXPECT_EQ(Svg.find("a<b"), std::string::npos);
  EXPECT_EQ(Svg.find('\xff'), std::string::npos);
}

TEST(CurvePlot, AnyTableIsDrawn) {
  // No rows, no epoch column, columns of different lengths, no finite
  // value: a picture every time, never a crash.
  LogTable Ragged = table({"epoch", "loss"}, {{1, 1}, {2, 2}});
  Ragged.Columns[1].Values.pop_back();
  for (const LogTable &T :
       {LogTable(), table({"loss"}, {{1}, {2}}), Ragged,
        table({"epoch", "loss"}, {{1, std::nan("")}, {2, INFINITY}}),
        table({"epoch"}, {{1}})}) {
    std::string Svg = curvesSvg(T, "t");
    EXPECT_EQ(Svg.rfind("<?xml", 0), 0u);
    EXPECT_EQ(Svg.substr(Svg.size() - 7), "</svg>\n");
  }
  EXPECT_NE(curvesSvg(table({"epoch", "loss"}, {{1, std::nan("")}}), "t")
                .find(">no finite values</text>"),
            std::string::npos);
}

TEST(XmlEscape, KeepsValidTextAndReplacesTheRest) {
  EXPECT_EQ(xmlEscape("a<b>&'\""), "a&lt;b&gt;&amp;&apos;&quot;");
  EXPECT_EQ(xmlEscape("caf\xC3\xA9 \xF0\x9F\x93\x88"),
            "caf\xC3\xA9 \xF0\x9F\x93\x88");
  const std::string Bad = "\xEF\xBF\xBD";
  EXPECT_EQ(xmlEscape("\x01x\x1F"), Bad + "x" + Bad);
  EXPECT_EQ(xmlEscape("\xFF"), Bad);
  EXPECT_EQ(xmlEscape("\xC0\xAF"), Bad + Bad);           // overlong '/'
  EXPECT_EQ(xmlEscape("\xED\xA0\x80"), Bad + Bad + Bad); // a surrogate
  EXPECT_EQ(xmlEscape("\xEF\xBF\xBE"), Bad + Bad + Bad); // U+FFFE
  EXPECT_EQ(xmlEscape("\xE2\x82"), Bad + Bad);           // cut short
  EXPECT_EQ(xmlEscape("\xF4\x90\x80\x80"), Bad + Bad + Bad + Bad);
  EXPECT_EQ(xmlEscape("tab\tok"), "tab\tok");
}

} // namespace
