//===- Checkpoint.cpp - Saving and restoring training progress ------------===//
//
// Loading trusts nothing in the file: the epoch must be a decimal count,
// the stream state well formed, and the order a permutation of the
// examples — an out-of-range index would otherwise make the batch gather
// read outside the data set. Metadata keys and the order tensor are all or
// nothing: a file with some but not all of them is reported, since
// resuming from half a checkpoint would silently not be exact.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Checkpoint.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>

namespace nnc::rt {

/// The data-order stream is derived from the seed by a constant of its own,
/// so that shuffling never shifts the parameter initializers' draws.
static constexpr uint64_t ShuffleStream = 0x73687566666c65ULL; // "shuffle"

TrainProgress::TrainProgress(uint64_t Seed, int64_t NumExamples)
    : ShuffleRng(Seed ^ ShuffleStream), Order(size_t(NumExamples)) {
  std::iota(Order.begin(), Order.end(), 0);
}

static const char EpochKey[] = "epoch";
static const char RngKey[] = "shuffle_rng";

Status saveCheckpoint(ModelInstance &I, const std::string &Path,
                      const TrainProgress &P) {
  assert(P.Order.size() <= size_t(std::numeric_limits<int32_t>::max()) &&
         "a data set this large cannot be held in memory anyway");
  std::vector<int32_t> Order(P.Order.begin(), P.Order.end());
  std::vector<TensorRef> Extra = {
      {DataOrderKey, DType::I32, {int64_t(Order.size())}, Order.data()}};
  return I.saveWeights(Path, /*WithState=*/true, Extra,
                       {{EpochKey, std::to_string(P.Epoch)},
                        {RngKey, P.ShuffleRng.saveState()}});
}

/// Parses a non-negative decimal count without sign, spaces or overflow.
static bool parseCount(const std::string &S, int64_t &Out) {
  if (S.empty() || S.size() > 18)
    return false;
  Out = 0;
  for (char C : S) {
    if (C < '0' || C > '9')
      return false;
    Out = Out * 10 + (C - '0');
  }
  return true;
}

/// Checks that `T` is an I32 permutation of [0, N) and converts it.
static Status readOrder(const std::string &Path, const StoredTensor &T,
                        std::vector<int64_t> &Order) {
  std::string Prefix = Path + ": tensor '" + T.Name + "'";
  if (T.Type != DType::I32 || T.Shape.size() != 1)
    return Status::error(Prefix + " is " + dtypeName(T.Type) +
                         shapeString(T.Shape) +
                         ", but a data order is a 1-D I32 tensor");
  size_t N = size_t(T.Shape[0]);
  std::vector<int32_t> Values(N);
  if (N)
    std::memcpy(Values.data(), T.Data.data(), N * 4);
  std::vector<bool> Seen(N);
  Order.resize(N);
  for (size_t K = 0; K < N; ++K) {
    int32_t V = Values[K];
    if (V < 0 || size_t(V) >= N || Seen[size_t(V)])
      return Status::error(Prefix + " is not a permutation of 0.." +
                           std::to_string(N > 0 ? N - 1 : 0) + ": element " +
                           std::to_string(K) + " is " + std::to_string(V));
    Seen[size_t(V)] = true;
    Order[K] = V;
  }
  return Status();
}

Status loadCheckpoint(ModelInstance &I, const std::string &Path,
                      TrainProgress &P, bool &Resumed, std::string &Note) {
  Resumed = false;
  Expected<TensorFile> File = readTensorFile(Path);
  if (!File)
    return File.takeError();
  if (Status S = I.loadWeights(*File, /*WithState=*/true))
    return S;

  auto EpochIt = File->Metadata.find(EpochKey);
  auto RngIt = File->Metadata.find(RngKey);
  const StoredTensor *OrderT = File->find(DataOrderKey);
  bool HasEpoch = EpochIt != File->Metadata.end();
  bool HasRng = RngIt != File->Metadata.end();
  if (!HasEpoch && !HasRng && !OrderT)
    return Status(); // Plain weights: a fresh run from these values.
  auto Missing = [&](const std::string &What) {
    return Status::error(Path + ": incomplete checkpoint: " + What +
                         " is missing");
  };
  if (!HasEpoch)
    return Missing("metadata '" + std::string(EpochKey) + "'");
  if (!HasRng)
    return Missing("metadata '" + std::string(RngKey) + "'");
  if (!OrderT)
    return Missing("tensor '" + std::string(DataOrderKey) + "'");

  int64_t Epoch;
  if (!parseCount(EpochIt->second, Epoch))
    return Status::error(Path + ": checkpoint metadata '" + EpochKey +
                         "' is '" + EpochIt->second +
                         "', not a non-negative integer");
  std::optional<Rng> Stream = Rng::fromState(RngIt->second);
  if (!Stream)
    return Status::error(Path + ": checkpoint metadata '" + RngKey + "' is '" +
                         RngIt->second +
                         "', not a generator state (4 hex words and a spare)");
  std::vector<int64_t> Order;
  if (Status S = readOrder(Path, *OrderT, Order))
    return S;

  P.Epoch = Epoch;
  P.ShuffleRng = *Stream;
  if (Order.size() == P.Order.size())
    P.Order = std::move(Order);
  else
    Note = Path + ": the checkpoint's data order covers " +
           std::to_string(Order.size()) +
           " examples, but the training set has " +
           std::to_string(P.Order.size()) +
           "; the order restarts from file order, so this run does not "
           "continue the saved one exactly";
  Resumed = true;
  return Status();
}

} // namespace nnc::rt
