//===- FuzzHelpers.h - What the fuzz entry points share ---------*- C++ -*-===//
//
// Two things the targets of tools/nnc-fuzz need: a way to hand the fuzzer's
// bytes to a reader that opens a path (the readers are fuzzed through the
// very calls the runtime makes, file system included), and a way to turn a
// broken promise of a reader into a crash that libFuzzer records.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FUZZ_FUZZHELPERS_H
#define NNC_FUZZ_FUZZHELPERS_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>

namespace nnc::fuzz {

/// Aborts, naming the broken promise, unless `Ok`. Used for properties of
/// a reader's result beyond "does not crash" (a tensor holds as many bytes
/// as its shape needs, an error names the file).
inline void check(bool Ok, const char *Promise, std::string_view Detail = "") {
  if (Ok)
    return;
  std::fprintf(stderr, "nnc-fuzz: broken promise: %s%s%.*s\n", Promise,
               Detail.empty() ? "" : ": ", int(Detail.size()), Detail.data());
  std::abort();
}

/// An error message of a reader names the file first (`Path`) and stays
/// short whatever the input: outside bytes are quoted shortened
/// (docs/reliability.md, "Limits").
inline void checkMessage(const std::string &Msg, const std::string &Path) {
  check(Msg.compare(0, Path.size(), Path) == 0,
        "an error message names the file first", Msg);
  check(Msg.size() < Path.size() + 1024, "an error message stays short",
        std::string_view(Msg).substr(0, 200));
}

/// The input as an anonymous in-memory file (memfd), opened by path as
/// /proc/self/fd/N: no disk, nothing to clean up after a crash, and a file
/// of exactly the input's size, against which readers check claims.
class MemFile {
public:
  MemFile(const uint8_t *Data, size_t Size) {
    Fd = ::memfd_create("nnc-fuzz", MFD_CLOEXEC);
    check(Fd >= 0, "memfd_create works");
    size_t Done = 0;
    while (Done < Size) {
      ssize_t N = ::write(Fd, Data + Done, Size - Done);
      check(N > 0, "writing the memfd works");
      Done += size_t(N);
    }
    Path = "/proc/self/fd/" + std::to_string(Fd);
  }
  ~MemFile() { ::close(Fd); }
  MemFile(const MemFile &) = delete;
  MemFile &operator=(const MemFile &) = delete;

  const std::string &path() const { return Path; }

private:
  int Fd = -1;
  std::string Path;
};

} // namespace nnc::fuzz

#endif
