//===- Modes.h - Train mode and eval mode from one forward graph ----------===//
//
// A model runs in train mode (`train`, `grad`) or eval mode (`eval`,
// `predict`, the validation and test sets). Only the mode-dependent ops of
// the op table (class Mode: batchnorm, dropout) tell them apart. Sema
// builds one forward graph holding them; specializeModes turns it into two
// graphs of primitives, one per mode, each differentiated (train) and
// optimized on its own, and lowered into the same executable sharing the
// same params and buffers (docs/autodiff.md, "Modes").
//
//===----------------------------------------------------------------------===//
#ifndef NNC_AUTODIFF_MODES_H
#define NNC_AUTODIFF_MODES_H

#include "nnc/Graph/Graph.h"
#include "nnc/Graph/Module.h"

namespace nnc {

enum class RunMode : uint8_t { Train, Eval };

/// True when `G` has a mode-dependent op.
bool hasModeOps(const Graph &G);

/// Rewrites every mode-dependent op of `G` into the primitives of `Mode`:
///  - batchnorm, train: batch mean and biased variance over every axis but
///    1, then the affine normalization; the running statistics get
///    `Updates` (momentum, unbiased variance), applied by the training step;
///  - batchnorm, eval: x * scale + shift from the running statistics;
///  - dropout, train: x * dropout_mask(dropout_key), the key a Hyper leaf the
///    runtime sets every step, one random stream per call site;
///  - dropout, eval: x itself.
void specializeMode(Graph &G, RunMode Mode);

/// For every model with mode-dependent ops: records an eval-mode copy in
/// `M.EvalModels` and specializes the model itself to train mode. Models
/// without such ops are left alone (one graph serves both modes). Running
/// it again changes nothing.
void specializeModes(Module &M);

} // namespace nnc

#endif
