//===- Evaluate.h - Loss and metrics over a whole data set -----*- C++ -*-===//
//
// What `eval`, and `train` after every epoch on its validation and test
// sets, compute: the mean loss and metrics over every row of a data set,
// though the generated eval_step only takes full batches of one static
// size (docs/runtime.md, "Evaluation"). Also the checks and helpers the
// `train` and `eval` commands share.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_EVALUATE_H
#define NNC_RUNTIME_EVALUATE_H

#include "nnc/Runtime/Dataset.h"
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnc::rt {

/// Mean loss and metrics over every row of a data set.
struct EvalResult {
  double Loss = 0;
  std::vector<double> Metrics; ///< In METRIC slot order.
  int64_t Examples = 0;
  /// A --check-numerics failure that stopped the evaluation (else empty).
  std::string Failure;
};

/// Evaluates every row of `D` with the model's eval_step. eval_step
/// computes each value as one number over a static batch of B rows; for a
/// value that is a mean (or sum) of per-row terms — every built-in loss
/// and accuracy-style metric; eval mode has no batch statistics — the last
/// r < B rows still count exactly:
///   1. each full batch b gives L_b;
///   2. the r rows followed by B − r copies of the last row j give L_pad;
///   3. B copies of row j give L_rep, row j's own term;
///   4. the r rows' share in the units of a full batch is
///      L_pad − (B − r)/B · L_rep, and the data set's value is
///      (Σ L_b + share) · B / N.
/// `Rows` is scratch of B entries.
EvalResult evaluate(ModelInstance &I, const Dataset &D, const SampleLayout &L,
                    std::vector<int64_t> &Rows);

/// Steps 1-3 of `evaluate` over the batches numbered Part, Part + Parts,
/// ... (the partial batch is number ⌊N/B⌋): the weighted sums of the
/// values, not yet divided. The ranks of an MPI job each take one part
/// and add their sums up (DataParallel.h).
EvalResult evaluateShare(ModelInstance &I, const Dataset &D,
                         const SampleLayout &L, std::vector<int64_t> &Rows,
                         int64_t Part, int64_t Parts);

/// Step 4 of `evaluate`: the sums of all parts of a data set of `N` rows,
/// at batch `B`, into means.
void finishEvaluation(EvalResult &R, int64_t N, int64_t B);

/// Loads a data set to evaluate (every row counts, so one row is enough);
/// `What` names it in messages ("test set").
Expected<Dataset> loadEvalSet(const DataSource &Src, const SampleLayout &L,
                              const char *What);

/// Checks that `M` can train/evaluate: it has entry points and one loss.
Status checkTrainable(const nnc_model &M, const char *Command);

/// The names of the METRIC slots, in slot order.
std::vector<std::string> metricNames(ModelInstance &I);

} // namespace nnc::rt

#endif
