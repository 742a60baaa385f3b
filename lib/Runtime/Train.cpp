//===- Train.cpp - The `train` command ------------------------------------===//
//
// The epoch loop:
//   1. (TrainSetup.cpp) Create the slots, load the data (and the test set, if
//   any). --load
//      is read first: a checkpoint's seed is the run's seed, since the
//      validation split and the augmentation depend on it. Hold out the
//      validation rows (`validation = f`), draw the params from the seed,
//      or load them from --load: plain weights start a fresh run from those
//      values; a checkpoint (Checkpoint.h) brings its optimizer state,
//      finished-epoch count, data-order stream and order, and the run
//      continues with the next epoch. --epochs is the total (PyTorch
//      Lightning's max_epochs), so a resumed run is the same command line
//      plus --load. Then set the hyperparameters.
//   2. Per epoch: shuffle the example order (Fisher–Yates with the run's own
//      PRNG, so the same seed gives the same order everywhere); for each
//      *full* batch, set the learning rate of its global step (Schedule.h),
//      gather it into the input/target slots (augmented, Augment.cpp) and
//      call train_step; check the loss and, when train_step says it wrote
//      a non-finite value (ModelABI.h), scan every param/state/buffer slot
//      for it (stop with an error naming epoch, step and the first bad
//      tensor); accumulate loss and metrics. The
//      final partial batch is dropped (PyTorch's drop_last): the generated code
//      has one static batch size, and a padded batch would bias the gradient.
//   3. After each epoch: evaluate the validation and test sets, report,
//      log, save the checkpoint (atomically, so a kill leaves the previous
//      or the new one). With early stopping, only an epoch that lowers the
//      validation loss is saved, and the run stops after `patience` epochs
//      without one.
// Evaluation (Evaluate.cpp) covers every row of the validation and test
// sets.
//
// Under mpirun (docs/distributed.md) each rank does all of the above on
// its own B rows of every global batch of N·B, with train_grad, the
// average of the ranks' gradients (DataParallel.h) and apply_update in
// place of train_step; the ranks check at the start that they agree on
// the batch, the model, the data, the settings and the starting weights;
// rank 0 alone prints, logs and saves. Without mpirun the Team is this
// process alone and every agreement is free.
//
#include "nnc/Runtime/Checkpoint.h"
#include "nnc/Runtime/Commands.h"
#include "nnc/Runtime/DataParallel.h"
#include "nnc/Runtime/Evaluate.h"
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Numerics.h"
#include "nnc/Runtime/Progress.h"
#include "nnc/Runtime/Schedule.h"

#include "TrainSetup.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <unistd.h>

namespace nnc::rt {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point T) {
  return std::chrono::duration<double>(Clock::now() - T).count();
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

/// Evaluates `D` (the validation or test set, `What`) after epoch `E`:
/// each rank its share of the batches, the sums added up in rank order.
Status evaluateSet(ModelInstance &I, const Dataset &D, const SampleLayout &L,
                   std::vector<int64_t> &Rows, const Team &T, EvalResult &R,
                   const char *What, int64_t E, const RunOptions &O,
                   int64_t SavedEpoch) {
  R = evaluateShare(I, D, L, Rows, T.rank(), T.size());
  Status Local;
  if (!R.Failure.empty())
    Local =
        Status::error(R.Failure + " (" + What + " after epoch " +
                      std::to_string(E) + ")" + checkpointNote(O, SavedEpoch));
  if (T.distributed()) {
    // Every rank adds up the same numbers; a failure anywhere shows in the
    // sum.
    std::vector<double> Sums{R.Loss};
    Sums.insert(Sums.end(), R.Metrics.begin(), R.Metrics.end());
    Sums.push_back(Local ? 1.0 : 0.0);
    T.sumInRankOrder(Sums);
    if (Sums.back() != 0)
      return T.agree(std::move(Local));
    R.Loss = Sums[0];
    std::copy(Sums.begin() + 1, Sums.end() - 1, R.Metrics.begin());
  } else if (Local) {
    return Local;
  }
  finishEvaluation(R, D.size(), I.batch());
  return Status();
}

} // namespace

