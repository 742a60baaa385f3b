//===- Csv.cpp - Numeric CSV files ----------------------------------------===//
//
// The CSV dialect is the one spreadsheets write (CsvText.h): comma-separated
// numbers, an optional header line (skipped when the train block says
// `header = true`), blank lines ignored, any line end, quoted cells. Every
// line must have as many columns as the first; columns are counted from 0,
// as in `inputs = [0, 1]`, and lines from 1, as in an editor. A number must
// fit the slot it feeds: finite in f32, an integer in i32's range for an
// i32 input or target, a class of the model for a label
// (docs/reliability.md, "Limits").
//
//===----------------------------------------------------------------------===//
#include "CsvText.h"
#include "nnc/Runtime/Dataset.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>

namespace nnc::rt {

namespace {

/// Parses one cell as a finite number; false when it is not one.
bool parseNumber(std::string_view Cell, double &Out) {
  if (Cell.empty() || Cell.size() > 64)
    return false;
  char Buf[65];
  std::memcpy(Buf, Cell.data(), Cell.size());
  Buf[Cell.size()] = 0;
  char *End;
  errno = 0;
  Out = std::strtod(Buf, &End);
  return *End == 0 && std::isfinite(Out);
}

/// Why the number `V` cannot be a value of type `T`, or null when it can:
/// an f32 must not round to an infinity, an i32 must be an integer in
/// range (the slots hold exactly these values).
const char *unfit(double V, DType T) {
  if (T == DType::F32)
    return std::fabs(V) > double(std::numeric_limits<float>::max())
               ? "is out of the range of f32"
               : nullptr;
  if (V != std::floor(V))
    return "is not an integer";
  if (V < double(std::numeric_limits<int32_t>::min()) ||
      V > double(std::numeric_limits<int32_t>::max()))
    return "is out of the range of i32";
  return nullptr;
}

} // namespace

Expected<Dataset> loadCsv(const std::string &Path,
                          std::vector<int64_t> InputCols,
                          std::vector<int64_t> TargetCols, bool Header,
                          const SampleLayout &L) {
  if (InputCols.empty())
    for (int64_t C = 0; C < L.InputNumel; ++C)
      InputCols.push_back(C);
  if (TargetCols.empty())
    for (int64_t C = 0; C < L.TargetNumel; ++C)
      TargetCols.push_back(int64_t(InputCols.size()) + C);
  if (int64_t(InputCols.size()) != L.InputNumel)
    return Status::error(Path + ": " + std::to_string(InputCols.size()) +
                         " input columns, but the model input '" +
                         std::string(L.Input->name()) + "' " +
                         shapeString(L.Input->shape()) + " takes " +
                         std::to_string(L.InputNumel) + " values per example");
  // One column feeds a label (i32 target, or a one-hot f32 row); otherwise
  // there must be one column per target value.
  bool FromLabel = TargetCols.size() == 1 &&
                   (L.Target->type() == DType::I32 || L.TargetNumel > 1);
  if (!FromLabel && int64_t(TargetCols.size()) != L.TargetNumel)
    return Status::error(Path + ": " + std::to_string(TargetCols.size()) +
                         " target columns, but the model target '" +
                         std::string(L.Target->name()) + "' " +
                         shapeString(L.Target->shape()) + " takes " +
                         std::to_string(L.TargetNumel) + " values per example");

  FILE *F = std::fopen(Path.c_str(), "rb");
  if (!F)
    return Status::error(Path + ": " + std::strerror(errno));
  std::string Text;
  char Buf[1 << 16];
  size_t N;
  while ((N = std::fread(Buf, 1, sizeof(Buf), F)) > 0)
    Text.append(Buf, N);
  bool ReadFailed = std::ferror(F);
  std::fclose(F);
  if (ReadFailed)
    return Status::error(Path + ": read error");

  std::vector<float> Inputs, Targets;
  std::vector<int32_t> Labels;
  std::vector<std::string_view> Cells;
  csv::CellSplitter Splitter;
  size_t Width = 0;
  int64_t LineNo = 0;
  bool SkipHeader = Header;
  std::string_view Rest = Text;
  while (!Rest.empty()) {
    std::string_view Line = csv::nextLine(Rest);
    ++LineNo;
    if (csv::trim(Line).empty())
      continue;
    std::string At = Path + ": line " + std::to_string(LineNo);
    if (!Splitter.split(Line, Cells))
      return Status::error(At + ", column " + std::to_string(Cells.size()) +
                           ": a quoted cell is not closed, or text follows "
                           "its closing quote");
    if (Width == 0) {
      Width = Cells.size();
      for (const std::vector<int64_t> *Cols : {&InputCols, &TargetCols})
        for (int64_t C : *Cols)
          if (C < 0 || C >= int64_t(Width))
            return Status::error(At + ": column " + std::to_string(C) +
                                 " is used as data, but the line has " +
                                 std::to_string(Width) + " columns");
    } else if (Cells.size() != Width) {
      return Status::error(At + ": " + std::to_string(Cells.size()) +
                           " columns, expected " + std::to_string(Width) +
                           " (as on the first line)");
    }
    if (SkipHeader) {
      SkipHeader = false;
      continue;
    }
    bool FirstRow = Inputs.empty() && Labels.empty() && Targets.empty();
    auto Where = [&](int64_t C) {
      return At + ", column " + std::to_string(C) + ": " +
             quoteForMessage(Cells[size_t(C)]);
    };
    auto Cell = [&](int64_t C, DType T, double &V) {
      if (!parseNumber(Cells[size_t(C)], V)) {
        // A text first line is most likely a header the train block did
        // not declare.
        const char *Hint = FirstRow && !Header
                               ? " (a header line? say `header = true` in "
                                 "the train block)"
                               : "";
        return Status::error(Where(C) + " is not a number" + Hint);
      }
      if (const char *Why = unfit(V, T))
        return Status::error(Where(C) + " " + Why);
      return Status();
    };
    double V;
    for (int64_t C : InputCols) {
      if (Status S = Cell(C, L.Input->type(), V))
        return S;
      Inputs.push_back(float(V));
    }
    for (int64_t C : TargetCols) {
      if (!FromLabel) {
        if (Status S = Cell(C, L.Target->type(), V))
          return S;
        Targets.push_back(float(V));
        continue;
      }
      if (Status S = Cell(C, DType::F32, V))
        return S;
      if (V != std::floor(V) || std::fabs(V) > 1e9)
        return Status::error(Where(C) + " is not a class label");
      if (Status S = checkLabel(Path,
                                "line " + std::to_string(LineNo) + ", column " +
                                    std::to_string(C),
                                int64_t(V), L))
        return S;
      Labels.push_back(int32_t(V));
    }
  }
  if (Inputs.empty() && Labels.empty() && Targets.empty())
    return Status::error(Path + ": no data rows");
  return Dataset::fromTable(std::move(Inputs), L.InputNumel, std::move(Labels),
                            std::move(Targets), L.TargetNumel);
}

} // namespace nnc::rt
