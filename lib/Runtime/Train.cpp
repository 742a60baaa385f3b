//===- Train.cpp - The `train` and `eval` commands ------------------------===//
//
// The epoch loop:
//   1. Create the slots, load the data (and the test set, if any), draw the
//      params from the seed, or load them from --load: plain weights start
//      a fresh run from those values; a checkpoint (Checkpoint.h) brings its
//      optimizer state, finished-epoch count, data-order stream and order,
//      and the run continues with the next epoch. --epochs is the total
//      (PyTorch Lightning's max_epochs), so a resumed run is the same
//      command line plus --load. Then set the hyperparameters.
//   2. Per epoch: shuffle the example order (Fisher–Yates with the run's own
//      PRNG, so the same seed gives the same order everywhere); for each
//      *full* batch, gather it into the input/target slots and call
//      train_step; check the loss and every param/state/grad slot for
//      non-finite values (stop with an error naming epoch, step and the
//      first bad tensor); accumulate loss and metrics. The final partial
//      batch is dropped (PyTorch's drop_last): the generated code has one
//      static batch size, and padding would bias the mean loss.
//   3. After each epoch: evaluate the test set, report, log, save the
//      checkpoint (atomically, so a kill leaves the previous or the new one).
// Evaluation also uses full batches only and says how many examples it
// covered.
//
#include "nnc/Runtime/Checkpoint.h"
#include "nnc/Runtime/Commands.h"
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Numerics.h"
#include "nnc/Runtime/Progress.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace nnc::rt {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point T) {
  return std::chrono::duration<double>(Clock::now() - T).count();
}

/// Mean loss and metrics over the full batches of a data set.
struct EvalResult {
  double Loss = 0;
  std::vector<double> Metrics;
  int64_t Examples = 0;
  /// A --check-numerics failure that stopped the evaluation (else empty).
  std::string Failure;
};

EvalResult evaluate(ModelInstance &I, const Dataset &D, const SampleLayout &L,
                    std::vector<int64_t> &Rows) {
  std::vector<SlotBuffer *> Metrics = I.withRole(NNC_SLOT_METRIC);
  SlotBuffer *Loss = I.withRole(NNC_SLOT_LOSS).front();
  EvalResult R;
  R.Metrics.assign(Metrics.size(), 0.0);
  int64_t B = I.batch();
  int64_t Steps = D.size() / B;
  for (int64_t S = 0; S < Steps; ++S) {
    for (int64_t J = 0; J < B; ++J)
      Rows[size_t(J)] = S * B + J;
    D.fillBatch(Rows.data(), B, L);
    I.model().eval_step(I.slotPointers());
    R.Failure = takeNumericsFailure();
    if (!R.Failure.empty())
      return R;
    R.Loss += Loss->scalar();
    for (size_t M = 0; M < Metrics.size(); ++M)
      R.Metrics[M] += Metrics[M]->scalar();
  }
  if (Steps > 0) {
    R.Loss /= double(Steps);
    for (double &M : R.Metrics)
      M /= double(Steps);
  }
  R.Examples = Steps * B;
  return R;
}

/// What became of the checkpoint when a run stops early (it is never
/// written with non-finite values).
std::string checkpointNote(const RunOptions &O, int64_t SavedEpoch) {
  if (O.Save.empty())
    return "";
  return SavedEpoch >= 0 ? "; " + O.Save + " keeps the checkpoint of epoch " +
                               std::to_string(SavedEpoch)
                         : "; " + O.Save + " was not written";
}

/// The error that stops a diverged run: where (epoch and step, 1-based),
/// the loss, the first non-finite param/state/grad slot, and what became
/// of the checkpoint. `Cause` is a --check-numerics failure, which names
/// the op that produced the first non-finite value instead.
Status divergence(const RunOptions &O, int64_t Epoch, int64_t Step, double Loss,
                  const SlotBuffer *Bad, int64_t SavedEpoch,
                  const std::string &Cause = "") {
  if (!Cause.empty())
    return Status::error(Cause + " (epoch " + std::to_string(Epoch) +
                         ", step " + std::to_string(Step) + ")" +
                         checkpointNote(O, SavedEpoch));
  // A NaN's sign means nothing; printf would show "-nan" for some.
  char LossText[32] = "nan";
  if (!std::isnan(Loss))
    std::snprintf(LossText, sizeof(LossText), "%g", Loss);
  std::string Where =
      " at epoch " + std::to_string(Epoch) + ", step " + std::to_string(Step);
  std::string Msg =
      std::isfinite(Loss)
          ? "non-finite values after the update" + Where + " (loss " +
                LossText + ")"
          : "non-finite loss (" + std::string(LossText) + ")" + Where;
  Msg += Bad ? "; first non-finite tensor: " + weightsKey(*Bad)
             : "; parameters and optimizer state are still finite";
  return Status::error(Msg + checkpointNote(O, SavedEpoch));
}

