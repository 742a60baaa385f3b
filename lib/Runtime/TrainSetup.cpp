//===- TrainSetup.cpp - A training run up to its first epoch --------------===//
//
// The stages of TrainSetup.h. The order of the checks is the order of the
// errors a user sees, so it is the single-process order of old: the model,
// the train block, the data, the test set, --load; then the split, the
// params, the hyperparameters, the log. Under mpirun every stage ends in
// Team::agree, so that a rank that fails (a file only it cannot read)
// stops every rank instead of leaving them waiting.
//
//===----------------------------------------------------------------------===//
#include "TrainSetup.h"

#include "nnc/Runtime/Evaluate.h"
#include "nnc/Runtime/Random.h"

#include <cstdio>
#include <new>

namespace nnc::rt {

namespace {

/// Holds out the validation rows of `All` (none for `Fraction` 0) and
/// checks that one global batch (`T.size()` ranks × `Batch` rows) remains
/// for training.
Expected<TrainData> splitTrainData(Dataset All, const DataSource &Src,
                                   double Fraction, uint64_t Seed,
                                   int64_t Batch, const Team &T) {
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
  int64_t Global = Batch * T.size();
  if (D.Train.size() < Global)
    return Status::error(
        Src.describe() + ": the training set has " +
        std::to_string(D.Train.size()) + " examples" +
        (D.Val ? " besides the " + std::to_string(D.Val->size()) +
                     " held out for validation"
               : "") +
        ", fewer than one " +
        (T.distributed() ? "global batch of " + std::to_string(Global) + " (" +
                               std::to_string(T.size()) + " ranks x " +
                               std::to_string(Batch) + " rows)"
                         : "batch of " + std::to_string(Batch)));
  return D;
}

/// Reads the command line, the train block, the data and --load's file
/// into `S`: everything each rank does on its own before the ranks compare
/// what they read.
Status loadRun(const nnc_model &M, const RunOptions &O, const Team &T,
               TrainSetup &S) {
  if (Status E = checkTrainable(M, "train"))
    return E;
  if (T.distributed() && (!M.train_grad || !M.apply_update))
    return Status::error("model '" + std::string(M.name) +
                         "' cannot train on several processes: its update "
                         "reads more than the gradients (docs/distributed.md)");
  Expected<std::unique_ptr<ModelInstance>> IOr = ModelInstance::create(&M);
  if (!IOr)
    return IOr.takeError();
  S.Instance = std::move(*IOr);
  Expected<SampleLayout> L = sampleLayout(*S.Instance);
  if (!L)
    return L.takeError();
  S.L = *L;
  const nnc_train_spec &Spec = M.train;
  bool HasSpec = Spec.present != 0;
  S.Epochs = O.Epochs ? *O.Epochs : HasSpec ? Spec.epochs : 1;
  S.Seed = O.Seed ? *O.Seed : HasSpec ? Spec.seed : 0;
  S.Lr = O.Lr ? *O.Lr : Spec.lr;
  S.Shuffle = HasSpec ? Spec.shuffle != 0 : true;
  Expected<LrSchedule> Schedule = LrSchedule::fromSpec(Spec);
  if (!Schedule)
    return Schedule.takeError();
  S.Schedule = *Schedule;
  Expected<std::vector<Augmentation>> Augment = augmentationsFromSpec(Spec);
  if (!Augment)
    return Augment.takeError();
  S.Augment = std::move(*Augment);
  S.Validation = HasSpec ? Spec.validation : 0;
  S.Patience = HasSpec ? Spec.early_stop : 0;
  if (!(S.Validation >= 0 && S.Validation < 1) || S.Patience < 0 ||
      (S.Patience > 0 && S.Validation == 0))
    return Status::error("invalid model descriptor: validation " +
                         std::to_string(S.Validation) + ", early_stop " +
                         std::to_string(S.Patience));

  nnc_data_spec NoData{};
  Expected<DataSource> Src =
      resolveData(M, O.Data, HasSpec ? Spec.data : NoData);
  if (!Src)
    return Src.takeError();
  S.Src = *Src;
  if (S.Src.K == DataSource::None)
    return Status::error("model '" + std::string(M.name) +
                         "' has no training data; give --data");
  Expected<Dataset> All = loadData(S.Src, S.L);
  if (!All)
    return All.takeError();
  if (!S.Augment.empty())
    if (Status E = All->checkAugmentable(S.Src.describe()))
      return E;
  S.All = std::move(*All);
  DataSource TestSrc = DataSource::fromSpec(HasSpec ? Spec.test : NoData);
  if (TestSrc.K != DataSource::None) {
    Expected<Dataset> Test = loadEvalSet(TestSrc, S.L, "test set");
    if (!Test)
      return Test.takeError();
    S.Test = std::move(*Test);
  }

  // A checkpoint's seed is the run's: the split depends on it.
  if (!O.Load.empty()) {
    Expected<TensorFile> F = readTensorFile(O.Load);
    if (!F)
      return F.takeError();
    Expected<std::optional<uint64_t>> Saved = checkpointSeed(*F);
    if (!Saved)
      return Saved.takeError();
    S.Seed = Saved->value_or(S.Seed);
    S.LoadFile = std::move(*F);
  }
  return Status();
}

/// What the ranks must agree on before they split the data.
std::vector<SharedValue> sharedInputs(const nnc_model &M, const TrainSetup &S) {
  uint64_t Settings = hashBytes(&S.Epochs, sizeof(S.Epochs), S.Seed);
  Settings = hashBytes(&S.Lr, sizeof(S.Lr), Settings);
  return {
      {"the batch size B (rows per rank and step)", uint64_t(M.batch), false},
      {"the model (descriptor hash)", modelFingerprint(M)},
      {"the training data (hash)", S.All->fingerprint()},
      {"the test data (hash)", S.Test ? S.Test->fingerprint() : 0},
      {"the settings (hash of epochs, seed, learning rate)", Settings}};
}

/// Splits the data, sets the starting params (drawn or loaded) and the
/// hyperparameters, and opens the log: the rest of what comes before the
/// first epoch.
Status startRun(const nnc_model &M, const RunOptions &O, const Team &T,
                TrainSetup &S) {
  ModelInstance &I = *S.Instance;
  Expected<TrainData> Data = splitTrainData(std::move(*S.All), S.Src,
                                            S.Validation, S.Seed, I.batch(), T);
  S.All.reset();
  if (!Data)
    return Data.takeError();
  S.Data = std::move(*Data);

  I.initParams(S.Seed);
  S.Progress.emplace(S.Seed, S.Data->Train.size());
  TrainProgress &P = *S.Progress;
  if (S.LoadFile) {
    bool Resumed;
    std::string Note;
    if (Status E = loadCheckpoint(I, *S.LoadFile, P, Resumed, Note))
      return E;
    if (!Note.empty() && T.leader())
      std::fprintf(stderr, "%s: note: %s\n", O.Program.c_str(), Note.c_str());
    if (Resumed && P.Epoch >= S.Epochs && T.leader())
      std::printf("%s has finished %lld epochs; the target is %lld "
                  "(--epochs counts from the start), so there is nothing "
                  "to train\n",
                  O.Load.c_str(), (long long)P.Epoch, (long long)S.Epochs);
    else if (Resumed && T.leader())
      std::printf("resuming from %s after epoch %lld of %lld\n", O.Load.c_str(),
                  (long long)P.Epoch, (long long)S.Epochs);
  }
  if (Status E = I.setHypers(M.train, S.Lr))
    return E;
  if (S.Data->Val && T.leader())
    std::printf("validation: %lld of %lld examples held out\n",
                (long long)S.Data->Val->size(),
                (long long)(S.Data->Val->size() + S.Data->Train.size()));
  if (T.distributed()) {
    Expected<GradientAverager> A = GradientAverager::create(I, T);
    if (!A)
      return A.takeError();
    S.Averager.emplace(std::move(*A));
  }
  if (!O.Log.empty() && T.leader())
    if (Status E = S.Log.open(O.Log, metricNames(I), S.Data->Val.has_value(),
                              S.Test.has_value()))
      return E;
  return Status();
}

/// The outcome of one stage of the setup on this rank, running out of
/// memory included: an exception would leave the other ranks waiting for
/// this one in Team::agree.
template <typename StageFn> Status outcome(StageFn Stage) {
  try {
    return Stage();
  } catch (const std::bad_alloc &) {
    return Status::error("out of memory");
  }
}

} // namespace

Status setUpRun(const nnc_model &M, const RunOptions &O, const Team &T,
                TrainSetup &S) {
  if (Status E = T.agree(outcome([&] { return loadRun(M, O, T, S); })))
    return E;
  if (Status E = T.checkSame(sharedInputs(M, S)))
    return E;
  if (Status E = T.agree(outcome([&] { return startRun(M, O, T, S); })))
    return E;
  if (Status E = T.checkSame({{"the starting weights and progress (hash; "
                               "--load differs between the ranks?)",
                               startFingerprint(*S.Instance, *S.Progress)}}))
    return E;
  // Collective: only now that every rank is known to get here.
  if (S.Averager)
    S.Averager->connect(*S.Instance);
  return Status();
}

} // namespace nnc::rt
