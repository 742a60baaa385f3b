//===- ReplayMain.cpp - A fuzz entry point as a plain program -------------===//
//
// In a build without -DNNC_FUZZ (no libFuzzer, any compiler) each fuzz
// target is this `main` plus its LLVMFuzzerTestOneInput: it runs the entry
// point once per file named on the command line, as a libFuzzer binary does
// when given files. lit replays the regression inputs (test/Fuzz) through
// it, so the entry points compile and run in every build, and under ASan
// and UBSan in .ci/sanitize. A crash is a crash; a clean run prints how
// many inputs it replayed.
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size);

int main(int Argc, char **Argv) {
  for (int I = 1; I < Argc; ++I) {
    std::ifstream In(Argv[I], std::ios::binary);
    if (!In) {
      std::fprintf(stderr, "%s: cannot read %s\n", Argv[0], Argv[I]);
      return 2;
    }
    std::vector<char> Bytes((std::istreambuf_iterator<char>(In)),
                            std::istreambuf_iterator<char>());
    // Like libFuzzer, never pass a null pointer, even for an empty input.
    uint8_t Empty = 0;
    LLVMFuzzerTestOneInput(
        Bytes.empty() ? &Empty
                      : reinterpret_cast<const uint8_t *>(Bytes.data()),
        Bytes.size());
  }
  std::printf("replayed %d inputs\n", Argc - 1);
  return 0;
}
