//===- Sema.h - From AST to typed graphs ----------------------------------===//
//
// Semantic analysis turns a parsed File into a Module: one Graph per `model`
// (names resolved, `fn` calls expanded, every value shape- and dtype-checked
// with NumPy broadcasting, SPEC built-ins decomposed into the primitive ops
// of Ops.def) and one TrainConfig per `train` block (validated, paths
// resolved against the `.nn` file's folder). Errors go to the DiagEngine;
// analysis continues past independent errors.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_SEMA_SEMA_H
#define NNC_SEMA_SEMA_H

#include "nnc/Graph/Graph.h"
#include "nnc/Parse/AST.h"
#include "nnc/Support/Diagnostics.h"

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

struct OptimizerSpec {
  enum KindT : uint8_t { Sgd, Adam } Kind = Sgd;
  double Lr = 0.01;
  double Momentum = 0, WeightDecay = 0;          ///< sgd
  double Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8; ///< adam
  SourceLoc Loc;
};

/// A validated `train NAME { ... }` block.
struct TrainConfig {
  std::string Model;
  SourceLoc Loc;
  DataSpec Data, Test;
  OptimizerSpec Optimizer;
  int64_t Epochs = 1;
  bool Shuffle = true;
  uint64_t Seed = 0;
};

struct Module {
  std::vector<std::unique_ptr<Graph>> Models; ///< In source order.
  std::vector<TrainConfig> Trains;            ///< In source order.

  Graph *findModel(llvm::StringRef Name) const;
  const TrainConfig *findTrain(llvm::StringRef Model) const;
};

/// Checks `File` and builds its graphs. Returns null if any error was
/// reported. `BaseDir` is the folder relative data paths resolve against.
std::unique_ptr<Module> analyze(const ast::File &File, DiagEngine &Diags,
                                llvm::StringRef BaseDir);

} // namespace nnc

#endif
