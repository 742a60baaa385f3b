//===- Dataset.cpp - Layout of an example and per-batch conversion --------===//
//
// fillBatch is the only code on the per-step path: a gather of N rows with
// the dtype conversion the target slot needs (u8 → f32 × scale for images,
// label → i32, → one-hot f32 row, or → f32 scalar); augmented images take
// a detour through Augment.cpp. Also here: subsets and the validation
// split.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Dataset.h"
#include "nnc/Runtime/Random.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace nnc::rt {

Expected<SampleLayout> sampleLayout(ModelInstance &M) {
  if (M.batch() == 0)
    return Status::error("model '" + std::string(M.model().name) +
                         "' is unbatched: its inputs are taken whole, not "
                         "batch by batch from a data set");
  std::vector<SlotBuffer *> Inputs = M.withRole(NNC_SLOT_INPUT);
  std::vector<SlotBuffer *> Targets = M.withRole(NNC_SLOT_TARGET);
  if (Inputs.size() != 1 || Targets.size() != 1)
    return Status::error(
        "the data loaders feed exactly one input and one target, but model '" +
        std::string(M.model().name) + "' has " + std::to_string(Inputs.size()) +
        " input(s) and " + std::to_string(Targets.size()) + " target(s)");
  SampleLayout L;
  L.Input = Inputs[0];
  L.Target = Targets[0];
  L.InputNumel = L.Input->numelPerRow();
  L.TargetNumel = L.Target->numelPerRow();
  // An f32 target with several values per example is fed one-hot from a
  // label, so its width is the class count.
  if (L.Target->type() == DType::F32 && L.TargetNumel > 1) {
    L.NumClasses = L.TargetNumel;
  } else if (L.Target->type() == DType::I32 && L.TargetNumel == 1) {
    for (SlotBuffer *O : M.withRole(NNC_SLOT_OUTPUT)) {
      const nnc_slot &D = *O->Desc;
      if (O->type() == DType::F32 && D.rank == 2 && D.dims[0] == M.batch()) {
        L.NumClasses = D.dims[1];
        break;
      }
    }
  }
  return L;
}

DataSource DataSource::fromSpec(const nnc_data_spec &Spec) {
  DataSource S;
  S.K = Kind(Spec.kind == 1 || Spec.kind == 2 ? Spec.kind : 0);
  if (S.K == Idx) {
    S.Images = Spec.images ? Spec.images : "";
    S.Labels = Spec.labels ? Spec.labels : "";
    S.Scale = Spec.scale;
  } else if (S.K == Csv) {
    S.Path = Spec.path ? Spec.path : "";
    if (Spec.input_cols)
      S.InputCols.assign(Spec.input_cols,
                         Spec.input_cols + Spec.num_input_cols);
    if (Spec.target_cols)
      S.TargetCols.assign(Spec.target_cols,
                          Spec.target_cols + Spec.num_target_cols);
    S.Header = Spec.header != 0;
  }
  return S;
}

std::string DataSource::describe() const {
  switch (K) {
  case None:
    return "(no data)";
  case Idx:
    return Images + ", " + Labels;
  case Csv:
    return Path;
  }
  return "";
}

Dataset Dataset::fromImages(std::vector<uint8_t> Pixels,
                            std::vector<int64_t> ImageShape, float Scale,
                            std::vector<int32_t> Labels) {
  Dataset D;
  D.Count = int64_t(Labels.size());
  D.Pixels = std::move(Pixels);
  D.InputNumel = 1;
  for (int64_t Dim : ImageShape)
    D.InputNumel *= Dim;
  D.ImageShape = std::move(ImageShape);
  D.Scale = Scale;
  D.Labels = std::move(Labels);
  return D;
}

Dataset Dataset::fromTable(std::vector<float> Inputs, int64_t InputNumel,
                           std::vector<int32_t> Labels,
                           std::vector<float> Targets, int64_t TargetNumel) {
  Dataset D;
  D.InputRows = std::move(Inputs);
  D.InputNumel = InputNumel;
  D.Count = InputNumel ? int64_t(D.InputRows.size()) / InputNumel
                       : int64_t(std::max(Labels.size(), Targets.size()));
  D.Labels = std::move(Labels);
  D.TargetRows = std::move(Targets);
  D.TargetNumel = TargetNumel;
  return D;
}

Dataset Dataset::select(const std::vector<int64_t> &Rows) const {
  Dataset D;
  D.Count = int64_t(Rows.size());
  D.ImageShape = ImageShape;
  D.InputNumel = InputNumel;
  D.Scale = Scale;
  D.TargetNumel = TargetNumel;
  // Copies the `Width` elements of each selected row of `From`.
  auto Gather = [&](const auto &From, auto &To, int64_t Width) {
    if (From.empty())
      return;
    To.reserve(Rows.size() * size_t(Width));
    for (int64_t R : Rows)
      To.insert(To.end(), From.begin() + R * Width,
                From.begin() + (R + 1) * Width);
  };
  Gather(Pixels, D.Pixels, InputNumel);
  Gather(InputRows, D.InputRows, InputNumel);
  Gather(Labels, D.Labels, 1);
  Gather(TargetRows, D.TargetRows, TargetNumel);
  return D;
}

