//===- Dataset.h - Training and evaluation data in memory ------*- C++ -*-===//
//
// A data set is kept compact — IDX images stay unsigned bytes, class labels
// stay int32 — and converted into the model's input and target slots one
// batch at a time, with no allocation per step. Two loaders fill it: IDX
// (MNIST format, plain or gzip, detected by zlib from the magic) and CSV.
// Every loader error names the file, the offset or line, and the reason.
//
// How data meets the model: the model must have exactly one INPUT slot
// (first dimension = batch) and one TARGET slot. Each example provides the
// input's per-example element count. The target is fed either from a class
// label (IDX labels, or one CSV column when the target is i32 or a one-hot
// f32 row) or from as many CSV columns as the target has per example.
//
// Training batches of images may be augmented (random crop, horizontal
// flip) while they are filled: each example's draws come from a key of the
// run's seed, the epoch and the example's position in the epoch, so they
// need no generator state and a resumed run draws them again exactly.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_DATASET_H
#define NNC_RUNTIME_DATASET_H

#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnc::rt {

/// What one example looks like to the model.
struct SampleLayout {
  SlotBuffer *Input = nullptr;
  SlotBuffer *Target = nullptr;
  int64_t InputNumel = 0;  ///< Input elements per example.
  int64_t TargetNumel = 0; ///< Target elements per example.
  /// The number of classes when the model has a class dimension (the
  /// target is f32 with K > 1 values per example, or it is i32 [B] and the
  /// first f32 [B, K] output gives K); 0 when unknown, and labels are then
  /// only checked to be non-negative.
  int64_t NumClasses = 0;
};

/// The layout of `M`; fails unless it has exactly one input and one target.
Expected<SampleLayout> sampleLayout(ModelInstance &M);

/// Where a data set comes from: the ABI's nnc_data_spec as C++ values.
struct DataSource {
  enum Kind { None = 0, Idx = 1, Csv = 2 } K = None;
  std::string Images, Labels;                 ///< Idx.
  double Scale = 1.0 / 255.0;                 ///< Idx.
  std::string Path;                           ///< Csv.
  std::vector<int64_t> InputCols, TargetCols; ///< Csv; empty = defaults.
  bool Header = false;                        ///< Csv.

  static DataSource fromSpec(const nnc_data_spec &Spec);
  /// "FILE" or "IMAGES, LABELS" for messages.
  std::string describe() const;
};

/// One augmentation of training images (`augment = [...]`).
struct Augmentation {
  nnc_augment_kind Kind = NNC_AUGMENT_HFLIP;
  int64_t Padding = 0; ///< random_crop.
};

/// The augment list of a train spec (empty without one); an unknown kind,
/// a negative padding or a kind listed twice is an invalid descriptor.
Expected<std::vector<Augmentation>>
augmentationsFromSpec(const nnc_train_spec &Spec);

/// What fillBatch needs to augment one training batch.
struct BatchAugment {
  const std::vector<Augmentation> *List = nullptr;
  uint64_t Seed = 0;    ///< The run's seed.
  int64_t Epoch = 0;    ///< 1-based.
  int64_t Position = 0; ///< The batch's first row's position in the epoch.
};

/// Examples in memory, converted per batch.
class Dataset {
public:
  /// The number of examples.
  int64_t size() const { return Count; }
  /// Writes examples `Rows[0..N)` into the input and target slots of
  /// `Layout` (N must be the batch size). With `Aug`, each image goes
  /// through the augment list first (docs/runtime.md, "Augmentation").
  void fillBatch(const int64_t *Rows, int64_t N, const SampleLayout &Layout,
                 const BatchAugment *Aug = nullptr) const;

  /// The examples `Rows` (in that order) as a data set of their own.
  Dataset select(const std::vector<int64_t> &Rows) const;
  /// A hash of every example (inputs and targets as stored), by which the
  /// ranks of an MPI job check that they read the same data.
  uint64_t fingerprint() const;
  /// Fails unless the examples are images with a height and a width, which
  /// augmentation needs; `Where` names the data in the message.
  Status checkAugmentable(const std::string &Where) const;

