//===- SoftmaxCE.h - softmax + cross-entropy gradient rewrite -------------===//
//
// Private to lib/Transforms. The first step of the `fuse` pass: rewrites the
// backward of `cross_entropy(s, y)` (autodiff's log_softmax gradient) into
// the direct `(softmax(s) - one_hot(y)) * scale`, with the softmax taken from
// the forward log_softmax and one_hot made elementwise, so the loss product
// and the gradient become the epilogue of one log_softmax kernel. See
// SoftmaxCE.cpp for the pattern and why it is exact.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_TRANSFORMS_SOFTMAXCE_H
#define NNC_LIB_TRANSFORMS_SOFTMAXCE_H

#include "nnc/Graph/Graph.h"

#include <llvm/ADT/STLFunctionalExtras.h>

#include <string>

namespace nnc::transforms {

/// Receives one decision of the rewrite: `Refused` false when it fired at
/// `At`, true when a candidate was kept, with the reason in `Msg`.
using SoftmaxCERemark = llvm::function_ref<void(
    const Node &At, const std::string &Msg, bool Refused)>;

/// Rewrites every live softmax + cross-entropy gradient of `G`; returns how
/// many. Leaves `G` sorted and without dead nodes when it changed it.
unsigned rewriteSoftmaxCrossEntropy(Graph &G, SoftmaxCERemark Remark);

} // namespace nnc::transforms

#endif
