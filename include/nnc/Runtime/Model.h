//===- Model.h - A compiled model with its slots allocated -----*- C++ -*-===//
//
// The runtime's view of one `nnc_model` (ModelABI.h): the descriptor is
// checked once, every slot gets one 64-byte-aligned zeroed buffer for the
// whole run, and the slot pointer array handed to the entry points is built
// once. Everything that reads or writes whole groups of slots lives here:
// parameter initialization from each param's init kind, hyperparameters,
// and loading/saving weights.
//
// Weight files hold every PARAM and BUFFER under its name and, when saved by
// `train`, every STATE slot (optimizer state) under "state.NAME". Loading
// requires every param and buffer; state keys are optional (missing state
// starts at zero), and
// keys the model does not know are ignored, so a file from `init` or from a
// Python script loads as well as one from `train --save`.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_MODEL_H
#define NNC_RUNTIME_MODEL_H

#include "nnc/Runtime/ModelABI.h"
#include "nnc/Runtime/Status.h"
#include "nnc/Runtime/TensorFile.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nnc::rt {

/// One allocated slot.
struct SlotBuffer {
  const nnc_slot *Desc = nullptr;
  void *Data = nullptr;
  int64_t Numel = 1;

  std::string_view name() const { return Desc->name; }
  nnc_slot_role role() const { return nnc_slot_role(Desc->role); }
  DType type() const { return DType(Desc->dtype); }
  std::vector<int64_t> shape() const {
    return std::vector<int64_t>(Desc->dims, Desc->dims + Desc->rank);
  }
  /// Elements per example for a slot whose first dimension is the batch.
  int64_t numelPerRow() const {
    return Desc->rank == 0 || Desc->dims[0] == 0 ? Numel
                                                 : Numel / Desc->dims[0];
  }
  size_t bytes() const { return size_t(Numel) * 4; }
  float *f32() const { return static_cast<float *>(Data); }
  int32_t *i32() const { return static_cast<int32_t *>(Data); }
  /// The first element as a double (scalars: loss, metrics).
  double scalar() const {
    return type() == DType::F32 ? double(f32()[0]) : double(i32()[0]);
  }
};

/// A model descriptor plus the buffers of one run.
class ModelInstance {
public:
  /// Validates `M` and allocates its slots (all zero).
  static Expected<std::unique_ptr<ModelInstance>> create(const nnc_model *M);
  ~ModelInstance();
  ModelInstance(const ModelInstance &) = delete;
  ModelInstance &operator=(const ModelInstance &) = delete;

  const nnc_model &model() const { return *Model; }
  int64_t batch() const { return Model->batch; }
  /// The array every entry point takes.
  void **slotPointers() { return Pointers.data(); }
  std::vector<SlotBuffer> &slots() { return Slots; }
  /// The slot named `Name`, or null.
  SlotBuffer *find(std::string_view Name);
  /// The slots with `Role`, in slot order.
  std::vector<SlotBuffer *> withRole(nnc_slot_role Role);

  /// Draws every param and buffer from its initializer with `Seed` (one
  /// stream per name) and zeroes the optimizer state.
  void initParams(uint64_t Seed);
  /// Sets the HYPER slots from `Spec`, with `Lr` replacing its learning
  /// rate. Fails on a hyper slot the runtime does not know.
  Status setHypers(const nnc_train_spec &Spec, double Lr);
  /// Sets the `dropout_key` hyper (if the model has dropout) for training
  /// step `Step` (0-based, counted over the whole run) of a run seeded
  /// with `Seed`: the masks of a step depend on nothing else, so a resumed
  /// run draws what the uninterrupted one drew.
  void setDropoutKey(uint64_t Seed, int64_t Step);
  /// Sets the `lr` hyper slot alone (the schedule, before every step); a
  /// model without one is left as it is.
  void setLearningRate(double Lr);

  /// Loads every param (required) and, with `WithState`, the "state.NAME"
  /// entries present in the file.
  Status loadWeights(const std::string &Path, bool WithState);
  /// The same from a file already read (a checkpoint also carries the
  /// training progress, which the caller reads from the same `File`).
  Status loadWeights(const TensorFile &File, bool WithState);
  /// Saves the params and, with `WithState`, the state, atomically; `Extra`
  /// tensors follow them, and `Meta` joins the "format"/"model" metadata.
  Status saveWeights(const std::string &Path, bool WithState,
                     const std::vector<TensorRef> &Extra = {},
                     const std::map<std::string, std::string> &Meta = {});

  /// Moves `Slot`'s values to `Memory` (its bytes, 64-byte aligned, owned
  /// by the caller and alive as long as the entry points run) and points
  /// the entry points there: data-parallel training places the gradients
  /// and buffers in memory the ranks of one machine share
  /// (DataParallel.h). The instance still frees only what it allocated.
  void relocate(SlotBuffer &Slot, void *Memory);

  /// The first PARAM, STATE or BUFFER slot (in slot order) holding a NaN
  /// or an infinity, or null when all of them are finite: what a training
  /// step writes (gradients live in the arena; GRAD slots are written only
  /// by the `grad` command). Training calls it after a step whose entries
  /// report a non-finite value (ModelABI.h), to name the slot.
  SlotBuffer *firstNonFinite();

private:
  explicit ModelInstance(const nnc_model *M) : Model(M) {}

  const nnc_model *Model;
  std::vector<SlotBuffer> Slots;
  std::vector<void *> Pointers;
  /// What create allocated (a relocated slot's first buffer included).
  std::vector<void *> Allocations;
  /// A piece of firstNonFinite's scan: Count floats of slot Slot.
  struct ScanPiece {
    const uint32_t *Bits;
    int64_t Count;
    size_t Slot;
    bool Finite;
  };
  /// firstNonFinite's work list, kept to avoid an allocation per step.
  std::vector<ScanPiece> ScanScratch;
};

/// The `dropout_key` of step `Step` of a run seeded with `Seed`.
uint32_t dropoutKey(uint64_t Seed, int64_t Step);

/// The slot's key in a weights file: "state.NAME" for optimizer state,
/// the slot's own name otherwise.
std::string weightsKey(const SlotBuffer &Slot);

/// True when every element of `Slot` is finite (I32 slots always are).
bool allFinite(const SlotBuffer &Slot);

/// Copies `T` into `Slot` after checking dtype and shape; errors name the
/// file (`Path`), the tensor and both shapes.
Status copyTensorToSlot(const std::string &Path, const StoredTensor &T,
                        SlotBuffer &Slot);

/// Fills `Data` (the numel of `Slot`'s dims, in its dtype) with the
/// initializer of param or buffer `Slot` drawn with `Seed`: one random
/// stream per (seed, name), so `init --seed S` gives each param the same
/// values whatever the other params are. This is what `init` does for every
/// param and buffer; the compiler calls it too (`nnc --emit=grad --values`
/// starts where `init` does).
void drawInitializer(const nnc_slot &Slot, void *Data, uint64_t Seed);

/// The fan-in and fan-out Glorot and He use for a param of shape `Dims`:
/// [in, out] for 2-D, C·R·S / K·R·S for [K, C, R, S] (any rank ≥ 3 alike),
/// n / n for 1-D, 1 / 1 for a scalar.
void fanInOut(const std::vector<int64_t> &Dims, double &FanIn, double &FanOut);

} // namespace nnc::rt

#endif
