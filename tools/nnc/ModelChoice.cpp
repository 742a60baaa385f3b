//===- ModelChoice.cpp - Which model of a file a command acts on ----------===//
//
// `--model=NAME` wins; without it a file with one trained model means that
// one (the others are its helpers or variants), and a file with one model
// means it. Anything else is ambiguous and says which names there are.
//
//===----------------------------------------------------------------------===//
#include "ModelChoice.h"

#include <llvm/ADT/Twine.h>

#include <string>
#include <vector>

using namespace nnc;

Graph *nnc::chooseModel(Module &M, llvm::StringRef Name, llvm::StringRef Input,
                        DiagEngine &Diags) {
  if (!Name.empty()) {
    if (Graph *G = M.findModel(Name))
      return G;
    Diags.error("no model named '" + Name + "' in " + Input);
    return nullptr;
  }
  // At line 1, column 1, as every other error about the source: an empty
  // file, or one of comments, fns and train blocks only.
  if (M.Models.empty()) {
    Diags.error(M.Start, "the file defines no model (expected a 'model NAME "
                         "{ ... }' block)");
    return nullptr;
  }
  std::vector<Graph *> Trained;
  for (const auto &G : M.Models)
    if (M.findTrain(G->name()))
      Trained.push_back(G.get());
  if (Trained.size() == 1)
    return Trained.front();
  if (Trained.empty() && M.Models.size() == 1)
    return M.Models.front().get();
  std::string Names;
  for (const auto &G : M.Models)
    Names += (Names.empty() ? "" : ", ") + G->name();
  Diags.error(Input + " defines several models (" + Names +
              "); choose one with --model=NAME");
  return nullptr;
}
