//===- Evaluator.h - Reference interpreter of the graph IR ----------------===//
//
// A plain, obviously correct interpreter of every op in Ops.def. It is the
// oracle the rest of the compiler is tested against: gradient checks compare
// autodiff with finite differences computed here, generated code is compared
// with its results, and constant folding evaluates single ops through
// `evaluateOp`. It computes in double precision, so finite differences are
// accurate, and follows PyTorch's conventions (NumPy broadcasting, the first
// maximum wins, softmax computed stably). i32 values are stored exactly.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_EVALUATOR_H
#define NNC_GRAPH_EVALUATOR_H

#include "nnc/Graph/Graph.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/DenseMap.h>

#include <vector>

namespace nnc {

/// A tensor value in double precision, row-major. i32 tensors hold exact
/// integers.
struct EvalTensor {
  TensorType Type;
  std::vector<double> Data;

  /// A zero-filled tensor of type `T`.
  static EvalTensor zeros(const TensorType &T) {
    return {T, std::vector<double>(size_t(T.numElements()), 0.0)};
  }
  int64_t numElements() const { return Type.numElements(); }
};

using EvalValues = llvm::DenseMap<const Node *, EvalTensor>;

/// Evaluates every node of G in order. `Leaves` gives Input/Target/Param/
/// State/Hyper values; Const nodes use Node::Value. Returns the values of all
/// nodes (leaves included). Every non-Const leaf must have a value in
/// `Leaves` of the node's type.
EvalValues evaluate(const Graph &G, const EvalValues &Leaves);

/// Widens a tensor to double precision (exact).
EvalTensor toEval(const Tensor &T);
/// Narrows to the storage type: f32 rounds to nearest; i32 truncates toward
/// zero and saturates (NaN becomes 0).
Tensor fromEval(const EvalTensor &T);

/// Evaluates one non-leaf op (or a Const) on the given operand values, which
/// must have the operand types the node was built with. Used for constant
/// folding and tests.
EvalTensor evaluateOp(const Node &N,
                      llvm::ArrayRef<const EvalTensor *> Operands);

} // namespace nnc

#endif
