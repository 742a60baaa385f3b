//===- SafetensorsFuzzer.cpp - libFuzzer target: tensor files -------------===//
//
// Weights (`--load`, `load(...)` initializers), inputs (`--inputs`) and
// checkpoints all come in as safetensors files (Runtime/TensorFile.h). The
// target writes the input to an in-memory file and reads it with
// `readTensorFile`, the runtime's own call, then checks what the reader
// promises (docs/reliability.md, "Limits"):
//   1. an error names the file and stays short;
//   2. every tensor holds exactly numel * dtype size bytes, and all of them
//      together no more than the file (no overlap, nothing invented);
//   3. converting each to the model's F32 or I32 (FileTypes.h, as
//      `predict` does) succeeds or fails with a message;
//   4. what was read, written back with `encodeTensorFile` and read again,
//      is the same: names, dtypes, shapes, bytes and metadata.
//
//===----------------------------------------------------------------------===//
#include "FuzzHelpers.h"
#include "nnc/Runtime/FileTypes.h"
#include "nnc/Runtime/TensorFile.h"

using namespace nnc;

namespace {

void checkSame(const rt::TensorFile &A, const rt::TensorFile &B) {
  fuzz::check(A.Tensors.size() == B.Tensors.size() && A.Metadata == B.Metadata,
              "a file written back reads the same");
  for (size_t I = 0; I < A.Tensors.size(); ++I) {
    const rt::StoredTensor &X = A.Tensors[I], &Y = B.Tensors[I];
    fuzz::check(X.Name == Y.Name && X.Type == Y.Type && X.Shape == Y.Shape &&
                    X.Data == Y.Data,
                "a tensor written back reads the same", X.Name);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  fuzz::MemFile File(Data, Size);
  rt::Expected<rt::TensorFile> F = rt::readTensorFile(File.path());
  if (!F) {
    fuzz::checkMessage(F.takeError().message(), File.path());
    return 0;
  }
  // Step 2.
  uint64_t Total = 0;
  for (const rt::StoredTensor &T : F->Tensors) {
    uint64_t Numel = 1;
    for (int64_t D : T.Shape) {
      fuzz::check(D >= 0, "dimensions are not negative", T.Name);
      Numel *= uint64_t(D);
    }
    fuzz::check(T.Data.size() == Numel * rt::dtypeSize(T.Type),
                "a tensor holds numel * dtype size bytes", T.Name);
    Total += T.Data.size();
  }
  fuzz::check(Total <= Size, "the tensors hold no more bytes than the file");

  // Step 3.
  std::vector<char> Out;
  for (const rt::StoredTensor &T : F->Tensors)
    for (rt::DType To : {rt::DType::F32, rt::DType::I32})
      if (rt::Status S = rt::toComputeType("fuzz: tensor", T, To, Out))
        fuzz::checkMessage(S.message(), "fuzz: tensor");

  // Step 4.
  std::vector<rt::TensorRef> Refs;
  for (const rt::StoredTensor &T : F->Tensors)
    Refs.push_back({T.Name, T.Type, T.Shape, T.Data.data()});
  std::string Bytes = rt::encodeTensorFile(Refs, F->Metadata);
  fuzz::MemFile Again(reinterpret_cast<const uint8_t *>(Bytes.data()),
                      Bytes.size());
  rt::Expected<rt::TensorFile> G = rt::readTensorFile(Again.path());
  fuzz::check(bool(G), "a file written back reads",
              G ? "" : G.takeError().message());
  checkSame(*F, *G);
  return 0;
}
