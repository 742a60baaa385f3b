//===- Model.cpp - Slot allocation, initialization, weight files ----------===//
//
// A descriptor is produced by our own code generator, but it is checked
// here anyway: a mismatch between the generator and the runtime (ABI
// version, a bad dtype or role) must be a clear message, not memory
// corruption in the generated code.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/FileTypes.h"
#include "nnc/Runtime/Parallel.h"
#include "nnc/Runtime/Random.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace nnc::rt {

Expected<std::unique_ptr<ModelInstance>>
ModelInstance::create(const nnc_model *M) {
  auto Bad = [](const std::string &Why) {
    return Status::error("invalid model descriptor: " + Why);
  };
  if (!M || !M->name)
    return Bad("null or unnamed");
  if (M->abi_version != NNC_ABI_VERSION)
    return Bad("ABI version " + std::to_string(M->abi_version) +
               ", but this runtime implements version " +
               std::to_string(NNC_ABI_VERSION));
  if (M->batch < 0) // 0: unbatched
    return Bad("batch size " + std::to_string(M->batch));
  if (M->num_slots < 0 || (M->num_slots > 0 && !M->slots))
    return Bad("no slot table");
  std::unique_ptr<ModelInstance> I(new ModelInstance(M));
  for (int32_t S = 0; S < M->num_slots; ++S) {
    const nnc_slot &D = M->slots[S];
    if (!D.name || !*D.name)
      return Bad("slot " + std::to_string(S) + " has no name");
    // Quoted as every runtime message quotes a name: a harness's model
    // takes its slot names from a file.
    std::string Name = quoteForMessage(D.name);
    if (D.dtype != NNC_F32 && D.dtype != NNC_I32)
      return Bad("slot " + Name + " has dtype " + std::to_string(D.dtype));
    if (D.role < NNC_SLOT_PARAM || D.role > NNC_SLOT_BUFFER)
      return Bad("slot " + Name + " has role " + std::to_string(D.role));
    if (D.file_dtype < NNC_FILE_NATIVE || D.file_dtype > NNC_FILE_BOOL ||
        (D.file_dtype != NNC_FILE_NATIVE &&
         computeType(fileType(D)) != DType(D.dtype)))
      return Bad("slot " + Name + " has file dtype " +
                 std::to_string(D.file_dtype) + " for dtype " +
                 std::to_string(D.dtype));
    if (D.rank < 0 || (D.rank > 0 && !D.dims))
      return Bad("slot " + Name + " has no dims");
    SlotBuffer B;
    B.Desc = &D;
    for (int32_t K = 0; K < D.rank; ++K) {
      if (D.dims[K] < 0 ||
          (D.dims[K] > 0 && B.Numel > (int64_t(1) << 40) / D.dims[K]))
        return Bad("slot " + Name + " has a bad shape");
      B.Numel *= D.dims[K];
    }
    // Rounded up so that aligned_alloc's size is a multiple of the alignment.
    size_t Size = (B.bytes() + 63) / 64 * 64;
    B.Data = std::aligned_alloc(64, Size ? Size : 64);
    if (!B.Data)
      return Status::error("out of memory allocating slot " + Name);
    // Owned by the instance at once: a later slot's error frees it too.
    I->Allocations.push_back(B.Data);
    std::memset(B.Data, 0, Size ? Size : 64);
    I->Slots.push_back(B);
  }
  for (SlotBuffer &B : I->Slots)
    I->Pointers.push_back(B.Data);
  return I;
}

ModelInstance::~ModelInstance() {
  for (void *P : Allocations)
    std::free(P);
}

void ModelInstance::relocate(SlotBuffer &Slot, void *Memory) {
  size_t Index = size_t(&Slot - Slots.data());
  assert(Index < Slots.size() && "not a slot of this instance");
  std::memcpy(Memory, Slot.Data, Slot.bytes());
  Slot.Data = Memory;
  Pointers[Index] = Memory;
}

