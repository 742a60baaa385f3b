//===- DataParallel.h - Training as one of the processes of a job -*- C++
//-*-===//
//
// `mpirun -np N EXE train` (docs/distributed.md): every process ("rank")
// holds the whole model and takes its B rows of every global batch of N·B
// rows; after each rank's train_grad the gradients are averaged, and every
// rank applies the same update to the same params, so the ranks stay
// identical without ever sending params. What the ranks must agree on is
// checked at the start (the batch, the model, the data, the settings, the
// starting weights), and every decision that could differ between ranks —
// a failure, a non-finite loss, early stopping — is taken on values the
// ranks share, so that all of them go the same way.
//
// A Team without a communicator is one process training alone: every
// operation below is then the identity, so the single-process path does
// no extra work.
//
// Reductions sum the ranks' values in rank order (rank 0 + rank 1 + ...),
// whatever MPI's own algorithms would do, so a job's results are the same
// bits from run to run: data moves with MPI's all-to-all and all-gather,
// the additions are ours.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_DATAPARALLEL_H
#define NNC_RUNTIME_DATAPARALLEL_H

#include "nnc/Runtime/Checkpoint.h"
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Mpi.h"
#include "nnc/Runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnc::rt {

/// One value every rank must have alike, and what it is for messages.
struct SharedValue {
  std::string What; ///< "the model (descriptor hash)", "the batch size"
  uint64_t Value;
  bool Hash = true; ///< Printed in hex (a hash) or in decimal (a count).
};

/// The processes training together: this one alone, or the job's ranks.
class Team {
public:
  /// `World` null: a single process.
  explicit Team(Communicator *World) : World(World) {}

  int rank() const { return World ? World->rank() : 0; }
  int size() const { return World ? World->size() : 1; }
  /// Rank 0, the one that prints and writes files.
  bool leader() const { return rank() == 0; }
  /// More than one process: gradients are averaged between the halves of
  /// the training step.
  bool distributed() const { return size() > 1; }

  /// Every rank's outcome of the same stage, as one verdict on every rank:
  /// success when all succeeded, else the error of the lowest failing rank
  /// (prefixed with "rank R: " unless R is 0). Errors are printed by rank 0
  /// alone, so a failure only some ranks see must go through here, or the
  /// others would wait for them forever.
  Status agree(Status Local) const;

  /// Fails, on every rank, when some rank's value of an item differs from
  /// rank 0's, naming the first such item and rank.
  Status checkSame(const std::vector<SharedValue> &Items) const;

  /// Replaces `Values` on every rank with the sum over ranks of each
  /// rank's `Values` (all of the same length), added in rank order.
  void sumInRankOrder(std::vector<double> &Values) const;

  Communicator *communicator() const { return World; }

private:
  Communicator *World;
};

/// The mean over ranks of everything train_grad writes that must be the
/// same on every rank before apply_update: every gradient and buffer
/// (batchnorm's running statistics: each rank's own batches moved them),
/// the loss, the metrics, and whether a rank's --check-numerics caught a
/// non-finite value.
class GradientAverager {
public:
  /// Fails when a grad or buffer slot is not f32 (nothing to average).
  /// Local: every rank gets the same answer for the same model.
  static Expected<GradientAverager> create(ModelInstance &I, const Team &T);
  /// Chooses how to average (collective, so only once the ranks agree):
  /// ranks all on one machine average in memory they share, and `I`'s grad
  /// and buffer slots move into it, so train_grad writes where the other
  /// ranks read; `NNC_MPI_SHARED=0` (or ranks on several machines) keeps
  /// them in place and sends messages. Every way gives the same bits.
  void connect(ModelInstance &I);

  /// The job's means of one step.
  struct Means {
    double Loss = 0;
    std::vector<double> Metrics; ///< In METRIC slot order.
    bool AnyFailure = false;     ///< Some rank's numerics check failed.
    /// Every mean written into a buffer slot is finite (a rank's
    /// non-finite value makes its mean non-finite, and a mean of finite
    /// values can overflow); the same on every rank.
    bool BuffersFinite = true;
  };
  /// After train_grad on every rank: writes the means into the grad and
  /// buffer slots, and the loss, metrics, failure flag and whether the
  /// buffers' means are finite into `Out`.
  /// `LocalFailure`: this rank's numerics check failed.
  void average(bool LocalFailure, Means &Out);

private:
  explicit GradientAverager(const Team &T) : T(&T) {}
  /// Two ranks: each sends its values and adds the other's.
  void averagePair();
  /// More ranks: each reduces a slice and gathers the others' slices.
  void averageMany();
  /// One machine: each rank reduces a slice of every rank's segment.
  void averageShared();

  const Team *T;
  /// What is averaged: every grad slot, every buffer slot, then the tail.
  std::vector<SlotBuffer *> Slots;
  std::vector<Communicator::Piece> Parts;
  SlotBuffer *Loss = nullptr;
  std::vector<SlotBuffer *> Metrics;
  /// The tail: the loss, the metrics and the failure flag (1 or 0), in
  /// TailStorage or, shared, at the end of this rank's segment.
  std::vector<float> TailStorage;
  float *Tail = nullptr;
  size_t TailFloats = 0;
  size_t Total = 0; ///< Floats in Parts.
  /// One machine: every rank's segment (the slots, each from a multiple of
  /// 16 floats, then the tail), and the floats [SliceBegin, SliceEnd)
  /// this rank reduces.
  std::vector<float *> Segments;
  size_t SegmentFloats = 0, SliceBegin = 0, SliceEnd = 0;
  size_t Chunk = 0; ///< More ranks: floats each reduces (a multiple of 16).
  /// Two ranks: Recv holds the other's values (Total floats), arriving in
  /// the pieces RecvParts. More ranks: N·Chunk floats each, this rank's
  /// values packed (then everyone's means) and the slices it receives;
  /// Reduced, Chunk floats, the slice it reduces.
  std::vector<float> Send, Recv, Reduced;
  std::vector<Communicator::Piece> RecvParts;
};

/// A hash of everything the descriptor says about the model: slots (names,
/// roles, types, shapes, initializers), the train block and the batch —
/// not its addresses, so two builds of one model agree.
uint64_t modelFingerprint(const nnc_model &M);

/// A hash of where training starts: every param, state and buffer value,
/// and the progress a checkpoint restores.
uint64_t startFingerprint(ModelInstance &I, const TrainProgress &P);

} // namespace nnc::rt

#endif
