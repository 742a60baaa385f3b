//===- GradCheckDriver.h - The driver's --check-grad and its files --------===//
//
// `nnc FILE.nn --check-grad [--load W] [--inputs X] [--out G]`: the gradient
// check of Autodiff/CheckGrad.h, at random points or at the one given by
// safetensors files. The files are read and written here, with the runtime's
// tensor-file code (the same that `EXE grad` uses), so that the Autodiff
// library works on values in memory and does not link the runtime.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_GRADCHECKDRIVER_H
#define NNC_TOOLS_GRADCHECKDRIVER_H

#include "nnc/Autodiff/CheckGrad.h"
#include "nnc/Graph/Module.h"
#include "nnc/Support/Diagnostics.h"

#include <llvm/Support/raw_ostream.h>

#include <string>

namespace nnc {

/// The command-line settings of `--check-grad`.
struct GradCheckRequest {
  /// Seed and tolerances.
  GradCheckOptions Options;
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

/// Differentiates and checks every model of `M` with a loss, printing a
/// table per model to `OS`. With `Load`, `Inputs` or `Out` the file must
/// have exactly one model with a loss. Returns false if a check failed or a
/// diagnostic (a bad file, a model without a gradient rule) was reported.
bool runGradCheck(Module &M, DiagEngine &Diags, const GradCheckRequest &Req,
                  llvm::raw_ostream &OS);

} // namespace nnc

#endif
