//===- CurvePlot.h - Training curves of a log as an SVG picture -*- C++ -*-===//
//
// `EXE plot` draws the columns of a `train --log` table (LogTable.h) against
// the epoch. Losses, metrics and the learning rate have unrelated scales, so
// each gets a panel of its own, stacked vertically on one shared epoch axis:
// first the losses (loss, val_loss, test_loss), then one panel per metric
// with its train, validation and test curves, and the learning rate last.
// Columns are matched by name, not position, so any log `--log` writes (and
// any table with an `epoch` column) can be drawn; `seconds` is timing, not a
// curve, and is left out. The SVG is built as a string, without touching the
// file system, so that it can be unit-tested and fuzzed.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_CURVEPLOT_H
#define NNC_RUNTIME_CURVEPLOT_H

#include "nnc/Runtime/LogTable.h"

#include <string>
#include <string_view>
#include <vector>

namespace nnc::rt {

/// Which run a curve belongs to. It decides the curve's colour and dash,
/// the same in every panel: train blue, validation orange (dashed), test
/// green, the learning rate purple.
enum class CurveSet { Train, Validation, Test, Rate };

/// One curve: a column of the table and the set it belongs to.
struct Curve {
  size_t Column;
  CurveSet Set;
};

/// One panel: its y-axis label and its curves, train before validation
/// before test.
struct Panel {
  std::string Label;
  std::vector<Curve> Curves;
};

/// The panels of `T`, top to bottom: `loss` (and `val_loss`, `test_loss`)
/// first, then each metric in the order its first column appears (`val_X`
/// and `test_X` join the panel of `X`), then `lr` as "learning rate".
/// `epoch` and `seconds` are not curves.
std::vector<Panel> curvePanels(const LogTable &T);

/// The whole picture as an SVG 1.1 document under the heading `Title`:
/// one polyline (with `data-series="COLUMN"`) per run of finite values of
/// each curve — a NaN or an infinity is a gap — with circles on the points
/// of short logs and on isolated points, and a legend naming the columns.
/// Of the points in one pixel column a polyline keeps the first, lowest,
/// highest and last. Valid XML for any table, whatever bytes its column
/// names hold.
std::string curvesSvg(const LogTable &T, std::string_view Title);

} // namespace nnc::rt

#endif
