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
// These are stored as two `__metadata__` strings ("epoch", "shuffle_rng")
// and one extra I32 tensor, "nnc/data_order" (a '/' can never
// occur in a param name, so it cannot collide). Every other reader —
// `predict --load`, `eval --load`, Python — sees ordinary weights plus keys
// it ignores. The hyperparameters are not stored: they come from the train
// block and the flags, as in the run being continued.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_CHECKPOINT_H
#define NNC_RUNTIME_CHECKPOINT_H

#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Random.h"
#include "nnc/Runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnc::rt {

/// Where a training run stands between two epochs (besides its slots).
struct TrainProgress {
  /// A fresh run: no epoch finished, the data-order stream drawn from
  /// `Seed`, the examples in file order.
  TrainProgress(uint64_t Seed, int64_t NumExamples);

  int64_t Epoch = 0; ///< Finished epochs.
  Rng ShuffleRng;    ///< The data-order stream.
  /// The example order of the last finished epoch (file order at first).
  std::vector<int64_t> Order;
};

/// The tensor name under which the example order is stored.
inline constexpr const char *DataOrderKey = "nnc/data_order";

/// Writes the params, the optimizer state and `P` to `Path`, atomically.
Status saveCheckpoint(ModelInstance &I, const std::string &Path,
                      const TrainProgress &P);

/// Loads the params (required) and optimizer state (optional) from `Path`.
/// When the file is a checkpoint, `P` takes its progress and `Resumed` is
/// set; plain weights leave `P` as it is (epoch 0, fresh order). A
/// checkpoint whose order covers a different number of examples than `P`
/// (the data changed) keeps its epoch and stream but restarts the order
/// from file order, and `Note` says so. Malformed progress is an error
/// naming the file and the key.
Status loadCheckpoint(ModelInstance &I, const std::string &Path,
                      TrainProgress &P, bool &Resumed, std::string &Note);

} // namespace nnc::rt

#endif
