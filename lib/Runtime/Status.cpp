//===- Status.cpp - Outside bytes in messages -----------------------------===//
//
// Error messages quote what they complain about (a CSV cell, a tensor name,
// a flag's value). Those bytes come from outside, so they are escaped and
// shortened before they reach a terminal or a log.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Status.h"

namespace nnc::rt {

std::string quoteForMessage(std::string_view S, size_t Max) {
  static const char Hex[] = "0123456789abcdef";
  // Cut at a character boundary: not inside a UTF-8 sequence.
  size_t End = S.size();
  if (End > Max) {
    End = Max;
    while (End > 0 && (static_cast<unsigned char>(S[End]) & 0xC0) == 0x80)
      --End;
  }
  std::string Out = "'";
  for (size_t I = 0; I < End; ++I) {
    unsigned char C = static_cast<unsigned char>(S[I]);
    switch (C) {
    case '\n':
      Out += "\\n";
      continue;
    case '\r':
      Out += "\\r";
      continue;
    case '\t':
      Out += "\\t";
      continue;
    case '\'':
    case '\\':
      Out += '\\';
      Out += char(C);
      continue;
    default:
      break;
    }
    // Bytes from 0x80 on pass: they are UTF-8 text (names, paths).
    if (C < 0x20 || C == 0x7f) {
      Out += "\\x";
      Out += Hex[C >> 4];
      Out += Hex[C & 15];
      continue;
    }
    Out += char(C);
  }
  if (End < S.size())
    Out += "...";
  return Out + "'";
}

} // namespace nnc::rt