SlotBuffer *ModelInstance::find(std::string_view Name) {
  for (SlotBuffer &B : Slots)
    if (B.name() == Name)
      return &B;
  return nullptr;
}

std::vector<SlotBuffer *> ModelInstance::withRole(nnc_slot_role Role) {
  std::vector<SlotBuffer *> Out;
  for (SlotBuffer &B : Slots)
    if (B.role() == Role)
      Out.push_back(&B);
  return Out;
}

void fanInOut(const std::vector<int64_t> &Dims, double &FanIn, double &FanOut) {
  if (Dims.empty()) {
    FanIn = FanOut = 1;
    return;
  }
  if (Dims.size() == 1) {
    FanIn = FanOut = double(Dims[0]);
    return;
  }
  if (Dims.size() == 2) {
    FanIn = double(Dims[0]);
    FanOut = double(Dims[1]);
    return;
  }
  // Convolution kernels [K, C, R, S...]: each output channel sees C·R·S
  // inputs, each input channel feeds K·R·S outputs.
  double Receptive = 1;
  for (size_t I = 2; I < Dims.size(); ++I)
    Receptive *= double(Dims[I]);
  FanIn = double(Dims[1]) * Receptive;
  FanOut = double(Dims[0]) * Receptive;
}

void drawInitializer(const nnc_slot &D, void *Data, uint64_t Seed) {
  int64_t Numel = 1;
  for (int32_t K = 0; K < D.rank; ++K)
    Numel *= D.dims[K];
  bool IsF32 = D.dtype == NNC_F32;
  // One stream per (seed, name): params keep their values when others are
  // added or reordered.
  Rng R(Seed ^ hashName(D.name));
  double FanIn, FanOut;
  fanInOut(std::vector<int64_t>(D.dims, D.dims + D.rank), FanIn, FanOut);
  auto Fill = [&](auto Draw) {
    for (int64_t I = 0; I < Numel; ++I) {
      double V = Draw();
      if (IsF32)
        static_cast<float *>(Data)[I] = float(V);
      else
        static_cast<int32_t *>(Data)[I] = int32_t(std::lround(V));
    }
  };
  switch (nnc_init_kind(D.init_kind)) {
  case NNC_INIT_ZEROS:
    return Fill([] { return 0.0; });
  case NNC_INIT_ONES:
    return Fill([] { return 1.0; });
  case NNC_INIT_CONST:
    return Fill([&] { return D.init_a; });
  case NNC_INIT_UNIFORM:
    return Fill([&] { return D.init_a + (D.init_b - D.init_a) * R.uniform(); });
  case NNC_INIT_NORMAL:
    return Fill([&] { return D.init_a + D.init_b * R.normal(); });
  case NNC_INIT_GLOROT_UNIFORM: {
    double Limit = std::sqrt(6.0 / (FanIn + FanOut));
    return Fill([&] { return -Limit + 2 * Limit * R.uniform(); });
  }
  case NNC_INIT_HE_NORMAL: {
    double Std = std::sqrt(2.0 / FanIn);
    return Fill([&] { return Std * R.normal(); });
  }
  case NNC_INIT_LITERAL:
    if (D.literal)
      std::memcpy(Data, D.literal, size_t(Numel) * 4);
    else
      Fill([] { return 0.0; });
    return;
  }
  // An init kind this runtime does not know: start from zero rather than
  // garbage.
  Fill([] { return 0.0; });
}

void ModelInstance::initParams(uint64_t Seed) {
  for (SlotBuffer &B : Slots) {
    if (B.role() == NNC_SLOT_PARAM || B.role() == NNC_SLOT_BUFFER)
      drawInitializer(*B.Desc, B.Data, Seed);
    else if (B.role() == NNC_SLOT_STATE)
      std::memset(B.Data, 0, B.bytes());
  }
}

