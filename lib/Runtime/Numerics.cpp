//===- Numerics.cpp - The per-op non-finite check (--check-numerics) ------===//
//
// The runtime half of `--check-numerics` (see Runtime/Numerics.h): generated
// code reports each kernel's output here; the first non-finite value is
// recorded and turned into the run's error message by the commands, which
// check after every entry call. Recording instead of exiting keeps the stop
// on the ordinary error path (Status), so `train` keeps its last good
// checkpoint and `nnc run` returns to the driver.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Numerics.h"

#include <cmath>
#include <string>

namespace {

/// The first failure since the last `takeNumericsFailure`.
struct NumericsFailure {
  bool Failed = false;
  float Value = 0;
  std::string Op, Name, File, Entry;
  int32_t Line = 0;
};

NumericsFailure &record() {
  static NumericsFailure R;
  return R;
}

} // namespace

extern "C" void nnc_check_numerics(const float *Data, int64_t Count,
                                   const char *Op, const char *Value,
                                   const char *File, int32_t Line,
                                   const char *Entry) {
  NumericsFailure &R = record();
  // Only the first failure is worth reporting: everything after it is
  // usually computed from it.
  if (R.Failed)
    return;
  for (int64_t I = 0; I < Count; ++I) {
    if (std::isfinite(Data[I]))
      continue;
    R.Failed = true;
    R.Value = Data[I];
    R.Op = Op ? Op : "?";
    R.Name = Value ? Value : "";
    R.File = File ? File : "";
    R.Line = Line;
    R.Entry = Entry ? Entry : "";
    return;
  }
}

std::string nnc::rt::takeNumericsFailure() {
  NumericsFailure &R = record();
  if (!R.Failed)
    return "";
  // A NaN's sign means nothing (printf would show "-nan" for some).
  const char *What = std::isnan(R.Value) ? "nan" : R.Value > 0 ? "inf" : "-inf";
  std::string Msg =
      std::string("non-finite value (") + What + ") in '" + R.Op + "'";
  if (!R.Name.empty())
    Msg += " (" + R.Name + ")";
  if (R.Line > 0)
    Msg += " at " + (R.File.empty() ? std::string("line ") : R.File + ":") +
           std::to_string(R.Line);
  if (!R.Entry.empty())
    Msg += " during " + R.Entry;
  R = NumericsFailure();
  return Msg;
}
