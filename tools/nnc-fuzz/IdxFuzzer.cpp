//===- IdxFuzzer.cpp - libFuzzer target: IDX (MNIST-format) files ---------===//
//
// `idx(images, labels)` data, plain or gzip, is read by `readIdxFile` and,
// for `show --images`, its header alone by `readIdxDims` (Runtime/
// Dataset.h). The target writes the input to an in-memory file (gzip or not,
// as the bytes say: zlib recognizes the magic) and reads it both ways, then
// checks the readers' promises (docs/reliability.md, "Limits"):
//   1. errors name the file and stay short;
//   2. the data holds exactly as many bytes as the dimensions' product;
//   3. both readers agree on the dimensions.
//
//===----------------------------------------------------------------------===//
#include "FuzzHelpers.h"
#include "nnc/Runtime/Dataset.h"

using namespace nnc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  fuzz::MemFile File(Data, Size);
  rt::Expected<std::vector<int64_t>> Dims = rt::readIdxDims(File.path());
  if (!Dims)
    fuzz::checkMessage(Dims.takeError().message(), File.path());
  rt::Expected<rt::IdxArray> A = rt::readIdxFile(File.path());
  if (!A) {
    fuzz::checkMessage(A.takeError().message(), File.path());
    return 0;
  }
  uint64_t Numel = 1;
  for (int64_t D : A->Dims) {
    fuzz::check(D >= 0, "dimensions are not negative");
    Numel *= uint64_t(D);
  }
  fuzz::check(A->Data.size() == Numel, "the data holds the dimensions' "
                                       "product of bytes");
  fuzz::check(Dims && *Dims == A->Dims, "both readers agree on the "
                                        "dimensions");
  return 0;
}
