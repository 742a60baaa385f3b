//===- Xml.cpp - Text as XML character data -------------------------------===//
//
// One pass over the bytes, decoding UTF-8 by hand: the runtime links no
// library that would, and a picture must stay valid XML whatever a log's
// column names hold.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Xml.h"

#include <cstdint>

namespace nnc::rt {

std::string xmlEscape(std::string_view S) {
  static const char Replacement[] = "\xEF\xBF\xBD"; // U+FFFD
  std::string Out;
  Out.reserve(S.size());
  size_t I = 0;
  while (I < S.size()) {
    unsigned char C = static_cast<unsigned char>(S[I]);
    if (C < 0x80) {
      // XML 1.0 allows no control character but tab, newline and return.
      if (C < 0x20 && C != '\t' && C != '\n' && C != '\r')
        Out += Replacement;
      else if (C == '&')
        Out += "&amp;";
      else if (C == '<')
        Out += "&lt;";
      else if (C == '>')
        Out += "&gt;";
      else if (C == '"')
        Out += "&quot;";
      else if (C == '\'')
        Out += "&apos;";
      else
        Out += char(C);
      ++I;
      continue;
    }
    // A multi-byte sequence: its length from the lead byte, then shortest
    // form, no surrogates, at most U+10FFFF, and not U+FFFE or U+FFFF.
    size_t Len = C >= 0xF0 ? 4 : C >= 0xE0 ? 3 : C >= 0xC0 ? 2 : 0;
    uint32_t Code = Len == 4 ? C & 0x07 : Len == 3 ? C & 0x0F : C & 0x1F;
    bool Ok = Len != 0 && C < 0xF5 && I + Len <= S.size();
    for (size_t K = 1; Ok && K < Len; ++K) {
      unsigned char Next = static_cast<unsigned char>(S[I + K]);
      Ok = (Next & 0xC0) == 0x80;
      Code = Code << 6 | (Next & 0x3F);
    }
    static const uint32_t Shortest[] = {0, 0, 0x80, 0x800, 0x10000};
    Ok = Ok && Code >= Shortest[Len] && Code <= 0x10FFFF &&
         !(Code >= 0xD800 && Code <= 0xDFFF) && Code != 0xFFFE &&
         Code != 0xFFFF;
    if (!Ok) {
      Out += Replacement;
      ++I;
      continue;
    }
    Out.append(S.substr(I, Len));
    I += Len;
  }
  return Out;
}

} // namespace nnc::rt
