//===- ExportDriver.cpp - `--emit=onnx`: the inference graph as ONNX ------===//
//
// 1. Choose the model (ModelChoice.h), as for an executable.
// 2. The weights: every param and buffer from `--load`, else drawn as
//    `EXE init` draws them with the train block's seed (LeafValues.h) —
//    the same weights `--emit=lib` compiles in.
// 3. Export the forward graph as Sema built it (mode-dependent ops whole,
//    translated for eval mode) and write the bytes; the caller writes -o
//    atomically.
//
//===----------------------------------------------------------------------===//
#include "ExportDriver.h"
#include "LeafValues.h"
#include "ModelChoice.h"

#include "nnc/Export/Onnx.h"

using namespace nnc;

bool nnc::emitOnnx(const OnnxRequest &Req, Module &M, DiagEngine &Diags,
                   llvm::raw_ostream &OS) {
  // Step 1.
  Graph *G = chooseModel(M, Req.Model, Req.Input, Diags);
  if (!G)
    return false;
  // Step 2.
  LeafBits Weights;
  const TrainConfig *Train = M.findTrain(G->name());
  if (!modelWeights(*G, Req.Load, Req.Seed, Train, Weights, Diags))
    return false;
  // Step 3.
  OnnxExportOptions Options;
  Options.Source = Req.Input;
  Options.ProducerVersion = Req.Version;
  std::optional<std::string> Bytes = exportOnnx(*G, Weights, Options, Diags);
  if (!Bytes)
    return false;
  OS << *Bytes;
  return true;
}
