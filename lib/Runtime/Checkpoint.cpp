//===- Checkpoint.cpp - Saving and restoring training progress ------------===//
//
// Loading trusts nothing in the file: the epoch must be a decimal count,
// the stream state well formed, and the order a permutation of the
// examples — an out-of-range index would otherwise make the batch gather
// read outside the data set. Metadata keys and the order tensor are all or
// nothing: a file with some but not all of them is reported, since
// resuming from half a checkpoint would silently not be exact. "seed" and
// "best_val_loss" are optional (checkpoints of earlier versions have no
// seed; only early stopping records a best loss), but checked when present.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Checkpoint.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>

namespace nnc::rt {

/// The data-order stream is derived from the seed by a constant of its own,
/// so that shuffling never shifts the parameter initializers' draws.
static constexpr uint64_t ShuffleStream = 0x73687566666c65ULL; // "shuffle"

TrainProgress::TrainProgress(uint64_t Seed, int64_t NumExamples)
    : Seed(Seed), ShuffleRng(Seed ^ ShuffleStream), Order(size_t(NumExamples)),
      BestValLoss(std::numeric_limits<double>::infinity()) {
  std::iota(Order.begin(), Order.end(), 0);
}

static const char EpochKey[] = "epoch";
static const char RngKey[] = "shuffle_rng";
static const char SeedKey[] = "seed";
static const char BestKey[] = "best_val_loss";

Status saveCheckpoint(ModelInstance &I, const std::string &Path,
                      const TrainProgress &P) {
  assert(P.Order.size() <= size_t(std::numeric_limits<int32_t>::max()) &&
         "a data set this large cannot be held in memory anyway");
  std::vector<int32_t> Order(P.Order.begin(), P.Order.end());
  std::vector<TensorRef> Extra = {
      {DataOrderKey, DType::I32, {int64_t(Order.size())}, Order.data()}};
  std::map<std::string, std::string> Meta = {
      {EpochKey, std::to_string(P.Epoch)},
      {RngKey, P.ShuffleRng.saveState()},
      {SeedKey, std::to_string(P.Seed)}};
  // %.17g gives back the same double through strtod.
  if (std::isfinite(P.BestValLoss)) {
    char Buf[32];
    std::snprintf(Buf, sizeof(Buf), "%.17g", P.BestValLoss);
    Meta[BestKey] = Buf;
  }
  return I.saveWeights(Path, /*WithState=*/true, Extra, Meta);
}

/// Parses a decimal number of at most `MaxDigits` digits, without sign,
/// spaces or overflow.
static bool parseDecimal(const std::string &S, size_t MaxDigits,
                         uint64_t &Out) {
  if (S.empty() || S.size() > MaxDigits)
    return false;
  Out = 0;
  for (char C : S) {
    if (C < '0' || C > '9')
      return false;
    if (Out > (std::numeric_limits<uint64_t>::max() - uint64_t(C - '0')) / 10)
      return false;
    Out = Out * 10 + uint64_t(C - '0');
  }
  return true;
}

/// Parses a non-negative decimal count without sign, spaces or overflow.
static bool parseCount(const std::string &S, int64_t &Out) {
  uint64_t V;
  if (!parseDecimal(S, 18, V))
    return false;
  Out = int64_t(V);
  return true;
}

Expected<std::optional<uint64_t>> checkpointSeed(const TensorFile &File) {
  auto It = File.Metadata.find(SeedKey);
  // Only a checkpoint's seed counts (a plain weights file starts afresh).
  if (It == File.Metadata.end() || !File.Metadata.count(EpochKey))
    return std::optional<uint64_t>();
  uint64_t Seed;
  if (!parseDecimal(It->second, 20, Seed))
    return Status::error(File.Path + ": checkpoint metadata '" + SeedKey +
                         "' is '" + It->second +
                         "', not a non-negative integer");
  return std::optional<uint64_t>(Seed);
}

/// Checks that `T` is an I32 permutation of [0, N) and converts it.
static Status readOrder(const std::string &Path, const StoredTensor &T,
                        std::vector<int64_t> &Order) {
  std::string Prefix = Path + ": tensor " + quoteForMessage(T.Name);
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
  return loadCheckpoint(I, *File, P, Resumed, Note);
}

Status loadCheckpoint(ModelInstance &I, const TensorFile &File,
                      TrainProgress &P, bool &Resumed, std::string &Note) {
  Resumed = false;
  const std::string &Path = File.Path;
  if (Status S = I.loadWeights(File, /*WithState=*/true))
    return S;

  auto EpochIt = File.Metadata.find(EpochKey);
  auto RngIt = File.Metadata.find(RngKey);
  const StoredTensor *OrderT = File.find(DataOrderKey);
  bool HasEpoch = EpochIt != File.Metadata.end();
  bool HasRng = RngIt != File.Metadata.end();
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
  Expected<std::optional<uint64_t>> Seed = checkpointSeed(File);
  if (!Seed)
    return Seed.takeError();
  double Best = std::numeric_limits<double>::infinity();
  if (auto It = File.Metadata.find(BestKey); It != File.Metadata.end()) {
    char *End = nullptr;
    Best = std::strtod(It->second.c_str(), &End);
    if (It->second.empty() || *End || !std::isfinite(Best))
      return Status::error(Path + ": checkpoint metadata '" + BestKey +
                           "' is '" + It->second + "', not a finite number");
  }

  P.Epoch = Epoch;
  if (*Seed)
    P.Seed = **Seed;
  P.BestValLoss = Best;
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
