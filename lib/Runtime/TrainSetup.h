//===- TrainSetup.h - A training run up to its first epoch -----*- C++ -*-===//
//
// Private to the runtime (Train.cpp). Everything `train` does before its
// first epoch, in two stages per rank, each followed by the ranks'
// agreement (DataParallel.h; a single process agrees with itself for
// free):
//   1. load: the command line and the train block, the data, the test set
//      and --load's file; then the ranks compare what they read (batch,
//      model, data, settings);
//   2. start: hold out the validation rows, check that a global batch
//      remains, draw or load the params (and a checkpoint's progress), set
//      the hyperparameters, open the log (rank 0); then the ranks compare
//      where they start.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_RUNTIME_TRAINSETUP_H
#define NNC_LIB_RUNTIME_TRAINSETUP_H

#include "nnc/Runtime/Checkpoint.h"
#include "nnc/Runtime/Commands.h"
#include "nnc/Runtime/DataParallel.h"
#include "nnc/Runtime/Dataset.h"
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Progress.h"
#include "nnc/Runtime/Schedule.h"
#include "nnc/Runtime/TensorFile.h"

#include <memory>
#include <optional>
#include <vector>

namespace nnc::rt {

/// What `runTrain` trains on: the training rows and, with `validation = f`,
/// the held-out rows.
struct TrainData {
  Dataset Train;
  std::optional<Dataset> Val;
};

/// A run between its command line and its first epoch.
struct TrainSetup {
  std::unique_ptr<ModelInstance> Instance;
  SampleLayout L;
  int64_t Epochs = 1;
  uint64_t Seed = 0;
  double Lr = 0;
  bool Shuffle = true;
  LrSchedule Schedule;
  std::vector<Augmentation> Augment;
  double Validation = 0;
  int64_t Patience = 0;
  DataSource Src;
  std::optional<Dataset> All; ///< The data as loaded, before the split.
  std::optional<Dataset> Test;
  std::optional<TensorFile> LoadFile;
  // Set by the start stage:
  std::optional<TrainData> Data;
  std::optional<TrainProgress> Progress;
  std::optional<GradientAverager> Averager; ///< With several ranks.
  CsvLog Log;
};

/// Sets up the run of `train` on this rank into `S` (the stages above);
/// an error is every rank's.
Status setUpRun(const nnc_model &M, const RunOptions &O, const Team &T,
                TrainSetup &S);

} // namespace nnc::rt

#endif
