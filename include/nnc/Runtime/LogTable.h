//===- LogTable.h - The `train --log` CSV file as a table ------*- C++ -*-===//
//
// `EXE plot` reads the file `train --log` writes (docs/runtime.md,
// "Training"): a header line of column names, then one row of numbers per
// epoch. The reader is a pure function from the file's bytes to a table, so
// that it can be tested and fuzzed without touching the file system; it
// accepts what `--log` writes and what a user or a script may have edited
// into it, and rejects everything else with one message naming the file,
// the line and the column.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_LOGTABLE_H
#define NNC_RUNTIME_LOGTABLE_H

#include "nnc/Runtime/Status.h"

#include <string>
#include <string_view>
#include <vector>

namespace nnc::rt {

/// One column of a log: its header name and one value per row. A cell that
/// is NaN, an infinity or empty holds a non-finite value (a gap in a curve).
struct LogColumn {
  std::string Name;
  std::vector<double> Values;
};

/// A whole log, columns in file order. Every column has the same number of
/// rows (at least one), and the `epoch` column exists and is finite.
struct LogTable {
  std::vector<LogColumn> Columns;

  size_t numRows() const {
    return Columns.empty() ? 0 : Columns.front().Values.size();
  }
  /// The column named `Name`, or null.
  const LogColumn *find(std::string_view Name) const;
};

/// Parses the bytes of a log file; `Path` names the file in messages.
/// The dialect is `--log`'s: comma-separated cells, the first non-blank line
/// the header (a UTF-8 byte-order mark before it is skipped), blank lines
/// ignored, any line end ("\n", "\r\n", "\r"), cells double-quoted or not
/// (lib/Runtime/CsvText.h). A cell is a number as C's strtod reads
/// it (`nan` and `inf` included) or empty (missing). Errors: an empty file,
/// a header without an `epoch` column or with an empty or repeated name, a
/// row with another number of cells than the header, a cell that is not a
/// number, an epoch that is missing or not finite, and no rows at all.
Expected<LogTable> parseLog(std::string_view Bytes, const std::string &Path);

} // namespace nnc::rt

#endif
