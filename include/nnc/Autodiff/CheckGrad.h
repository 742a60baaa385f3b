//===- CheckGrad.h - Gradient check against finite differences ------------===//
//
// `nnc FILE.nn --check-grad` verifies the symbolic gradient of every model
// with a loss numerically: it draws seeded random params (by their
// initializers), inputs and targets, evaluates the backward graph with the
// reference evaluator, and compares each gradient element with the central
// finite difference (L(w + h) - L(w - h)) / 2h computed in double precision.
// See docs/autodiff.md for the tolerances and how to read the table.
// Everything here works on values in memory: the driver reads the point of
// `--load`/`--inputs` from files and writes `referenceGradients` for `--out`
// (tools/nnc/GradCheckDriver.h), so this library does not depend on the
// runtime's file formats.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_AUTODIFF_CHECKGRAD_H
#define NNC_AUTODIFF_CHECKGRAD_H

#include "nnc/Graph/Evaluator.h"
#include "nnc/Graph/Graph.h"
#include "nnc/Graph/Module.h"
#include "nnc/Support/Diagnostics.h"

#include <llvm/Support/raw_ostream.h>

#include <vector>

namespace nnc {

struct GradCheckOptions {
  uint64_t Seed = 0;
  /// An element passes when |analytic - numeric| <= RelTol * max(|analytic|,
  /// |numeric|, AbsFloor); the floor keeps round-off in near-zero gradients
  /// from counting as relative error.
  double RelTol = 1e-4;
  double AbsFloor = 1e-3;
  /// Finite-difference step, relative: h = Step * max(1, |w|).
  double Step = 1e-6;
  /// Elements compared per param: all of a small param, else this many
  /// drawn at random (each costs two forward evaluations).
  unsigned MaxElementsPerParam = 12;
};

/// The verdict for one param.
struct ParamGradCheck {
  enum StatusT : uint8_t {
    Ok,
    Failed,
    StraightThrough, ///< The gradient passes a `sign`; not a true derivative.
  };
  const Node *Param = nullptr;
  double MaxAbsErr = 0, MaxRelErr = 0;
  unsigned Elements = 0; ///< How many elements were compared.
  StatusT Status = Ok;
};

/// Seeded random values for every Input, Target and Param leaf of `G`:
/// params by their initializers, inputs normal(0, 1), f32 targets
/// uniform(0.05, 0.95), i32 targets and inputs uniform in [0, C) where C is
/// the size of a one_hot that consumes them (else 2).
EvalValues randomLeaves(const Graph &G, uint64_t Seed);

/// The loss and the gradients of a differentiated graph at one point, in
/// double precision.
struct ReferenceGradients {
  EvalTensor Loss;
  std::vector<EvalTensor> Grads; ///< d loss / d G.Params[i], in that order.
};

/// Evaluates the loss and every gradient of a differentiated graph at
/// `Leaves` with the reference evaluator (what `--out` writes).
ReferenceGradients referenceGradients(const Graph &G, const EvalValues &Leaves);

/// Compares the analytic gradients of a differentiated graph with central
/// finite differences at the point `Leaves`, param by param.
std::vector<ParamGradCheck> checkGradients(const Graph &G,
                                           const EvalValues &Leaves,
                                           const GradCheckOptions &Opts);

/// Prints the table `param  shape  max-abs-err  max-rel-err  status`.
void printGradCheck(const Graph &G, llvm::ArrayRef<ParamGradCheck> Checks,
                    llvm::raw_ostream &OS);

/// Checks a differentiated graph at `Leaves` and prints its table. Returns
/// false if a param failed.
bool checkModelGradients(const Graph &G, const EvalValues &Leaves,
                         const GradCheckOptions &Opts, llvm::raw_ostream &OS);

/// `--check-grad` at random points: differentiates every model of `M` that
/// has a loss, checks it at `randomLeaves(G, Opts.Seed)` and prints its
/// table. Returns false if a check failed or a diagnostic was reported.
bool checkModuleGradients(Module &M, DiagEngine &Diags,
                          const GradCheckOptions &Opts, llvm::raw_ostream &OS);

} // namespace nnc

#endif
