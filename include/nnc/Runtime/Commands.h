//===- Commands.h - The executable's commands ------------------*- C++ -*-===//
//
// One function per command of docs/runtime.md ("Commands"), called by nnc_main
// after it has parsed the command line into RunOptions. Each returns a Status;
// nnc_main prints the error and chooses the exit code, so the commands never
// exit.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_COMMANDS_H
#define NNC_RUNTIME_COMMANDS_H

#include "nnc/Runtime/Dataset.h"
#include "nnc/Runtime/ModelABI.h"
#include "nnc/Runtime/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nnc::rt {

class Communicator;

/// Everything a command line can say; unset values fall back to the
/// model's train block.
struct RunOptions {
  /// show --images: the param to draw (into -o, which is `Out`).
  std::string Images;
  /// show --images --units N: draw only the first N units.
  std::optional<int64_t> Units;
  std::optional<int64_t> Epochs;
  std::optional<double> Lr;
  std::optional<uint64_t> Seed;
  std::string Load, Save, Log, Inputs, Out;
  std::vector<std::string> Data; ///< --data: IMAGES LABELS, or FILE.csv.
  std::string Operand;           ///< The positional argument (plot: FILE.csv).
  std::string Program; ///< The executable's name, for notes on stderr.
  /// The job's processes when mpirun started this one (`train` only;
  /// docs/distributed.md), else null.
  Communicator *World = nullptr;
};

/// The data set `--data` names (or, when empty, `Fallback`), in the form
/// the model's train block uses.
Expected<DataSource> resolveData(const nnc_model &M,
                                 const std::vector<std::string> &Data,
                                 const nnc_data_spec &Fallback);

Status runTrain(const nnc_model &M, const RunOptions &O);
Status runEval(const nnc_model &M, const RunOptions &O);
Status runPredict(const nnc_model &M, const RunOptions &O);
Status runGrad(const nnc_model &M, const RunOptions &O);
Status runInit(const nnc_model &M, const RunOptions &O);
/// `show --load W --images NAME -o OUT.png`, which `show` runs when given
/// `--images` or `-o`: the incoming weights of each unit the param NAME
/// feeds, as a PNG grid of greyscale tiles (WeightTiles.h, docs/runtime.md).
Status runShowImages(const nnc_model &M, const RunOptions &O);
/// `show`, the default command of a model without a train block: evaluates
/// the model once at its initial params (or `--load`) and prints every
/// output, then, if it has a loss, the loss and every `grad.NAME`. Only for
/// models without inputs or targets, since there is no data to feed them.
Status runShow(const nnc_model &M, const RunOptions &O);
/// `plot FILE.csv -o OUT.svg`: the curves of a `train --log` file as an SVG
/// picture (CurvePlot.h), written atomically.
Status runPlot(const nnc_model &M, const RunOptions &O);

} // namespace nnc::rt

#endif