uint64_t Dataset::fingerprint() const {
  uint64_t H = hashBytes(&Count, sizeof(Count), 0);
  H = hashBytes(ImageShape.data(), ImageShape.size() * 8, H);
  H = hashBytes(Pixels.data(), Pixels.size(), H);
  H = hashBytes(InputRows.data(), InputRows.size() * 4, H);
  H = hashBytes(&Scale, sizeof(Scale), H);
  H = hashBytes(Labels.data(), Labels.size() * 4, H);
  return hashBytes(TargetRows.data(), TargetRows.size() * 4, H);
}

/// The validation stream is derived from the seed by a constant of its
/// own, so the split never shifts the other streams' draws.
static constexpr uint64_t ValidationStream = 0x76616c6964ULL; // "valid"

void splitValidation(int64_t N, double Fraction, uint64_t Seed,
                     std::vector<int64_t> &Train, std::vector<int64_t> &Held) {
  auto V = int64_t(std::floor(Fraction * double(N) + 0.5));
  V = std::clamp<int64_t>(V, 0, N);
  std::vector<int64_t> Pick(static_cast<size_t>(N));
  for (int64_t K = 0; K < N; ++K)
    Pick[size_t(K)] = K;
  Rng R(Seed ^ ValidationStream);
  for (int64_t K = 0; K < V; ++K)
    std::swap(Pick[size_t(K)],
              Pick[size_t(K + int64_t(R.below(uint64_t(N - K))))]);
  Held.assign(Pick.begin(), Pick.begin() + V);
  std::sort(Held.begin(), Held.end());
  std::vector<bool> IsHeld(static_cast<size_t>(N));
  for (int64_t K : Held)
    IsHeld[size_t(K)] = true;
  Train.clear();
  for (int64_t K = 0; K < N; ++K)
    if (!IsHeld[size_t(K)])
      Train.push_back(K);
}

/// Rows ahead of the one being converted whose pixels fillBatch prefetches.
constexpr int64_t PrefetchRows = 4;

void Dataset::fillBatch(const int64_t *Rows, int64_t N, const SampleLayout &L,
                        const BatchAugment *Aug) const {
  bool InF32 = L.Input->type() == DType::F32;
  for (int64_t I = 0; I < N; ++I) {
    int64_t Row = Rows[I];
    float *DstF = L.Input->f32() + I * InputNumel;
    int32_t *DstI = L.Input->i32() + I * InputNumel;
    if (!Pixels.empty() && Aug) {
      fillAugmented(Row, I, L, *Aug, Aug->Position + I);
    } else if (!Pixels.empty()) {
      // Rows are drawn at random from a dataset far larger than the caches,
      // so each row is a cache miss; fetching a later row's lines while
      // this one converts hides most of that latency.
      if (I + PrefetchRows < N) {
        const uint8_t *Next =
            Pixels.data() + Rows[I + PrefetchRows] * InputNumel;
        for (int64_t J = 0; J < InputNumel; J += 64)
          __builtin_prefetch(Next + J);
      }
      const uint8_t *Src = Pixels.data() + Row * InputNumel;
      if (InF32)
        for (int64_t J = 0; J < InputNumel; ++J)
          DstF[J] = float(Src[J]) * Scale;
      else
        for (int64_t J = 0; J < InputNumel; ++J)
          DstI[J] = Src[J];
    } else {
      const float *Src = InputRows.data() + Row * InputNumel;
      if (InF32)
        std::memcpy(DstF, Src, size_t(InputNumel) * 4);
      else
        for (int64_t J = 0; J < InputNumel; ++J)
          DstI[J] = int32_t(std::lround(Src[J]));
    }
  }
  bool TgtF32 = L.Target->type() == DType::F32;
  int64_t TN = L.TargetNumel;
  for (int64_t I = 0; I < N; ++I) {
    int64_t Row = Rows[I];
    float *DstF = L.Target->f32() + I * TN;
    int32_t *DstI = L.Target->i32() + I * TN;
    if (!Labels.empty()) {
      int32_t Label = Labels[Row];
      if (!TgtF32) {
        DstI[0] = Label;
      } else if (TN == 1) {
        DstF[0] = float(Label);
      } else {
        // One-hot row; the loader checked 0 <= Label < TN.
        std::fill(DstF, DstF + TN, 0.0f);
        DstF[Label] = 1.0f;
      }
      continue;
    }
    const float *Src = TargetRows.data() + Row * TN;
    if (TgtF32)
      std::memcpy(DstF, Src, size_t(TN) * 4);
    else
      for (int64_t J = 0; J < TN; ++J)
        DstI[J] = int32_t(std::lround(Src[J]));
  }
}

Status checkLabel(const std::string &Path, const std::string &Where,
                  int64_t Label, const SampleLayout &L) {
  if (Label < 0)
    return Status::error(Path + ": " + Where + ": label " +
                         std::to_string(Label) + " is negative");
  if (L.NumClasses > 0 && Label >= L.NumClasses)
    return Status::error(Path + ": " + Where + ": label " +
                         std::to_string(Label) + " is outside the model's " +
                         std::to_string(L.NumClasses) + " classes (0.." +
                         std::to_string(L.NumClasses - 1) + ")");
  return Status();
}

Expected<Dataset> loadData(const DataSource &Source, const SampleLayout &L) {
  switch (Source.K) {
  case DataSource::None:
    return Status::error("no data set: the model has no train block data; "
                         "give one with --data");
  case DataSource::Idx:
    return loadIdx(Source.Images, Source.Labels, Source.Scale, L);
  case DataSource::Csv:
    return loadCsv(Source.Path, Source.InputCols, Source.TargetCols,
                   Source.Header, L);
  }
  return Status::error("unknown data source kind");
}

} // namespace nnc::rt