std::vector<std::string> metricNames(ModelInstance &I) {
  std::vector<std::string> Names;
  for (SlotBuffer *M : I.withRole(NNC_SLOT_METRIC))
    Names.emplace_back(M->name());
  return Names;
}

/// Checks that `M` can train/evaluate: it has entry points and one loss.
Status checkTrainable(const nnc_model &M, const char *Command) {
  if (!M.train_step || !M.eval_step)
    return Status::error("model '" + std::string(M.name) +
                         "' has no loss, so it cannot " + Command);
  int Losses = 0;
  for (int32_t S = 0; S < M.num_slots; ++S)
    Losses += M.slots[S].role == NNC_SLOT_LOSS;
  if (Losses != 1)
    return Status::error("invalid model descriptor: " + std::to_string(Losses) +
                         " loss slots");
  return Status();
}

Expected<Dataset> loadChecked(const DataSource &Src, const SampleLayout &L,
                              int64_t Batch, const char *What) {
  Expected<Dataset> D = loadData(Src, L);
  if (!D)
    return D;
  if (D->size() < Batch)
    return Status::error(
        Src.describe() + ": the " + What + " has " + std::to_string(D->size()) +
        " examples, fewer than one batch of " + std::to_string(Batch));
  return D;
}

} // namespace

Status runTrain(const nnc_model &M, const RunOptions &O) {
  if (Status S = checkTrainable(M, "train"))
    return S;
  Expected<std::unique_ptr<ModelInstance>> IOr = ModelInstance::create(&M);
  if (!IOr)
    return IOr.takeError();
  ModelInstance &I = **IOr;
  Expected<SampleLayout> L = sampleLayout(I);
  if (!L)
    return L.takeError();
  const nnc_train_spec &Spec = M.train;
  bool HasSpec = Spec.present != 0;
  int64_t Epochs = O.Epochs ? *O.Epochs : HasSpec ? Spec.epochs : 1;
  uint64_t Seed = O.Seed ? *O.Seed : HasSpec ? Spec.seed : 0;
  double Lr = O.Lr ? *O.Lr : Spec.lr;
  bool Shuffle = HasSpec ? Spec.shuffle != 0 : true;
  int64_t B = I.batch();

  nnc_data_spec NoData{};
  Expected<DataSource> Src =
      resolveData(M, O.Data, HasSpec ? Spec.data : NoData);
  if (!Src)
    return Src.takeError();
  if (Src->K == DataSource::None)
    return Status::error("model '" + std::string(M.name) +
                         "' has no training data; give --data");
  Expected<Dataset> Train = loadChecked(*Src, *L, B, "training set");
  if (!Train)
    return Train.takeError();
  DataSource TestSrc = DataSource::fromSpec(HasSpec ? Spec.test : NoData);
  std::optional<Dataset> Test;
  if (TestSrc.K != DataSource::None) {
    Expected<Dataset> T = loadChecked(TestSrc, *L, B, "test set");
    if (!T)
      return T.takeError();
    Test = std::move(*T);
  }

  I.initParams(Seed);
  TrainProgress P(Seed, Train->size());
  if (!O.Load.empty()) {
    bool Resumed;
    std::string Note;
    if (Status S = loadCheckpoint(I, O.Load, P, Resumed, Note))
      return S;
    if (!Note.empty())
      std::fprintf(stderr, "%s: note: %s\n", O.Program.c_str(), Note.c_str());
    if (Resumed && P.Epoch >= Epochs)
      std::printf("%s has finished %lld epochs; the target is %lld "
                  "(--epochs counts from the start), so there is nothing "
                  "to train\n",
                  O.Load.c_str(), (long long)P.Epoch, (long long)Epochs);
    else if (Resumed)
      std::printf("resuming from %s after epoch %lld of %lld\n", O.Load.c_str(),
                  (long long)P.Epoch, (long long)Epochs);
  }
  if (Status S = I.setHypers(Spec, Lr))
    return S;

  std::vector<std::string> Names = metricNames(I);
  CsvLog Log;
  if (!O.Log.empty())
    if (Status S = Log.open(O.Log, Names, Test.has_value()))
      return S;
  ProgressReporter Progress(stdout, isatty(STDOUT_FILENO), Epochs, Names);

  std::vector<SlotBuffer *> Metrics = I.withRole(NNC_SLOT_METRIC);
  SlotBuffer *Loss = I.withRole(NNC_SLOT_LOSS).front();
  std::vector<int64_t> Rows(static_cast<size_t>(B));
  int64_t Steps = Train->size() / B;
  // The last epoch whose checkpoint this run wrote, for the divergence
  // message (-1: none yet).
  int64_t SavedEpoch = -1;

  for (int64_t E = P.Epoch + 1; E <= Epochs; ++E) {
    Clock::time_point Start = Clock::now();
    if (Shuffle)
      for (size_t K = P.Order.size() - 1; K > 0; --K)
        std::swap(P.Order[K], P.Order[P.ShuffleRng.below(K + 1)]);
    EpochStats Stats;
    Stats.Epoch = E;
    Stats.Metrics.assign(Metrics.size(), 0.0);
    for (int64_t S = 0; S < Steps; ++S) {
      Train->fillBatch(P.Order.data() + S * B, B, *L);
      I.setDropoutKey(Seed, (E - 1) * Steps + S);
      M.train_step(I.slotPointers());
      // --check-numerics: the op that made the first non-finite value.
      if (std::string Cause = takeNumericsFailure(); !Cause.empty())
        return divergence(O, E, S + 1, Loss->scalar(), nullptr, SavedEpoch,
                          Cause);
      // Checked after every step, so a non-finite value is caught where it
      // appears and never reaches a checkpoint.
      double StepLoss = Loss->scalar();
      SlotBuffer *Bad = I.firstNonFinite();
      if (!std::isfinite(StepLoss) || Bad)
        return divergence(O, E, S + 1, StepLoss, Bad, SavedEpoch);
      Stats.Loss += StepLoss;
      for (size_t K = 0; K < Metrics.size(); ++K)
        Stats.Metrics[K] += Metrics[K]->scalar();
      Progress.step(E, S + 1, Steps, Stats.Loss / double(S + 1), (S + 1) * B,
                    secondsSince(Start));
    }
    Stats.Loss /= double(Steps);
    for (double &V : Stats.Metrics)
      V /= double(Steps);
    Stats.Examples = Steps * B;
    Stats.TrainSeconds = secondsSince(Start);
    if (Test) {
      EvalResult R = evaluate(I, *Test, *L, Rows);
      if (!R.Failure.empty())
        return Status::error(R.Failure + " (test set after epoch " +
                             std::to_string(E) + ")" +
                             checkpointNote(O, SavedEpoch));
      Stats.HasTest = true;
      Stats.TestLoss = R.Loss;
      Stats.TestMetrics = R.Metrics;
    }
    Stats.Seconds = secondsSince(Start);
    Progress.endEpoch(Stats);
    if (!O.Log.empty())
      if (Status S = Log.row(Stats))
        return S;
    // Saving every epoch means an interrupted run keeps its progress; the
    // write is atomic, so the file is always a complete epoch's checkpoint.
    P.Epoch = E;
    if (!O.Save.empty()) {
      if (Status S = saveCheckpoint(I, O.Save, P))
        return S;
      SavedEpoch = E;
    }
  }
  // No epoch ran (--epochs 0, or a checkpoint already at the target): the
  // file still gets the state as it stands.
  if (SavedEpoch < 0 && !O.Save.empty())
    if (Status S = saveCheckpoint(I, O.Save, P))
      return S;
  return Status();
}

