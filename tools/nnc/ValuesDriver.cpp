//===- ValuesDriver.cpp - `--emit=grad --values` --------------------------===//
//
// 1. Choose the model (ModelChoice.h); its graph is the train-mode one
//    (specializeModes ran in buildTrainingSteps), so batchnorm uses the
//    batch statistics and dropout the first step's masks.
// 2. Refuse early when the model reads data and no `--inputs` file is
//    given: there is nothing sensible to invent for them.
// 3. The leaves, as the executable would see them at the start of training
//    (LeafValues.h): params and buffers from `--load` or drawn as `EXE init`
//    draws them, optimizer state zero, hypers of the first step, inputs
//    and targets from `--inputs`.
// 4. Evaluate every node in double precision and print the graph with each
//    node's value (Graph/Printer.h, formatValue).
//
//===----------------------------------------------------------------------===//
#include "ValuesDriver.h"
#include "LeafValues.h"
#include "ModelChoice.h"

#include "nnc/Graph/Evaluator.h"
#include "nnc/Graph/Printer.h"

#include <llvm/ADT/Twine.h>

using namespace nnc;

/// "x, t": the names of the leaves a model reads data into.
static std::string dataNames(const Graph &G) {
  std::string Names;
  for (const std::vector<Node *> *Group : {&G.Inputs, &G.Targets})
    for (const Node *N : *Group)
      Names += (Names.empty() ? "" : ", ") + N->Name;
  return Names;
}

bool nnc::printGraphValues(Module &M, DiagEngine &Diags,
                           const ValuesRequest &Req, llvm::raw_ostream &OS) {
  // Step 1.
  Graph *G = chooseModel(M, Req.Model, Req.Input, Diags);
  if (!G)
    return false;

  // Step 2.
  if (Req.Inputs.empty() && !(G->Inputs.empty() && G->Targets.empty())) {
    Diags.error("--values needs the data of model '" + G->name() + "' (" +
                dataNames(*G) + "): give it with --inputs X.safetensors");
    return false;
  }

  // Step 3.
  const TrainConfig *Train = M.findTrain(G->name());
  uint64_t Seed = Req.Seed ? *Req.Seed : Train ? Train->Seed : 0;
  EvalValues Leaves;
  bool Ok = true;
  if (Req.Load.empty())
    drawInitialLeaves(*G, Seed, Leaves);
  else
    Ok &= readLeaves({{G->Params, "a param"}, {G->Buffers, "a buffer"}},
                     Req.Load, Leaves, Diags);
  if (!Req.Inputs.empty())
    Ok &= readLeaves({{G->Inputs, "an input"}, {G->Targets, "a target"}},
                     Req.Inputs, Leaves, Diags);
  if (!Ok)
    return false;
  // The optimizer's memory starts at zero, as in a run's first step.
  for (const Node *S : G->States)
    Leaves[S] = EvalTensor::zeros(S->Type);
  firstStepHypers(*G, Train, Seed, Leaves);

  // Step 4.
  EvalValues Values = evaluate(*G, Leaves);
  auto Value = [&](const Node &N) {
    auto It = Values.find(&N);
    return It == Values.end() ? std::string() : formatValue(It->second);
  };
  if (Req.Dot)
    printGraphDot(*G, OS, Value);
  else
    printGraph(*G, OS, Value);
  return true;
}
