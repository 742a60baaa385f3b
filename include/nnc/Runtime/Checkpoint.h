//===- Checkpoint.h - Training checkpoints for exact resume ----*- C++ -*-===//
//
// A checkpoint is a weights file (every param under its name, the optimizer
// state under "state.NAME") that also records where training stands, so
// that `train --load W` continues bit for bit where the run that wrote W
// stopped. Besides params and state, the next epochs depend only on:
//   - the number of finished epochs (the loop's counter);
//   - the data-order stream (an Rng) as it stands;
//   - the example order of the last epoch: each epoch's Fisher–Yates shuffle
//     permutes the previous order in place, so the order is part of the
//     state, not a function of the stream alone.
//   - the run's seed, which fixes the validation split and the
//     augmentation draws (counter-based: seed, epoch, position);
//   - with early stopping, the best validation loss so far.
// These are stored as `__metadata__` strings ("epoch", "shuffle_rng",
// "seed", and "best_val_loss" when there is one) and one extra I32 tensor,
// "nnc/data_order" (a '/' can never occur in a param name, so it cannot
// collide). Every other reader — `predict --load`, `eval --load`, Python —
// sees ordinary weights plus keys it ignores. The hyperparameters are not
// stored: they come from the train block and the flags, as in the run being
// continued (the learning-rate schedule is a function of the global step).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_CHECKPOINT_H
#define NNC_RUNTIME_CHECKPOINT_H

#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Random.h"
#include "nnc/Runtime/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nnc::rt {

/// Where a training run stands between two epochs (besides its slots).
struct TrainProgress {
  /// A fresh run: no epoch finished, the data-order stream drawn from
  /// `Seed`, the examples in file order.
  TrainProgress(uint64_t Seed, int64_t NumExamples);

  int64_t Epoch = 0; ///< Finished epochs.
  uint64_t Seed;     ///< The run's seed.
  Rng ShuffleRng;    ///< The data-order stream.
  /// The example order of the last finished epoch (file order at first).
  std::vector<int64_t> Order;
  /// The lowest validation loss of a finished epoch (early stopping);
  /// infinity before the first.
  double BestValLoss;
};

/// The tensor name under which the example order is stored.
inline constexpr const char *DataOrderKey = "nnc/data_order";

/// Writes the params, the optimizer state and `P` to `Path`, atomically.
Status saveCheckpoint(ModelInstance &I, const std::string &Path,
                      const TrainProgress &P);

/// The seed a checkpoint `File` records, or nullopt for plain weights (no
/// "epoch") and checkpoints written before seeds were recorded; a
/// malformed one is an error. A resumed run takes its seed from here, since the
/// validation split and the augmentation depend on it.
Expected<std::optional<uint64_t>> checkpointSeed(const TensorFile &File);

/// Loads the params (required) and optimizer state (optional) from `Path`.
/// When the file is a checkpoint, `P` takes its progress and `Resumed` is
/// set; plain weights leave `P` as it is (epoch 0, fresh order). A
/// checkpoint whose order covers a different number of examples than `P`
/// (the data changed) keeps its epoch and stream but restarts the order
/// from file order, and `Note` says so. Malformed progress is an error
/// naming the file and the key.
Status loadCheckpoint(ModelInstance &I, const std::string &Path,
                      TrainProgress &P, bool &Resumed, std::string &Note);
/// The same from a file already read.
Status loadCheckpoint(ModelInstance &I, const TensorFile &File,
                      TrainProgress &P, bool &Resumed, std::string &Note);

} // namespace nnc::rt

#endif
