//===- Optimizer.h - The optimizer step as graph nodes --------------------===//
//
// A training step is one graph: forward, backward, and the optimizer update
// that computes each param's (and each optimizer state's) next value from
// the gradients. Building the update into the graph lets the later stages
// fuse it with the backward pass and lower the whole step to one native
// function. Semantics are exactly PyTorch's `torch.optim.SGD`, `Adam`,
// `AdamW`, `Adagrad` and `RMSprop`, and gradient clipping is
// `torch.nn.utils.clip_grad_norm_`; see docs/autodiff.md.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_AUTODIFF_OPTIMIZER_H
#define NNC_AUTODIFF_OPTIMIZER_H

#include "nnc/Graph/Graph.h"
#include "nnc/Graph/Module.h"
#include "nnc/Support/Diagnostics.h"

namespace nnc {

/// Appends the update of `Opt` to a differentiated graph (`G.Grads` set):
///  - a Hyper leaf `lr` (f32 scalar, in `G.Hypers`), set by the runtime each
///    step so that `--lr` needs no recompilation;
///  - the optimizer's State leaves (in `G.States`, zero at the start):
///    sgd with momentum: `v.W` (velocity) per param; adam and adamw: `m.W`,
///    `v.W` (first and second moments) per param and the step count
///    `adam.t`; adagrad: `sum.W` (sum of squared gradients); rmsprop:
///    `sq.W` (running mean of squared gradients) and, with momentum,
///    `buf.W` (momentum buffer);
///  - with `Opt.ClipNorm`, the gradients' global L2 norm and the clipped
///    gradients the step reads (`G.Grads` stay the raw gradients);
///  - the update nodes (Role = Update) and one `G.Updates` entry
///    {param or state, its next value} per param and state.
/// The other hyper-parameters (momentum, weight decay, betas, alpha, eps,
/// clip norm) are constants of the graph.
void buildOptimizerUpdate(Graph &G, const OptimizerSpec &Opt);

/// The training step of every model of `M` that has a loss: differentiates
/// it and, if a `train` block trains it, appends that block's optimizer
/// update. Models without a loss stay forward-only. Returns false if a
/// diagnostic was reported.
bool buildTrainingSteps(Module &M, DiagEngine &Diags);

} // namespace nnc

#endif
