//===- Status.h - Error values of the runtime library ----------*- C++ -*-===//
//
// The runtime may not depend on LLVM (executables link only it, libstdc++,
// zlib and libm), so it cannot use llvm::Error. These two small types play
// the same role: a library function that can fail on bad user input returns
// a Status or an Expected<T> carrying one complete message ("FILE: offset
// 16: bad IDX magic ..."), and only the command layer (nnc_main) prints it
// and picks the exit status. Like llvm::Error, a Status converts to `true`
// when it holds an error, so call sites read `if (Status S = f()) return S;`.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_STATUS_H
#define NNC_RUNTIME_STATUS_H

#include <cassert>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace nnc::rt {

/// Success, or one user-facing error message.
class [[nodiscard]] Status {
public:
  /// Success.
  Status() = default;
  /// A failure with the message `Msg` (no "error:" prefix, no newline).
  static Status error(std::string Msg) {
    Status S;
    S.Msg = std::move(Msg);
    return S;
  }
  /// True when this is an error (as llvm::Error).
  explicit operator bool() const { return Msg.has_value(); }
  /// The message; only valid on an error.
  const std::string &message() const {
    assert(Msg && "message() of a success");
    return *Msg;
  }

private:
  std::optional<std::string> Msg;
};

/// A value of type T, or the Status that explains why there is none.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T V) : Value(std::move(V)) {}
  Expected(Status S) : Err(std::move(S)) {
    assert(Err && "an Expected built from a success Status");
  }
  /// True when a value is present (as llvm::Expected).
  explicit operator bool() const { return Value.has_value(); }
  T &operator*() { return *Value; }
  const T &operator*() const { return *Value; }
  T *operator->() { return &*Value; }
  const T *operator->() const { return &*Value; }
  /// The error; only valid when no value is present.
  Status takeError() { return std::move(Err); }

private:
  std::optional<T> Value;
  Status Err;
};

/// `S`, a piece of a file or of the command line, single-quoted for a
/// message: control characters, quotes and backslashes escaped (`\n`, `\'`,
/// `\x1b`; UTF-8 passes), and cut after at most `Max` bytes, at a character
/// boundary, with "..." (a megabyte cell must not make a megabyte message,
/// nor a byte move the terminal's cursor).
std::string quoteForMessage(std::string_view S, size_t Max = 64);

} // namespace nnc::rt

#endif