Status runTrain(const nnc_model &M, const RunOptions &O) {
  Team T(O.World);
  TrainSetup Setup;
  if (Status E = setUpRun(M, O, T, Setup))
    return E;

  ModelInstance &I = *Setup.Instance;
  const SampleLayout &L = Setup.L;
  TrainProgress &P = *Setup.Progress;
  Dataset &Train = Setup.Data->Train;
  std::optional<Dataset> &Val = Setup.Data->Val;
  std::optional<Dataset> &Test = Setup.Test;
  const int64_t Epochs = Setup.Epochs, Patience = Setup.Patience;
  std::vector<std::string> Names = metricNames(I);
  // mpirun hands its ranks a pseudo-terminal whether or not it writes to
  // one, so a job prints epoch lines only, never the live bar.
  bool Live = isatty(STDOUT_FILENO) && !T.communicator();
  ProgressReporter Progress(stdout, Live, Epochs, Names);

  std::vector<SlotBuffer *> Metrics = I.withRole(NNC_SLOT_METRIC);
  SlotBuffer *Loss = I.withRole(NNC_SLOT_LOSS).front();
  int64_t B = I.batch();
  std::vector<int64_t> Rows(static_cast<size_t>(B));
  // One step's loss and metrics: this process's, or the ranks' means.
  std::vector<double> StepMetrics(Metrics.size());
  GradientAverager::Means Mean;
  // Rank r takes rows r·B ... r·B + B − 1 of each global batch of N·B.
  int64_t Global = B * T.size(), Offset = B * T.rank();
  int64_t Steps = Train.size() / Global;
  // The last epoch whose checkpoint this run wrote, for the divergence
  // message (-1: none yet).
  int64_t SavedEpoch = -1;
  // Early stopping: the best epoch (a checkpoint that recorded a best loss
  // is the best epoch's, see Checkpoint.h) and the epochs since.
  int64_t BestEpoch = std::isfinite(P.BestValLoss) ? P.Epoch : 0;
  int64_t SinceBest = 0;
  BatchAugment Aug{&Setup.Augment, P.Seed, 0, 0};
  bool NoEpoch = P.Epoch >= Epochs;
  // The entries report the non-finite values they write (ModelABI.h), so
  // the scan after a step is needed only when one did — given that every
  // slot was finite before it. A run that starts with a non-finite value
  // (loaded, or drawn from its initializer) scans after its first step,
  // which then reports it as it would any other.
  bool ScanNext = !NoEpoch && I.firstNonFinite();
  // Rank 0 writes the checkpoint; every rank learns whether it could.
  auto Save = [&]() {
    return T.agree(T.leader() ? saveCheckpoint(I, O.Save, P) : Status());
  };

  for (int64_t E = P.Epoch + 1; E <= Epochs; ++E) {
    Clock::time_point Start = Clock::now();
    if (Setup.Shuffle)
      for (size_t K = P.Order.size() - 1; K > 0; --K)
        std::swap(P.Order[K], P.Order[P.ShuffleRng.below(K + 1)]);
    EpochStats Stats;
    Stats.Epoch = E;
    Stats.Metrics.assign(Metrics.size(), 0.0);
    Aug.Epoch = E;
    for (int64_t S = 0; S < Steps; ++S) {
      int64_t Step = (E - 1) * Steps + S; // global, 0-based
      double Rate = Setup.Lr * Setup.Schedule.factor(Step, Steps, Epochs);
      if (S == 0)
        Stats.Lr = Rate;
      I.setLearningRate(Rate);
      Aug.Position = S * Global + Offset;
      Train.fillBatch(P.Order.data() + S * Global + Offset, B, L,
                      Setup.Augment.empty() ? nullptr : &Aug);
      // Each rank its own dropout masks; rank 0 of one process those of
      // the single-process run.
      I.setDropoutKey(P.Seed, Step * T.size() + T.rank());
      double StepLoss;
      // Whether the step wrote a NaN or an infinity into a param, state or
      // buffer slot, as the entries report it (ModelABI.h).
      bool WroteNonFinite;
      if (!T.distributed()) {
        WroteNonFinite = M.train_step(I.slotPointers()) != 0;
        StepLoss = Loss->scalar();
        for (size_t K = 0; K < Metrics.size(); ++K)
          StepMetrics[K] = Metrics[K]->scalar();
      } else {
        WroteNonFinite = M.train_grad(I.slotPointers()) != 0;
        std::string Cause = takeNumericsFailure();
        Setup.Averager->average(!Cause.empty(), Mean);
        if (Mean.AnyFailure)
          return T.agree(Cause.empty() ? Status()
                                       : divergence(O, E, S + 1, 0, nullptr,
                                                    SavedEpoch, Cause));
        // The buffers end the step as the ranks' means, which the averager
        // checked; every rank then has the same params, state and buffers,
        // so a scan on one rank finds what it finds on all.
        WroteNonFinite |= !Mean.BuffersFinite;
        WroteNonFinite |= M.apply_update(I.slotPointers()) != 0;
        StepLoss = Mean.Loss;
        StepMetrics = Mean.Metrics;
      }
      // --check-numerics: the op that made the first non-finite value.
      if (std::string Cause = takeNumericsFailure(); !Cause.empty())
        return divergence(O, E, S + 1, StepLoss, nullptr, SavedEpoch, Cause);
      // Checked after every step, so a non-finite value is caught where it
      // appears and never reaches a checkpoint; the scan that names the
      // first one runs only when there is one (and with a non-finite loss,
      // where the run stops anyway). The ranks share the loss, the params
      // and the flags' causes, so they all stop here alike.
      bool Scan = WroteNonFinite || ScanNext || !std::isfinite(StepLoss);
      ScanNext = false;
      SlotBuffer *Bad = Scan ? I.firstNonFinite() : nullptr;
      if (!std::isfinite(StepLoss) || Bad)
        return divergence(O, E, S + 1, StepLoss, Bad, SavedEpoch);
      Stats.Loss += StepLoss;
      for (size_t K = 0; K < Metrics.size(); ++K)
        Stats.Metrics[K] += StepMetrics[K];
      if (T.leader())
        Progress.step(E, S + 1, Steps, Stats.Loss / double(S + 1),
                      (S + 1) * Global, secondsSince(Start));
    }
    Stats.Loss /= double(Steps);
    for (double &V : Stats.Metrics)
      V /= double(Steps);
    Stats.Examples = Steps * Global;
    Stats.TrainSeconds = secondsSince(Start);
    for (auto [Set, What] :
         {std::pair{&Val, "validation set"}, std::pair{&Test, "test set"}}) {
      if (!*Set)
        continue;
      EvalResult R;
      if (Status Err =
              evaluateSet(I, **Set, L, Rows, T, R, What, E, O, SavedEpoch))
        return Err;
      bool IsVal = Set == &Val;
      (IsVal ? Stats.HasVal : Stats.HasTest) = true;
      (IsVal ? Stats.ValLoss : Stats.TestLoss) = R.Loss;
      (IsVal ? Stats.ValMetrics : Stats.TestMetrics) = R.Metrics;
    }
    Stats.Seconds = secondsSince(Start);
    if (T.leader())
      Progress.endEpoch(Stats);
    if (!O.Log.empty())
      if (Status Err = T.agree(T.leader() ? Setup.Log.row(Stats) : Status()))
        return Err;
    P.Epoch = E;
    // Early stopping keeps the best epoch: only a strictly lower validation
    // loss counts (a NaN never does).
    bool Improved = Patience > 0 && Stats.ValLoss < P.BestValLoss;
    if (Improved) {
      P.BestValLoss = Stats.ValLoss;
      BestEpoch = E;
      SinceBest = 0;
    } else if (Patience > 0) {
      ++SinceBest;
    }
    // Saving every epoch (every better one with early stopping) means an
    // interrupted run keeps its progress; the write is atomic, so the file
    // is always a complete epoch's checkpoint.
    if (!O.Save.empty() && (Patience == 0 || Improved)) {
      if (Status Err = Save())
        return Err;
      SavedEpoch = E;
    }
    if (Patience > 0 && SinceBest >= Patience) {
      if (!T.leader())
        break;
      std::printf("stopping early after epoch %lld: val_loss has not "
                  "improved for %lld epochs; the best is epoch %lld",
                  (long long)E, (long long)SinceBest, (long long)BestEpoch);
      if (BestEpoch > 0)
        std::printf(" (val_loss %.4f)", P.BestValLoss);
      if (SavedEpoch == BestEpoch)
        std::printf(", which %s holds", O.Save.c_str());
      else if (!O.Save.empty())
        std::printf("; no epoch of this run improved on it, so %s was not "
                    "written",
                    O.Save.c_str());
      std::printf("\n");
      break;
    }
  }
  // No epoch ran (--epochs 0, or a checkpoint already at the target): the
  // file still gets the state as it stands.
  if (NoEpoch && !O.Save.empty())
    if (Status Err = Save())
      return Err;
  return Status();
}

} // namespace nnc::rt
