//===- Json.h - The small JSON reader safetensors headers need -*- C++ -*-===//
//
// A safetensors header is one JSON object of objects of strings, integer
// arrays and strings. This reader accepts all of JSON (so a valid header
// written by any tool parses) but keeps only what the runtime looks at:
// numbers are doubles plus an exact int64 when the literal is an integer,
// strings are decoded UTF-8 (\uXXXX escapes included), and objects keep
// their members in file order. Errors carry the byte offset where parsing
// stopped, so the tensor-file reader can point into the file.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_JSON_H
#define NNC_RUNTIME_JSON_H

#include "nnc/Runtime/Status.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nnc::rt {

struct JsonMember;

/// One parsed JSON value.
struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind K = Kind::Null;
  bool Bool = false;
  double Number = 0;
  /// Number only: the literal has no fraction or exponent and fits int64.
  bool IsInteger = false;
  int64_t Integer = 0;
  std::string Str;
  std::vector<JsonValue> Elements;
  /// Object members in file order. (A named struct, not std::pair: a pair
  /// of an incomplete type does not compile with clang + libstdc++.)
  std::vector<JsonMember> Members;

  /// The member named `Key` of an object, or null (the first one if the
  /// key repeats).
  const JsonValue *get(std::string_view Key) const;
};

struct JsonMember {
  std::string Key;
  JsonValue Value;
};

/// Parses `Text` as one JSON value (surrounding whitespace allowed). On
/// failure the error reads "offset N: REASON" with N counted from the start
/// of `Text` plus `BaseOffset`.
Expected<JsonValue> parseJson(std::string_view Text, uint64_t BaseOffset = 0);

/// `S` as a JSON string literal, quotes included.
std::string quoteJson(std::string_view S);

} // namespace nnc::rt

#endif