Status runEval(const nnc_model &M, const RunOptions &O) {
  if (Status S = checkTrainable(M, "be evaluated"))
    return S;
  Expected<std::unique_ptr<ModelInstance>> IOr = ModelInstance::create(&M);
  if (!IOr)
    return IOr.takeError();
  ModelInstance &I = **IOr;
  Expected<SampleLayout> L = sampleLayout(I);
  if (!L)
    return L.takeError();
  const nnc_train_spec &Spec = M.train;
  nnc_data_spec NoData{};
  const nnc_data_spec &Default = !Spec.present    ? NoData
                                 : Spec.test.kind ? Spec.test
                                                  : Spec.data;
  Expected<DataSource> Src = resolveData(M, O.Data, Default);
  if (!Src)
    return Src.takeError();
  if (Src->K == DataSource::None)
    return Status::error("model '" + std::string(M.name) +
                         "' has no evaluation data; give --data");
  Expected<Dataset> D = loadChecked(*Src, *L, I.batch(), "data set");
  if (!D)
    return D.takeError();
  if (Status S = I.loadWeights(O.Load, /*WithState=*/false))
    return S;
  std::vector<int64_t> Rows(static_cast<size_t>(I.batch()));
  EvalResult R = evaluate(I, *D, *L, Rows);
  if (!R.Failure.empty())
    return Status::error(R.Failure);
  int64_t Left = D->size() - R.Examples;
  std::printf("evaluated %lld of %lld examples", (long long)R.Examples,
              (long long)D->size());
  if (Left)
    std::printf(" (batch %lld; the last %lld do not fill a batch)",
                (long long)I.batch(), (long long)Left);
  std::printf("\nloss %.4f", R.Loss);
  std::vector<std::string> Names = metricNames(I);
  for (size_t K = 0; K < Names.size(); ++K)
    std::printf("  %s %.4f", Names[K].c_str(), R.Metrics[K]);
  std::printf("\n");
  return Status();
}

} // namespace nnc::rt
