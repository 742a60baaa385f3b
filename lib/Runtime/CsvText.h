//===- CsvText.h - Lines and cells of CSV text ------------------*- C++ -*-===//
//
// The dialect that CSV data (Csv.cpp) and `train --log` files (LogTable.cpp)
// share, as spreadsheets and pandas write it:
//   - a line ends at "\n", "\r\n" or a lone "\r";
//   - cells are separated by commas, and spaces and tabs around a cell are
//     not part of it;
//   - a cell may be double-quoted (RFC 4180): inside the quotes a comma is
//     text and `""` is one quote. A quoted cell cannot span lines.
// One pass, no recursion, no allocation but for a quoted cell that holds
// `""`, so that any input is read in linear time.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_RUNTIME_CSVTEXT_H
#define NNC_LIB_RUNTIME_CSVTEXT_H

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace nnc::rt::csv {

/// `S` without the spaces and tabs around it.
inline std::string_view trim(std::string_view S) {
  while (!S.empty() && (S.front() == ' ' || S.front() == '\t'))
    S.remove_prefix(1);
  while (!S.empty() && (S.back() == ' ' || S.back() == '\t'))
    S.remove_suffix(1);
  return S;
}

/// Takes the next line off the front of `Rest` and returns it without its
/// end ("\n", "\r\n" or "\r").
inline std::string_view nextLine(std::string_view &Rest) {
  size_t End = Rest.find_first_of("\r\n");
  std::string_view Line = Rest.substr(0, End);
  if (End == std::string_view::npos) {
    Rest = {};
    return Line;
  }
  bool CrLf =
      Rest[End] == '\r' && End + 1 < Rest.size() && Rest[End + 1] == '\n';
  Rest.remove_prefix(End + (CrLf ? 2 : 1));
  return Line;
}

/// The cells of one line.
class CellSplitter {
public:
  /// Splits `Line` into `Cells` (views into `Line`, or into this splitter
  /// for a quoted cell that holds `""`, valid until the next call).
  /// Returns false, with `Cells` holding the cells before it, when a
  /// quoted cell is not closed or text follows its closing quote.
  bool split(std::string_view Line, std::vector<std::string_view> &Cells) {
    Cells.clear();
    Unescaped.clear();
    while (true) {
      std::string_view Rest = trim(Line);
      if (Rest.empty() || Rest.front() != '"') {
        size_t Comma = Line.find(',');
        Cells.push_back(trim(Line.substr(0, Comma)));
        if (Comma == std::string_view::npos)
          return true;
        Line.remove_prefix(Comma + 1);
        continue;
      }
      // A quoted cell: up to the quote that is not doubled.
      Rest.remove_prefix(1);
      size_t Close = 0;
      bool Doubled = false;
      while (true) {
        Close = Rest.find('"', Close);
        if (Close == std::string_view::npos)
          return false;
        if (Close + 1 < Rest.size() && Rest[Close + 1] == '"') {
          Doubled = true;
          Close += 2;
          continue;
        }
        break;
      }
      std::string_view Cell = Rest.substr(0, Close);
      if (Doubled) {
        // Every quote inside is the first of a pair: keep one of two.
        std::string &Text = Unescaped.emplace_back();
        for (size_t I = 0; I < Cell.size(); ++I) {
          Text += Cell[I];
          if (Cell[I] == '"')
            ++I;
        }
        Cell = Text;
      }
      Cells.push_back(Cell);
      Line = trim(Rest.substr(Close + 1));
      if (Line.empty())
        return true;
      if (Line.front() != ',')
        return false;
      Line.remove_prefix(1);
    }
  }

private:
  // A deque: views into earlier strings stay valid as more are added.
  std::deque<std::string> Unescaped;
};

} // namespace nnc::rt::csv

#endif
