//===- Train.cpp - The `train` command ------------------------------------===//
//
// The epoch loop:
//   1. Create the slots, load the data (and the test set, if any). --load
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
//      call train_step; check the loss and every param/state/grad slot for
//      non-finite values (stop with an error naming epoch, step and the
//      first bad tensor); accumulate loss and metrics. The final partial
//      batch is dropped (PyTorch's drop_last): the generated code has one
//      static batch size, and a padded batch would bias the gradient.
//   3. After each epoch: evaluate the validation and test sets, report,
//      log, save the checkpoint (atomically, so a kill leaves the previous
//      or the new one). With early stopping, only an epoch that lowers the
//      validation loss is saved, and the run stops after `patience` epochs
//      without one.
// Evaluation (Evaluate.cpp) covers every row of the validation and test
// sets.
//
#include "nnc/Runtime/Checkpoint.h"
#include "nnc/Runtime/Commands.h"
#include "nnc/Runtime/Evaluate.h"
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Numerics.h"
#include "nnc/Runtime/Progress.h"
#include "nnc/Runtime/Schedule.h"

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

/// What `runTrain` trains on: the training rows and, with `validation = f`,
/// the held-out rows.
struct TrainData {
  Dataset Train;
  std::optional<Dataset> Val;
};

/// Holds out the validation rows of `All` (none for `Fraction` 0) and
/// checks that a batch remains for training.
Expected<TrainData> splitTrainData(Dataset All, const DataSource &Src,
                                   double Fraction, uint64_t Seed,
                                   int64_t Batch) {
  TrainData D;
  if (Fraction <= 0) {
    D.Train = std::move(All);
  } else {
    std::vector<int64_t> TrainRows, HeldRows;
    splitValidation(All.size(), Fraction, Seed, TrainRows, HeldRows);
    if (HeldRows.empty()) {
      char Text[32];
      std::snprintf(Text, sizeof(Text), "%g", Fraction);
      return Status::error(Src.describe() + ": validation = " + Text + " of " +
                           std::to_string(All.size()) +
                           " examples holds out none");
    }
    D.Val = All.select(HeldRows);
    D.Train = All.select(TrainRows);
  }
  if (D.Train.size() < Batch)
    return Status::error(Src.describe() + ": the training set has " +
                         std::to_string(D.Train.size()) + " examples" +
                         (D.Val ? " besides the " +
                                      std::to_string(D.Val->size()) +
                                      " held out for validation"
                                : "") +
                         ", fewer than one batch of " + std::to_string(Batch));
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
  Expected<LrSchedule> Schedule = LrSchedule::fromSpec(Spec);
  if (!Schedule)
    return Schedule.takeError();
  Expected<std::vector<Augmentation>> Augment = augmentationsFromSpec(Spec);
  if (!Augment)
    return Augment.takeError();
  double Validation = HasSpec ? Spec.validation : 0;
  int64_t Patience = HasSpec ? Spec.early_stop : 0;
  if (!(Validation >= 0 && Validation < 1) || Patience < 0 ||
      (Patience > 0 && Validation == 0))
    return Status::error("invalid model descriptor: validation " +
                         std::to_string(Validation) + ", early_stop " +
                         std::to_string(Patience));

  nnc_data_spec NoData{};
  Expected<DataSource> Src =
      resolveData(M, O.Data, HasSpec ? Spec.data : NoData);
  if (!Src)
    return Src.takeError();
  if (Src->K == DataSource::None)
    return Status::error("model '" + std::string(M.name) +
                         "' has no training data; give --data");
  Expected<Dataset> All = loadData(*Src, *L);
  if (!All)
    return All.takeError();
  if (!Augment->empty())
    if (Status S = All->checkAugmentable(Src->describe()))
      return S;
  DataSource TestSrc = DataSource::fromSpec(HasSpec ? Spec.test : NoData);
  std::optional<Dataset> Test;
  if (TestSrc.K != DataSource::None) {
    Expected<Dataset> T = loadEvalSet(TestSrc, *L, "test set");
    if (!T)
      return T.takeError();
    Test = std::move(*T);
  }

  // A checkpoint's seed is the run's: the split depends on it.
  std::optional<TensorFile> LoadFile;
  if (!O.Load.empty()) {
    Expected<TensorFile> F = readTensorFile(O.Load);
    if (!F)
      return F.takeError();
    Expected<std::optional<uint64_t>> Saved = checkpointSeed(*F);
    if (!Saved)
      return Saved.takeError();
    Seed = Saved->value_or(Seed);
    LoadFile = std::move(*F);
  }
  Expected<TrainData> Data =
      splitTrainData(std::move(*All), *Src, Validation, Seed, B);
  if (!Data)
    return Data.takeError();
  Dataset &Train = Data->Train;
  std::optional<Dataset> &Val = Data->Val;

  I.initParams(Seed);
  TrainProgress P(Seed, Train.size());
  if (LoadFile) {
    bool Resumed;
    std::string Note;
    if (Status S = loadCheckpoint(I, *LoadFile, P, Resumed, Note))
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
  if (Val)
    std::printf("validation: %lld of %lld examples held out\n",
                (long long)Val->size(),
                (long long)(Val->size() + Train.size()));

  std::vector<std::string> Names = metricNames(I);
  CsvLog Log;
  if (!O.Log.empty())
    if (Status S = Log.open(O.Log, Names, Val.has_value(), Test.has_value()))
      return S;
  ProgressReporter Progress(stdout, isatty(STDOUT_FILENO), Epochs, Names);

  std::vector<SlotBuffer *> Metrics = I.withRole(NNC_SLOT_METRIC);
  SlotBuffer *Loss = I.withRole(NNC_SLOT_LOSS).front();
  std::vector<int64_t> Rows(static_cast<size_t>(B));
  int64_t Steps = Train.size() / B;
  // The last epoch whose checkpoint this run wrote, for the divergence
  // message (-1: none yet).
  int64_t SavedEpoch = -1;
  // Early stopping: the best epoch (a checkpoint that recorded a best loss
  // is the best epoch's, see Checkpoint.h) and the epochs since.
  int64_t BestEpoch = std::isfinite(P.BestValLoss) ? P.Epoch : 0;
  int64_t SinceBest = 0;
  BatchAugment Aug{&*Augment, P.Seed, 0, 0};
  bool NoEpoch = P.Epoch >= Epochs;

  for (int64_t E = P.Epoch + 1; E <= Epochs; ++E) {
    Clock::time_point Start = Clock::now();
    if (Shuffle)
      for (size_t K = P.Order.size() - 1; K > 0; --K)
        std::swap(P.Order[K], P.Order[P.ShuffleRng.below(K + 1)]);
    EpochStats Stats;
    Stats.Epoch = E;
    Stats.Metrics.assign(Metrics.size(), 0.0);
    Aug.Epoch = E;
    for (int64_t S = 0; S < Steps; ++S) {
      int64_t Step = (E - 1) * Steps + S; // global, 0-based
      double Rate = Lr * Schedule->factor(Step, Steps, Epochs);
      if (S == 0)
        Stats.Lr = Rate;
      I.setLearningRate(Rate);
      Aug.Position = S * B;
      Train.fillBatch(P.Order.data() + S * B, B, *L,
                      Augment->empty() ? nullptr : &Aug);
      I.setDropoutKey(P.Seed, Step);
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
    for (auto [Set, What] :
         {std::pair{&Val, "validation set"}, std::pair{&Test, "test set"}}) {
      if (!*Set)
        continue;
      EvalResult R = evaluate(I, **Set, *L, Rows);
      if (!R.Failure.empty())
        return Status::error(R.Failure + " (" + What + " after epoch " +
                             std::to_string(E) + ")" +
                             checkpointNote(O, SavedEpoch));
      bool IsVal = Set == &Val;
      (IsVal ? Stats.HasVal : Stats.HasTest) = true;
      (IsVal ? Stats.ValLoss : Stats.TestLoss) = R.Loss;
      (IsVal ? Stats.ValMetrics : Stats.TestMetrics) = R.Metrics;
    }
    Stats.Seconds = secondsSince(Start);
    Progress.endEpoch(Stats);
    if (!O.Log.empty())
      if (Status S = Log.row(Stats))
        return S;
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
      if (Status S = saveCheckpoint(I, O.Save, P))
        return S;
      SavedEpoch = E;
    }
    if (Patience > 0 && SinceBest >= Patience) {
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
    if (Status S = saveCheckpoint(I, O.Save, P))
      return S;
  return Status();
}

} // namespace nnc::rt
