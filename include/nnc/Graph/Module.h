//===- Module.h - The graphs and train settings of one .nn file -----------===//
//
// What semantic analysis hands to every later stage: a Module holds one Graph
// per `model` and one TrainConfig per `train` block (data sources, optimizer,
// learning-rate schedule, augmentation, validation, early stopping, epochs,
// seed), all validated. These are plain data in the IR's vocabulary,
// so Autodiff, the graph passes and the code generator read them without
// depending on the AST or on Sema (see docs/design.md, "Layering").
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_MODULE_H
#define NNC_GRAPH_MODULE_H

#include "nnc/Graph/Graph.h"
#include "nnc/Support/SourceLoc.h"

#include <llvm/ADT/StringRef.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace nnc {

/// `data = ...` / `test = ...` of a train block.
struct DataSpec {
  enum KindT : uint8_t { None, Idx, Csv } Kind = None;
  std::string Images, Labels; ///< idx(images, labels), resolved paths.
  double Scale = 1.0 / 255;   ///< idx: pixel scale.
  std::string Path;           ///< csv(path), resolved.
  std::vector<int64_t> InputCols, TargetCols;
  bool Header = false;
  SourceLoc Loc;
};

/// `optimizer = sgd(...)` (or adam, adamw, adagrad, rmsprop) of a train
/// block, and its `clip_norm` key: everything the update step needs
/// (docs/autodiff.md, "The optimizer update").
struct OptimizerSpec {
  enum KindT : uint8_t { Sgd, Adam, AdamW, Adagrad, RmsProp } Kind = Sgd;
  double Lr = 0.01;
  double Momentum = 0;                           ///< sgd, rmsprop
  double WeightDecay = 0;                        ///< sgd, adam, adamw
  bool Nesterov = false;                         ///< sgd
  double Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8; ///< adam, adamw (eps: all)
  double Alpha = 0.99;                           ///< rmsprop
  /// `clip_norm` of the train block: the gradients' global L2 norm is
  /// scaled down to at most this before the step; 0 = no clipping.
  double ClipNorm = 0;
  SourceLoc Loc;     ///< The optimizer call.
  SourceLoc ClipLoc; ///< The `clip_norm` value.
};

/// `schedule = ...` of a train block: the learning rate over the run
/// (docs/runtime.md, "Learning-rate schedules").
struct ScheduleSpec {
  enum KindT : uint8_t { Constant, Step, Cosine } Kind = Constant;
  int64_t Every = 1;  ///< step: epochs between two decays.
  double Gamma = 0.1; ///< step: the factor of each decay.
  int64_t Warmup = 0; ///< cosine: epochs of linear warm-up.
  SourceLoc Loc;
};

/// One entry of `augment = [...]` (docs/runtime.md, "Augmentation").
struct AugmentSpec {
  enum KindT : uint8_t { RandomCrop, HFlip } Kind = HFlip;
  int64_t Padding = 0; ///< random_crop: zero border added before the crop.
  SourceLoc Loc;
};

/// A validated `train NAME { ... }` block.
struct TrainConfig {
  std::string Model;
  SourceLoc Loc;
  DataSpec Data, Test;
  OptimizerSpec Optimizer;
  ScheduleSpec Schedule;
  std::vector<AugmentSpec> Augment; ///< Applied in this order.
  double Validation = 0;            ///< Fraction of the data held out; 0: none.
  int64_t EarlyStop = 0; ///< Patience in epochs; 0: no early stopping.
  int64_t Epochs = 1;
  bool Shuffle = true;
  uint64_t Seed = 0;
};

/// Everything one `.nn` file defines, in source order.
struct Module {
  /// The start of the source file, for errors about the file as a whole
  /// ("defines no model").
  SourceLoc Start;
  std::vector<std::unique_ptr<Graph>> Models; ///< In source order.
  std::vector<TrainConfig> Trains;            ///< In source order.
  /// The eval-mode graph of each model with mode-dependent ops (batchnorm,
  /// dropout), keyed by model name, once specializeModes has run; `Models`
  /// then hold the train-mode graphs. Models without such ops have none:
  /// their one graph serves both modes.
  std::map<std::string, std::unique_ptr<Graph>> EvalModels;

  /// The model named `Name`, or null.
  Graph *findModel(llvm::StringRef Name) const;
  /// The eval-mode graph of model `Name`, or null when it has none.
  Graph *findEvalModel(llvm::StringRef Name) const;
  /// The train block of model `Model`, or null when it has none.
  const TrainConfig *findTrain(llvm::StringRef Model) const;
};

} // namespace nnc

#endif
