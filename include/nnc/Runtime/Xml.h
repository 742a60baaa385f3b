//===- Xml.h - Text as XML character data ----------------------*- C++ -*-===//
//
// The SVG pictures of `EXE plot` carry text from the user's files (column
// names, file names); escaping it here keeps every picture well-formed XML.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_XML_H
#define NNC_RUNTIME_XML_H

#include <string>
#include <string_view>

namespace nnc::rt {

/// `S` as XML character data (and attribute values): markup characters
/// escaped, and bytes that are not valid UTF-8 or are characters XML 1.0
/// does not allow (control characters but tab, newline and return;
/// surrogates; U+FFFE, U+FFFF) replaced with U+FFFD.
std::string xmlEscape(std::string_view S);

} // namespace nnc::rt

#endif
