//===- Progress.h - Per-epoch reporting and the CSV log --------*- C++ -*-===//
//
// Training shows progress the way users of Keras expect: on a terminal a
// live bar (redrawn with '\r') with the running loss, examples/s and an
// ETA, ending in one summary line per epoch; when stdout is not a terminal
// (a pipe, a file, a lit test) only the summary lines, e.g.
//
//   epoch 1/5  loss 0.5123  accuracy 0.8123  val_loss 0.4321
//   val_accuracy 0.8456  test_loss 0.4567  test_accuracy 0.8345
//   12345 ex/s  4.9 s                                (all on one line)
//
// `--log FILE.csv` gets the same numbers, and the learning rate of the
// epoch's first step, as one CSV row per epoch.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_PROGRESS_H
#define NNC_RUNTIME_PROGRESS_H

#include "nnc/Runtime/Status.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace nnc::rt {

/// The numbers of one finished epoch.
struct EpochStats {
  int64_t Epoch = 0; ///< 1-based.
  double Lr = 0;     ///< The learning rate of the epoch's first step.
  double Loss = 0;
  std::vector<double> Metrics;
  bool HasVal = false; ///< The validation set's loss and metrics.
  double ValLoss = 0;
  std::vector<double> ValMetrics;
  bool HasTest = false;
  double TestLoss = 0;
  std::vector<double> TestMetrics;
  int64_t Examples = 0;    ///< Training examples seen this epoch.
  double TrainSeconds = 0; ///< Training steps only (for examples/s).
  double Seconds = 0;      ///< The whole epoch, test evaluation included.
};

/// Draws the progress bar and prints the epoch summaries.
class ProgressReporter {
public:
  /// `Live`: draw the bar (stdout is a terminal).
  ProgressReporter(FILE *Out, bool Live, int64_t Epochs,
                   std::vector<std::string> MetricNames);
  /// After each step: `Done` of `Steps` steps of epoch `Epoch` (1-based),
  /// `Loss` the running mean. Redraws at most ~10 times a second.
  void step(int64_t Epoch, int64_t Done, int64_t Steps, double Loss,
            int64_t Examples, double Seconds);
  /// Prints the summary line of an epoch.
  void endEpoch(const EpochStats &S);
  /// The summary line (without newline).
  std::string summary(const EpochStats &S) const;

private:
  FILE *Out;
  bool Live;
  int64_t Epochs;
  std::vector<std::string> MetricNames;
  std::chrono::steady_clock::time_point LastDraw;
  double TotalSeconds = 0; ///< Finished epochs, for the ETA.
  /// Epochs finished in this run (a resumed run starts past epoch 1).
  int64_t Finished = 0;
};

/// The `--log FILE.csv` writer: a header, then one row per epoch, flushed
/// as it goes so a long run can be watched.
class CsvLog {
public:
  ~CsvLog();
  /// Creates `Path` and writes the header `epoch,lr,loss,<metrics>
  /// [,val_loss,val_<metrics>][,test_loss,test_<metrics>],seconds`.
  Status open(const std::string &Path, const std::vector<std::string> &Metrics,
              bool HasVal, bool HasTest);
  /// Appends one row.
  Status row(const EpochStats &S);

private:
  FILE *F = nullptr;
  std::string Path;
};

} // namespace nnc::rt

#endif
