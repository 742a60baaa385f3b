//===- LogFuzzer.cpp - libFuzzer target: `EXE plot`'s log reader ----------===//
//
// `EXE plot FILE.csv` reads a `train --log` file that a user or a script may
// have edited (docs/runtime.md, "plot"). The target runs what `plot` runs
// after reading the file: `parseLog` (Runtime/LogTable.h), and on success
// the panels and the SVG picture (Runtime/CurvePlot.h), which must draw any
// table the reader accepts — NaN, infinities, one row, huge or tiny values.
// It checks the reader's promises: every column has one value per row, the
// epoch column exists and is finite, and errors name the file.
//
//===----------------------------------------------------------------------===//
#include "FuzzHelpers.h"
#include "nnc/Runtime/CurvePlot.h"
#include "nnc/Runtime/LogTable.h"

#include <cmath>
#include <string>

using namespace nnc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  std::string_view Bytes(reinterpret_cast<const char *>(Data), Size);
  const std::string Path = "fuzz.csv";
  rt::Expected<rt::LogTable> T = rt::parseLog(Bytes, Path);
  if (!T) {
    fuzz::checkMessage(T.takeError().message(), Path);
    return 0;
  }
  size_t Rows = T->numRows();
  fuzz::check(Rows > 0, "a parsed log has rows");
  for (const rt::LogColumn &C : T->Columns)
    fuzz::check(C.Values.size() == Rows, "every column has one value per row",
                C.Name);
  const rt::LogColumn *Epoch = T->find("epoch");
  fuzz::check(Epoch != nullptr, "a parsed log has an epoch column");
  for (double E : Epoch->Values)
    fuzz::check(std::isfinite(E), "every epoch is finite");
  (void)rt::curvePanels(*T);
  // Valid XML whatever the column names hold: no control character.
  std::string Svg = rt::curvesSvg(*T, "fuzz");
  for (char C : Svg)
    fuzz::check(static_cast<unsigned char>(C) >= 0x20 || C == '\n' ||
                    C == '\t' || C == '\r',
                "the picture holds no control character");
  return 0;
}
