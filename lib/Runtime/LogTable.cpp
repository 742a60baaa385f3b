//===- LogTable.cpp - The `train --log` CSV file as a table ---------------===//
//
// A line-by-line scan of the bytes (lines and cells as CsvText.h splits
// them): no allocation beyond the table itself and one cell buffer, no
// recursion, and one pass, so that any input (the fuzzer's included) is
// read in linear time. Cells are numbers as strtod
// reads them, because that is what `--log`'s %.9g writes back (`nan`,
// `-nan` and `inf` included); an empty cell is a missing value, as pandas
// writes one. Both become gaps in the curves, not errors.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/LogTable.h"
#include "CsvText.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <unordered_set>

namespace nnc::rt {

const LogColumn *LogTable::find(std::string_view Name) const {
  for (const LogColumn &C : Columns)
    if (C.Name == Name)
      return &C;
  return nullptr;
}

namespace {

/// `S` quoted for a message, shortened when long (a fuzzer's megabyte cell
/// should not become a megabyte message).
std::string quoted(std::string_view S) { return quoteForMessage(S, 40); }

/// Parses a non-empty cell into `Out`; false when it is not a number.
/// `Buf` is scratch space (strtod needs a terminated string).
bool parseCell(std::string_view Cell, std::string &Buf, double &Out) {
  Buf.assign(Cell);
  const char *Begin = Buf.c_str();
  char *End = nullptr;
  errno = 0;
  Out = std::strtod(Begin, &End);
  // Out-of-range values come back as ±HUGE_VAL or a tiny value: both are
  // what the text says, closely enough for a picture.
  return End != Begin && size_t(End - Begin) == Buf.size();
}

} // namespace

Expected<LogTable> parseLog(std::string_view Bytes, const std::string &Path) {
  // Spreadsheets save CSV with a UTF-8 byte-order mark.
  if (Bytes.substr(0, 3) == "\xEF\xBB\xBF")
    Bytes.remove_prefix(3);
  LogTable T;
  std::vector<std::string_view> Cells;
  std::string Buf;
  size_t Epoch = 0;
  bool HaveHeader = false;
  size_t LineNo = 0;
  csv::CellSplitter Splitter;
  while (!Bytes.empty()) {
    std::string_view Line = csv::nextLine(Bytes);
    ++LineNo;
    if (csv::trim(Line).empty())
      continue;
    std::string At = Path + ": line " + std::to_string(LineNo);
    if (!Splitter.split(Line, Cells))
      return Status::error(At + ", column " + std::to_string(Cells.size() + 1) +
                           ": a quoted cell is not closed, or text follows "
                           "its closing quote");
    if (!HaveHeader) {
      HaveHeader = true;
      bool FoundEpoch = false;
      // A set, not a scan of the names so far: a header of a million
      // columns must not take a million squared steps.
      std::unordered_set<std::string_view> Names;
      for (size_t C = 0; C < Cells.size(); ++C) {
        if (Cells[C].empty())
          return Status::error(At + ": column " + std::to_string(C + 1) +
                               " of the header has no name");
        if (!Names.insert(Cells[C]).second)
          return Status::error(At + ": the header names column " +
                               quoted(Cells[C]) + " twice");
        if (Cells[C] == "epoch") {
          FoundEpoch = true;
          Epoch = C;
        }
        T.Columns.push_back({std::string(Cells[C]), {}});
      }
      if (!FoundEpoch)
        return Status::error(At + ": the header has no 'epoch' column (" +
                             "a log written by 'train --log' starts with "
                             "'epoch,lr,loss')");
      continue;
    }
    if (Cells.size() != T.Columns.size())
      return Status::error(
          At + ": " + std::to_string(Cells.size()) + " columns, expected " +
          std::to_string(T.Columns.size()) + " (as in the header)");
    for (size_t C = 0; C < Cells.size(); ++C) {
      double V = NAN;
      if (!Cells[C].empty() && !parseCell(Cells[C], Buf, V))
        return Status::error(At + ", column " + quoted(T.Columns[C].Name) +
                             ": " + quoted(Cells[C]) + " is not a number");
      // A row is placed by its epoch: without one it has no place.
      if (C == Epoch && !std::isfinite(V))
        return Status::error(At + ": the epoch " +
                             (Cells[C].empty()
                                  ? std::string("is missing")
                                  : quoted(Cells[C]) + " is not finite"));
      T.Columns[C].Values.push_back(V);
    }
  }
  if (!HaveHeader)
    return Status::error(Path + ": the file is empty (a log written by "
                                "'train --log' starts with 'epoch,lr,loss')");
  if (T.numRows() == 0)
    return Status::error(Path + ": no epochs: the log has a header but no "
                                "rows");
  return T;
}

} // namespace nnc::rt
