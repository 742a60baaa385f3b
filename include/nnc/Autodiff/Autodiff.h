//===- Autodiff.h - Symbolic reverse-mode differentiation -----------------===//
//
// Backpropagation as a graph-to-graph transform: `differentiate` appends to a
// model's graph the backward nodes that compute d loss / d param for every
// param, in the same IR as the forward pass, so the gradient can be dumped
// (`--emit=grad`), optimized and lowered like any other graph. The gradient
// rule of each op lives in one table (lib/Autodiff/GradRules.cpp); the
// algorithm is described at the top of lib/Autodiff/Autodiff.cpp and in
// docs/autodiff.md.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_AUTODIFF_AUTODIFF_H
#define NNC_AUTODIFF_AUTODIFF_H

#include "nnc/Graph/Graph.h"
#include "nnc/Support/Diagnostics.h"

#include <llvm/ADT/DenseSet.h>

namespace nnc {

/// Appends backward nodes (Role = Backward) to `G` and sets `G.Grads[i]` to
/// d loss / d `G.Params[i]`. The adjoint of a named node `h` is named `d.h`;
/// the gradient of param `W1` is named `d.W1`. A param the loss does not
/// depend on gets a `broadcast` of the scalar 0 (a plain 0 const for a
/// scalar param). Requires `G.Loss` and an undifferentiated graph. Reports
/// user-visible problems (an op without a gradient rule, a non-scalar loss)
/// through `Diags` at the offending node's source line and returns false.
bool differentiate(Graph &G, DiagEngine &Diags);

/// The nodes a gradient can flow through: f32 values computed from some
/// param through differentiable ops (the params included). Integer values,
/// non-differentiable ops (comparisons, step, argmax, one_hot, cast) and
/// values no param feeds stop the gradient.
llvm::DenseSet<const Node *> gradientCarriers(const Graph &G);

/// True if the gradient of `Param` reaches the loss through a `sign`, whose
/// gradient is the straight-through estimate 1 (docs/language.md, "Built-in
/// functions") rather than the true derivative 0. `--check-grad` does not
/// compare such params.
bool gradientPassesThroughSign(const Graph &G, const Node *Param);

} // namespace nnc

#endif
