//===- Module.cpp - Looking up models and train blocks --------------------===//
//
// Lookups by name over a Module. Names are few (one per `model` and `train`
// block of a file), so a linear scan in source order is all that is needed.
//
//===----------------------------------------------------------------------===//
#include "nnc/Graph/Module.h"

using namespace nnc;

Graph *Module::findModel(llvm::StringRef Name) const {
  for (const auto &G : Models)
    if (G->name() == Name)
      return G.get();
  return nullptr;
}

const TrainConfig *Module::findTrain(llvm::StringRef Model) const {
  for (const TrainConfig &T : Trains)
    if (T.Model == Model)
      return &T;
  return nullptr;
}

Graph *Module::findEvalModel(llvm::StringRef Name) const {
  auto It = EvalModels.find(Name.str());
  return It == EvalModels.end() ? nullptr : It->second.get();
}