  /// IDX images of shape `ImageShape` (bytes, scaled by `Scale`) with one
  /// label each. The last two dimensions are an image's height and width;
  /// any before them are planes (channels).
  static Dataset fromImages(std::vector<uint8_t> Pixels,
                            std::vector<int64_t> ImageShape, float Scale,
                            std::vector<int32_t> Labels);
  /// CSV rows: `Inputs` has InputNumel floats per example; targets are
  /// `Labels` (one per example) or `Targets` (TargetNumel per example).
  static Dataset fromTable(std::vector<float> Inputs, int64_t InputNumel,
                           std::vector<int32_t> Labels,
                           std::vector<float> Targets, int64_t TargetNumel);

private:
  /// Writes image `Row`, augmented by `Aug` as the example at `Position`,
  /// into the input slot's example `I`.
  void fillAugmented(int64_t Row, int64_t I, const SampleLayout &L,
                     const BatchAugment &Aug, int64_t Position) const;

  int64_t Count = 0;
  // Inputs: bytes (IDX) or floats (CSV).
  std::vector<uint8_t> Pixels;
  std::vector<int64_t> ImageShape; ///< IDX: the dims of one image.
  std::vector<float> InputRows;
  int64_t InputNumel = 0;
  float Scale = 1;
  // Targets: class labels or float rows.
  std::vector<int32_t> Labels;
  std::vector<float> TargetRows;
  int64_t TargetNumel = 0;
};

/// A parsed IDX file: its dimensions and unsigned-byte payload.
struct IdxArray {
  std::vector<int64_t> Dims;
  std::vector<uint8_t> Data;
};

/// Reads a whole file through zlib, which inflates gzip and passes plain
/// files through; a truncated gzip stream is an error naming the offset.
Expected<std::vector<uint8_t>> readMaybeGzip(const std::string &Path);

/// Parses IDX bytes (decompressed): magic 0x00 0x00 0x08 NDIMS, NDIMS
/// big-endian u32 dimensions, then the bytes. `Path` is for messages.
Expected<IdxArray> parseIdx(const std::string &Path,
                            std::vector<uint8_t> Bytes);

/// Reads and parses an IDX file, plain or gzip.
Expected<IdxArray> readIdxFile(const std::string &Path);

/// The dimensions of an IDX file (plain or gzip), read from its header
/// alone: `show --images` wants the shape of one image, not the images.
Expected<std::vector<int64_t>> readIdxDims(const std::string &Path);

/// Loads an IDX pair (each file plain or gzip).
Expected<Dataset> loadIdx(const std::string &Images, const std::string &Labels,
                          double Scale, const SampleLayout &Layout);

/// Loads a CSV file. Empty column lists mean: inputs are the first
/// InputNumel columns, the target the columns after them.
Expected<Dataset> loadCsv(const std::string &Path,
                          std::vector<int64_t> InputCols,
                          std::vector<int64_t> TargetCols, bool Header,
                          const SampleLayout &Layout);

/// The split of `validation = Fraction` over `N` examples: round(F·N)
/// (halves up) rows are held out, drawn by a partial Fisher–Yates shuffle
/// with the seed's validation stream, and returned in ascending order in
/// `Held`; `Train` gets the others in file order (docs/runtime.md,
/// "Validation").
void splitValidation(int64_t N, double Fraction, uint64_t Seed,
                     std::vector<int64_t> &Train, std::vector<int64_t> &Held);

/// Loads `Source` with whichever loader its kind names.
Expected<Dataset> loadData(const DataSource &Source,
                           const SampleLayout &Layout);

/// Checks that a label fits the layout's classes; the message names the
/// file, `Where` (an offset or line) and the label.
Status checkLabel(const std::string &Path, const std::string &Where,
                  int64_t Label, const SampleLayout &Layout);

} // namespace nnc::rt

#endif
