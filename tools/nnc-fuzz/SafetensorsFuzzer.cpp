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
//      is the same: names, dtypes, shapes, bytes and metadata;
//   5. loaded as a checkpoint (`train --load`) into a model whose params
//      are the file's own F32 and I32 tensors, so that loading gets past
//      the weights to what only a checkpoint holds: the metadata (epoch,
//      the shuffle generator's state, the seed, the best loss) and the data
//      order, outside bytes too. Errors name the file; a resumed run has a
//      permutation for its data order.
//
//===----------------------------------------------------------------------===//
#include "FuzzHelpers.h"
#include "nnc/Runtime/Checkpoint.h"
#include "nnc/Runtime/FileTypes.h"
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/TensorFile.h"

#include <algorithm>
#include <deque>

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

/// Step 5. Small tensors only: the model's slots are allocated.
void loadAsCheckpoint(const rt::TensorFile &F) {
  std::deque<std::string> Names;
  std::deque<std::vector<int64_t>> Dims;
  std::vector<nnc_slot> Slots;
  for (const rt::StoredTensor &T : F.Tensors) {
    bool Small = T.Shape.size() <= 8 && T.Data.size() <= (1 << 16);
    if ((T.Type != rt::DType::F32 && T.Type != rt::DType::I32) || !Small ||
        T.Name.rfind("nnc/", 0) == 0)
      continue;
    // `state.X` is the optimizer state of slot X (Model.cpp, weightsKey).
    bool State = T.Name.rfind("state.", 0) == 0 && T.Name.size() > 6;
    nnc_slot S{};
    S.name = Names.emplace_back(State ? T.Name.substr(6) : T.Name).c_str();
    S.role = State ? NNC_SLOT_STATE : NNC_SLOT_PARAM;
    S.dtype = T.Type == rt::DType::F32 ? NNC_F32 : NNC_I32;
    S.rank = int32_t(T.Shape.size());
    S.dims = Dims.emplace_back(T.Shape).data();
    Slots.push_back(S);
  }
  nnc_model M{};
  M.abi_version = NNC_ABI_VERSION;
  M.name = "fuzz";
  M.batch = 1;
  M.num_slots = int32_t(Slots.size());
  M.slots = Slots.data();
  rt::Expected<std::unique_ptr<rt::ModelInstance>> I =
      rt::ModelInstance::create(&M);
  if (!I)
    return;
  constexpr int64_t Examples = 4;
  rt::TrainProgress P(0, Examples);
  bool Resumed = false;
  std::string Note;
  if (rt::Status S = rt::loadCheckpoint(**I, F, P, Resumed, Note)) {
    fuzz::checkMessage(S.message(), F.Path);
    return;
  }
  if (!Resumed)
    return;
  std::vector<int64_t> Order = P.Order;
  std::sort(Order.begin(), Order.end());
  for (int64_t K = 0; K < int64_t(Order.size()); ++K)
    fuzz::check(int64_t(Order.size()) == Examples && Order[size_t(K)] == K,
                "a resumed run's data order is a permutation");
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

  loadAsCheckpoint(*F);
  return 0;
}
