//===- CheckGrad.h - Gradient check against finite differences ------------===//
//
// `nnc FILE.nn --check-grad` verifies the symbolic gradient of every model
// with a loss numerically: it draws seeded random params (by their
// initializers), inputs and targets, evaluates the backward graph with the
// reference evaluator, and compares each gradient element with the central
// finite difference (L(w + h) - L(w - h)) / 2h computed in double precision.
// See docs/autodiff.md for the tolerances and how to read the table.
// With `--load`/`--inputs` the check runs at a given point instead, and
// `--out` writes the reference loss and gradients there for comparison with
// a compiled model's `grad` command.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_AUTODIFF_CHECKGRAD_H
#define NNC_AUTODIFF_CHECKGRAD_H

#include "nnc/Graph/Evaluator.h"
#include "nnc/Graph/Graph.h"
#include "nnc/Graph/Module.h"
#include "nnc/Support/Diagnostics.h"

#include <llvm/Support/raw_ostream.h>

#include <string>
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
  /// `--load W.safetensors`: check at these params instead of ones drawn
  /// from the initializers (every param, exact dtype and shape).
  std::string Load;
  /// `--inputs X.safetensors`: every input and target, one batch each,
  /// instead of random data (the file `EXE grad --inputs` reads).
  std::string Inputs;
  /// `--out G.safetensors`: also write the reference `loss` and every
  /// `grad.NAME`, in the layout `EXE grad --out` writes, so the two files
  /// can be compared.
  std::string Out;
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

/// Replaces the params of `Leaves` with the tensors of `Opts.Load` and its
/// inputs and targets with those of `Opts.Inputs` (when given). Every such
/// leaf must be in the file with the model's dtype and shape; other keys are
/// ignored. Reports errors (naming the file and tensor) through `Diags` and
/// returns false.
bool loadLeaves(const Graph &G, const GradCheckOptions &Opts,
                EvalValues &Leaves, DiagEngine &Diags);

/// Evaluates the loss and every gradient of a differentiated graph at
/// `Leaves` with the reference evaluator and writes them to `Path` as `EXE
/// grad` does: `loss` (f32 scalar), then `grad.NAME` per param in order,
/// rounded to f32. Returns false after reporting an I/O error.
bool writeReferenceGradients(const Graph &G, const EvalValues &Leaves,
                             const std::string &Path, DiagEngine &Diags);

/// Compares the analytic gradients of a differentiated graph with central
/// finite differences at the point `Leaves`, param by param.
std::vector<ParamGradCheck> checkGradients(const Graph &G,
                                           const EvalValues &Leaves,
                                           const GradCheckOptions &Opts);

/// Prints the table `param  shape  max-abs-err  max-rel-err  status`.
void printGradCheck(const Graph &G, llvm::ArrayRef<ParamGradCheck> Checks,
                    llvm::raw_ostream &OS);

/// `--check-grad`: differentiates every model of `M` that has a loss,
/// checks it and prints its table. Returns false if a check failed or a
/// diagnostic was reported.
bool checkModuleGradients(Module &M, DiagEngine &Diags,
                          const GradCheckOptions &Opts, llvm::raw_ostream &OS);

} // namespace nnc

#endif
