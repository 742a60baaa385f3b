//===- JsonFuzzer.cpp - libFuzzer target: the JSON reader -----------------===//
//
// Every safetensors header goes through `parseJson` (Runtime/Json.h) before
// anything else looks at it, so the reader must cope with any bytes: no
// crash, no stack overflow on deep nesting, and an error that points inside
// the text. The target parses the input at a base offset of 8 (as the
// tensor-file reader does) and checks that promise.
//
//===----------------------------------------------------------------------===//
#include "FuzzHelpers.h"
#include "nnc/Runtime/Json.h"

#include <cstdlib>
#include <string>

using namespace nnc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  std::string_view Text(reinterpret_cast<const char *>(Data), Size);
  rt::Expected<rt::JsonValue> V = rt::parseJson(Text, 8);
  if (V) {
    // A safetensors reader looks members up by name.
    (void)V->get("__metadata__");
    return 0;
  }
  // "offset N: REASON", N within [8, 8 + Size].
  std::string Msg = V.takeError().message();
  fuzz::check(Msg.rfind("offset ", 0) == 0,
              "a JSON error starts with its "
              "offset",
              Msg);
  unsigned long long Offset = std::strtoull(Msg.c_str() + 7, nullptr, 10);
  fuzz::check(Offset >= 8 && Offset <= 8 + Size,
              "a JSON error's offset lies in the text", Msg);
  fuzz::check(Msg.size() < 200, "a JSON error stays short", Msg);
  return 0;
}
