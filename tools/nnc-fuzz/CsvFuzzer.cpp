//===- CsvFuzzer.cpp - libFuzzer target: CSV data -------------------------===//
//
// `csv(path, inputs = [...], target = [...], header = ...)` data and
// `--data FILE.csv` are read by `loadCsv` (Runtime/Dataset.h) against the
// model's input and target. The first four bytes of the input choose that
// model and the train block's options; the rest is the file:
//   byte 0: values per example of the input (1-4), f32 or i32;
//   byte 1: the target: an i32 label, an f32 one-hot row, or f32 values;
//   byte 2: `header = true`, and explicit column lists or the defaults;
//   byte 3: the column lists' indices.
// Every accepted file is then fed to the model's slots one example at a
// time (`fillBatch`, as training does), and the target checks what the
// loader promises: errors name the file and stay short; f32 inputs and
// targets are finite; labels lie in the model's classes.
//
//===----------------------------------------------------------------------===//
#include "FuzzHelpers.h"
#include "nnc/Runtime/Dataset.h"

#include <cmath>

using namespace nnc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  if (Size < 4)
    return 0;
  uint8_t Model = Data[0], Target = Data[1], Options = Data[2], Cols = Data[3];
  int64_t InN = 1 + Model % 4;
  bool InI32 = Model & 0x10;
  // 0: i32 label [B]; 1: f32 one-hot [B, K]; 2: f32 values [B, K].
  int TargetKind = Target % 3;
  int64_t K = 1 + (Target >> 2) % 4;
  int64_t TgtN = TargetKind == 0 ? 1 : K;
  int64_t InDims[2] = {1, InN}, TgtDims[2] = {1, TgtN};
  nnc_slot InSlot{}, TgtSlot{};
  InSlot.name = "x";
  InSlot.role = NNC_SLOT_INPUT;
  InSlot.dtype = InI32 ? NNC_I32 : NNC_F32;
  InSlot.rank = 2;
  InSlot.dims = InDims;
  TgtSlot.name = "t";
  TgtSlot.role = NNC_SLOT_TARGET;
  TgtSlot.dtype = TargetKind == 0 ? NNC_I32 : NNC_F32;
  TgtSlot.rank = TargetKind == 0 ? 1 : 2;
  TgtSlot.dims = TgtDims;
  std::vector<float> InBuf(static_cast<size_t>(InN)),
      TgtBuf(static_cast<size_t>(TgtN));
  rt::SlotBuffer In{&InSlot, InBuf.data(), InN},
      Tgt{&TgtSlot, TgtBuf.data(), TgtN};
  rt::SampleLayout L{&In, &Tgt, InN, TgtN, TargetKind == 2 ? 0 : K};

  // Explicit columns: the input's, then the target's (one label column
  // for a label or one-hot target), each 0-7; or the defaults.
  std::vector<int64_t> InCols, TgtCols;
  if (Options & 2) {
    for (int64_t I = 0; I < InN; ++I)
      InCols.push_back((Cols + 3 * I) % 8);
    TgtCols.push_back((Cols >> 4) % 8);
    for (int64_t I = 1; TargetKind == 2 && I < TgtN; ++I)
      TgtCols.push_back((Cols + 5 * I) % 8);
  }
  fuzz::MemFile File(Data + 4, Size - 4);
  rt::Expected<rt::Dataset> D =
      rt::loadCsv(File.path(), InCols, TgtCols, Options & 1, L);
  if (!D) {
    fuzz::checkMessage(D.takeError().message(), File.path());
    return 0;
  }
  fuzz::check(D->size() > 0, "an accepted CSV file has rows");
  for (int64_t Row = 0; Row < D->size(); ++Row) {
    D->fillBatch(&Row, 1, L);
    for (int64_t I = 0; I < InN && !InI32; ++I)
      fuzz::check(std::isfinite(In.f32()[I]), "f32 inputs are finite");
    if (TargetKind == 0)
      fuzz::check(Tgt.i32()[0] >= 0 && Tgt.i32()[0] < K,
                  "labels lie in the model's classes");
    for (int64_t I = 0; I < TgtN && TargetKind != 0; ++I)
      fuzz::check(std::isfinite(Tgt.f32()[I]), "f32 targets are finite");
  }
  return 0;
}
