//===- Evaluate.cpp - The `eval` command, and evaluation of a data set ----===//
//
// Every row of a data set counts: the full batches as they are, then the
// last partial batch padded with copies of its last row, whose share is
// taken out again by one more batch of only that row (the algorithm is
// Evaluate.h's). The assumption behind it — each loss and metric is a mean
// or a sum of per-row terms — holds for every built-in loss and for
// accuracy-style metrics, and eval mode has no batch statistics; a metric
// such as the batch maximum would not be exact on the partial batch.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Evaluate.h"
#include "nnc/Runtime/Commands.h"
#include "nnc/Runtime/Numerics.h"

#include <algorithm>
#include <cstdio>

namespace nnc::rt {

EvalResult evaluateShare(ModelInstance &I, const Dataset &D,
                         const SampleLayout &L, std::vector<int64_t> &Rows,
                         int64_t Part, int64_t Parts) {
  std::vector<SlotBuffer *> Metrics = I.withRole(NNC_SLOT_METRIC);
  SlotBuffer *Loss = I.withRole(NNC_SLOT_LOSS).front();
  EvalResult R;
  R.Metrics.assign(Metrics.size(), 0.0);
  int64_t B = I.batch(), N = D.size();
  // Runs eval_step on `Rows` and adds Weight times its values to R.
  auto Run = [&](double Weight) {
    D.fillBatch(Rows.data(), B, L);
    I.model().eval_step(I.slotPointers());
    R.Failure = takeNumericsFailure();
    R.Loss += Weight * Loss->scalar();
    for (size_t M = 0; M < Metrics.size(); ++M)
      R.Metrics[M] += Weight * Metrics[M]->scalar();
    return R.Failure.empty();
  };
  // 1. Full batches: this part's share of them.
  int64_t Full = N / B, Rest = N % B;
  for (int64_t S = Part; S < Full; S += Parts) {
    for (int64_t J = 0; J < B; ++J)
      Rows[size_t(J)] = S * B + J;
    if (!Run(1.0))
      return R;
  }
  // The partial batch counts as batch number `Full`.
  if (Rest > 0 && Full % Parts == Part) {
    // 2. The partial batch, padded with its last row.
    int64_t Last = N - 1;
    for (int64_t J = 0; J < B; ++J)
      Rows[size_t(J)] = std::min(Full * B + J, Last);
    if (!Run(1.0))
      return R;
    // 3.-4. The padding's share taken out again.
    std::fill(Rows.begin(), Rows.end(), Last);
    if (!Run(-double(B - Rest) / double(B)))
      return R;
  }
  R.Examples = N;
  return R;
}

void finishEvaluation(EvalResult &R, int64_t N, int64_t B) {
  // (Σ + share) · B / N, written so that without a partial batch it is
  // exactly the mean over the batches.
  double Batches = double(N) / double(B);
  if (N > 0) {
    R.Loss /= Batches;
    for (double &M : R.Metrics)
      M /= Batches;
  }
  R.Examples = N;
}

EvalResult evaluate(ModelInstance &I, const Dataset &D, const SampleLayout &L,
                    std::vector<int64_t> &Rows) {
  EvalResult R = evaluateShare(I, D, L, Rows, 0, 1);
  if (R.Failure.empty())
    finishEvaluation(R, D.size(), I.batch());
  return R;
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

/// Loads a data set to evaluate (every row counts, so one row is enough).
Expected<Dataset> loadEvalSet(const DataSource &Src, const SampleLayout &L,
                              const char *What) {
  Expected<Dataset> D = loadData(Src, L);
  if (!D)
    return D;
  if (D->size() == 0)
    return Status::error(Src.describe() + ": the " + What + " has no examples");
  return D;
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
  Expected<Dataset> D = loadEvalSet(*Src, *L, "data set");
  if (!D)
    return D.takeError();
  if (Status S = I.loadWeights(O.Load, /*WithState=*/false))
    return S;
  std::vector<int64_t> Rows(static_cast<size_t>(I.batch()));
  EvalResult R = evaluate(I, *D, *L, Rows);
  if (!R.Failure.empty())
    return Status::error(R.Failure);
  std::printf("evaluated %lld of %lld examples\nloss %.4f",
              (long long)R.Examples, (long long)D->size(), R.Loss);
  std::vector<std::string> Names = metricNames(I);
  for (size_t K = 0; K < Names.size(); ++K)
    std::printf("  %s %.4f", Names[K].c_str(), R.Metrics[K]);
  std::printf("\n");
  return Status();
}

} // namespace nnc::rt