Status ModelInstance::setHypers(const nnc_train_spec &Spec, double Lr) {
  for (SlotBuffer *B : withRole(NNC_SLOT_HYPER)) {
    std::string_view N = B->name();
    if (N == "dropout_key") {
      // Step 0's key until setDropoutKey sets each step's.
      B->i32()[0] = std::bit_cast<int32_t>(dropoutKey(Spec.seed, 0));
      continue;
    }
    double V;
    if (N == "lr")
      V = Lr;
    else if (N == "momentum")
      V = Spec.momentum;
    else if (N == "weight_decay")
      V = Spec.weight_decay;
    else if (N == "beta1")
      V = Spec.beta1;
    else if (N == "beta2")
      V = Spec.beta2;
    else if (N == "eps")
      V = Spec.eps;
    else
      return Status::error("invalid model descriptor: unknown "
                           "hyperparameter slot '" +
                           std::string(N) + "'");
    if (B->type() == DType::F32)
      B->f32()[0] = float(V);
    else
      B->i32()[0] = int32_t(V);
  }
  return Status();
}

/// Dropout keys are derived from the seed by a constant of their own, so
/// that they share no stream with initializers or shuffling.
static constexpr uint64_t DropoutStream = 0x64726f706f7574ULL; // "dropout"

uint32_t dropoutKey(uint64_t Seed, int64_t Step) {
  uint64_t State = Seed ^ DropoutStream;
  splitMix64(State);
  State += uint64_t(Step) * 0x9e3779b97f4a7c15ULL;
  return uint32_t(splitMix64(State) >> 32);
}

void ModelInstance::setDropoutKey(uint64_t Seed, int64_t Step) {
  if (SlotBuffer *B = find("dropout_key"); B && B->role() == NNC_SLOT_HYPER)
    B->i32()[0] = std::bit_cast<int32_t>(dropoutKey(Seed, Step));
}

void ModelInstance::setLearningRate(double Lr) {
  for (SlotBuffer &B : Slots) {
    if (B.role() != NNC_SLOT_HYPER || B.name() != "lr")
      continue;
    if (B.type() == DType::F32)
      B.f32()[0] = float(Lr);
    else
      B.i32()[0] = int32_t(Lr);
  }
}

Status copyTensorToSlot(const std::string &Path, const StoredTensor &T,
                        SlotBuffer &Slot) {
  std::string Prefix = Path + ": tensor " + quoteForMessage(T.Name);
  DType Stored = fileType(*Slot.Desc);
  if (T.Type != Stored)
    return Status::error(Prefix + " has dtype " + dtypeName(T.Type) +
                         ", but the model expects " + dtypeName(Stored));
  if (T.Shape != Slot.shape())
    return Status::error(Prefix + " has shape " + shapeString(T.Shape) +
                         ", but the model expects " +
                         shapeString(Slot.shape()));
  // An empty tensor has no data to copy, and its data() may be null, which
  // memcpy must not see even for 0 bytes (found by nnc-fuzz-safetensors).
  if (Slot.bytes() == 0)
    return Status();
  if (Stored == Slot.type()) {
    std::memcpy(Slot.Data, T.Data.data(), Slot.bytes());
    return Status();
  }
  std::vector<char> Data;
  if (Status S = toComputeType(Prefix, T, Slot.type(), Data))
    return S;
  std::memcpy(Slot.Data, Data.data(), Slot.bytes());
  return Status();
}

static const char StatePrefix[] = "state.";

std::string weightsKey(const SlotBuffer &Slot) {
  return (Slot.role() == NNC_SLOT_STATE ? StatePrefix : "") +
         std::string(Slot.name());
}

Status ModelInstance::loadWeights(const std::string &Path, bool WithState) {
  Expected<TensorFile> File = readTensorFile(Path);
  if (!File)
    return File.takeError();
  return loadWeights(*File, WithState);
}

