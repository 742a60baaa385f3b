//===- GradCheckDriver.cpp - The driver's --check-grad and its files ------===//
//
// 1. Without files, every model with a loss is checked at a random point
//    (checkModuleGradients).
// 2. With files, the one model with a loss is differentiated, its random
//    point is drawn, and `--load` replaces the params and `--inputs` the
//    inputs and targets with the files' tensors, each checked for name,
//    dtype and shape (LeafValues.h).
// 3. `--out` writes the reference loss and gradients at that point, rounded
//    to f32, in the layout of `EXE grad --out`.
// 4. The point is checked and its table printed.
//
//===----------------------------------------------------------------------===//
#include "GradCheckDriver.h"
#include "LeafValues.h"

#include "nnc/Autodiff/Autodiff.h"
#include "nnc/Autodiff/Modes.h"
#include "nnc/Runtime/TensorFile.h"

#include <llvm/ADT/Twine.h>

#include <vector>

using namespace nnc;

namespace {

/// Step 3: writes `R` to `Path` as `EXE grad` does: `loss` (f32 scalar),
/// then `grad.NAME` per param in order. Returns false after reporting an
/// I/O error.
bool writeReference(const Graph &G, const ReferenceGradients &R,
                    const std::string &Path, DiagEngine &Diags) {
  // `EXE grad` writes f32; rounding here keeps the comparison about the
  // arithmetic, not about the storage type.
  std::vector<std::vector<float>> Storage;
  std::vector<rt::TensorRef> Refs;
  auto Add = [&](const std::string &Name, const EvalTensor &V) {
    Storage.emplace_back(V.Data.begin(), V.Data.end());
    Refs.push_back(
        {Name, rt::DType::F32,
         std::vector<int64_t>(V.Type.Dims.begin(), V.Type.Dims.end()),
         Storage.back().data()});
  };
  Storage.reserve(1 + R.Grads.size());
  Add("loss", R.Loss);
  for (size_t I = 0; I < G.Params.size(); ++I)
    Add("grad." + G.Params[I]->Name, R.Grads[I]);
  if (rt::Status S = rt::writeTensorFile(Path, Refs, {{"model", G.name()}})) {
    Diags.error(S.message());
    return false;
  }
  return true;
}

} // namespace

bool nnc::runGradCheck(Module &M, DiagEngine &Diags,
                       const GradCheckRequest &Req, llvm::raw_ostream &OS) {
  // Step 1.
  if (Req.Load.empty() && Req.Inputs.empty() && Req.Out.empty())
    return checkModuleGradients(M, Diags, Req.Options, OS);
  std::vector<Graph *> WithLoss;
  for (const auto &G : M.Models)
    if (G->Loss)
      WithLoss.push_back(G.get());
  // Files hold one model's tensors; checking several models at the same
  // file would pass one model's data to another.
  if (WithLoss.size() > 1) {
    Diags.error("--load, --inputs and --out need a file with one model that "
                "has a loss, but this one has " +
                llvm::Twine(WithLoss.size()));
    return false;
  }
  if (WithLoss.empty()) {
    if (!Req.Out.empty()) {
      Diags.error("no model has a loss: no gradients to write to '" + Req.Out +
                  "'");
      return false;
    }
    // Says that there is nothing to check.
    return checkModuleGradients(M, Diags, Req.Options, OS);
  }

  // Step 2.
  Graph &G = *WithLoss.front();
  specializeModes(M);
  if (!differentiate(G, Diags))
    return false;
  EvalValues Leaves = randomLeaves(G, Req.Options.Seed);
  // Dropout draws the masks `EXE grad` draws: those of the first step of
  // a run with the train block's seed.
  const TrainConfig *Train = M.findTrain(G.name());
  firstStepHypers(G, Train, Train ? Train->Seed : 0, Leaves);
  bool Ok = true;
  if (!Req.Load.empty())
    Ok &= readLeaves({{G.Params, "a param"}, {G.Buffers, "a buffer"}}, Req.Load,
                     Leaves, Diags);
  if (!Req.Inputs.empty())
    Ok &= readLeaves({{G.Inputs, "an input"}, {G.Targets, "a target"}},
                     Req.Inputs, Leaves, Diags);
  if (!Ok)
    return false;

  // Steps 3 and 4.
  if (!Req.Out.empty() &&
      !writeReference(G, referenceGradients(G, Leaves), Req.Out, Diags))
    return false;
  return checkModelGradients(G, Leaves, Req.Options, OS);
}