Status ModelInstance::loadWeights(const TensorFile &File, bool WithState) {
  const std::string &Path = File.Path;
  for (SlotBuffer &B : Slots) {
    if (B.role() == NNC_SLOT_PARAM || B.role() == NNC_SLOT_BUFFER) {
      const StoredTensor *T = File.find(B.name());
      if (!T)
        return Status::error(
            Path + ": missing tensor " + quoteForMessage(B.name()) + " (a " +
            (B.role() == NNC_SLOT_PARAM ? "parameter" : "buffer") + " of " +
            Model->name + ")");
      if (Status S = copyTensorToSlot(Path, *T, B))
        return S;
    } else if (B.role() == NNC_SLOT_STATE && WithState) {
      if (const StoredTensor *T =
              File.find(StatePrefix + std::string(B.name())))
        if (Status S = copyTensorToSlot(Path, *T, B))
          return S;
    }
  }
  return Status();
}

Status
ModelInstance::saveWeights(const std::string &Path, bool WithState,
                           const std::vector<TensorRef> &Extra,
                           const std::map<std::string, std::string> &Meta) {
  std::vector<TensorRef> Refs;
  for (SlotBuffer &B : Slots) {
    bool IsState = B.role() == NNC_SLOT_STATE;
    if (B.role() != NNC_SLOT_PARAM && B.role() != NNC_SLOT_BUFFER &&
        !(IsState && WithState))
      continue;
    Refs.push_back({weightsKey(B), B.type(), B.shape(), B.Data});
  }
  Refs.insert(Refs.end(), Extra.begin(), Extra.end());
  std::map<std::string, std::string> AllMeta = Meta;
  AllMeta["format"] = "nnc";
  AllMeta["model"] = Model->name;
  return writeTensorFile(Path, Refs, AllMeta);
}

namespace {

/// True when no element of Bits[0, N) is an infinity or a NaN (an exponent
/// of all ones). Testing the bits (rather than std::isfinite) keeps the
/// loop branch-free and vectorized, and is immune to -ffast-math.
bool finiteBits(const uint32_t *Bits, int64_t N) {
  uint32_t Bad = 0;
  for (int64_t I = 0; I < N; ++I)
    Bad |= uint32_t((Bits[I] & 0x7f800000u) == 0x7f800000u);
  return !Bad;
}

} // namespace

bool allFinite(const SlotBuffer &Slot) {
  if (Slot.type() != DType::F32)
    return true;
  return finiteBits(static_cast<const uint32_t *>(Slot.Data), Slot.Numel);
}

SlotBuffer *ModelInstance::firstNonFinite() {
  // The scan reads every param and state value once per step, which on a
  // memory-bound machine costs as much as the update itself; it is split
  // in pieces over the kernels' thread pool (each core brings its own
  // bandwidth). Pieces are small enough to balance, big enough to vectorize.
  constexpr int64_t PieceFloats = 1 << 15;
  std::vector<ScanPiece> &Pieces = ScanScratch;
  Pieces.clear();
  nnc_task_fn Scan = [](void *Ctx, int64_t Begin, int64_t End) {
    auto *P = static_cast<ScanPiece *>(Ctx);
    for (int64_t I = Begin; I < End; ++I)
      P[I].Finite = finiteBits(P[I].Bits, P[I].Count);
  };
  for (size_t S = 0; S < Slots.size(); ++S) {
    const SlotBuffer &B = Slots[S];
    nnc_slot_role R = B.role();
    if ((R != NNC_SLOT_PARAM && R != NNC_SLOT_STATE && R != NNC_SLOT_BUFFER) ||
        B.type() != DType::F32)
      continue;
    const auto *Bits = static_cast<const uint32_t *>(B.Data);
    for (int64_t At = 0; At < B.Numel; At += PieceFloats)
      Pieces.push_back(
          {Bits + At, std::min(PieceFloats, B.Numel - At), S, true});
  }
  nnc_parallel_for(Scan, Pieces.data(), int64_t(Pieces.size()));
  for (const ScanPiece &P : Pieces)
    if (!P.Finite)
      return &Slots[P.Slot];
  return nullptr;
}

} // namespace nnc::rt
