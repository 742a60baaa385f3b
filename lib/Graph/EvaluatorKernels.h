//===- EvaluatorKernels.h - Reference kernels of the evaluator ------------===//
//
// The loops behind `evaluateOp`, one function per kind of computation:
// elementwise maps with NumPy broadcasting, reductions along an axis, data
// movement, matmul, convolution and pooling (with their backward kernels),
// softmax and one_hot. Each takes its operands and the result type the node
// declares, and is written for clarity rather than speed. Private to the
// Graph library.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_GRAPH_EVALUATORKERNELS_H
#define NNC_LIB_GRAPH_EVALUATORKERNELS_H

#include "nnc/Graph/Evaluator.h"

#include <functional>

namespace nnc::eval {

using UnaryFn = std::function<double(double)>;
using BinaryFn = std::function<double(double, double)>;

/// R[i] = F(X[i]).
EvalTensor mapUnary(const EvalTensor &X, const TensorType &R, UnaryFn F);
/// R[i] = F(X[bx(i)], Y[by(i)]) with NumPy broadcasting to R's shape.
EvalTensor mapBinary(const EvalTensor &X, const EvalTensor &Y,
                     const TensorType &R, BinaryFn F);
/// Copies X into R's shape by NumPy broadcasting (also serves reshape when
/// the shapes' element counts agree, via `reshape`).
EvalTensor broadcastTo(const EvalTensor &X, const TensorType &R);
EvalTensor reshape(const EvalTensor &X, const TensorType &R);
EvalTensor transpose(const EvalTensor &X, const TensorType &R);
/// Result axis K is X's axis permAxis(Perm, K).
EvalTensor permute(const EvalTensor &X, uint64_t Perm, const TensorType &R);
/// R's length along `Axis` elements of X from `Offset` on.
EvalTensor slice(const EvalTensor &X, int64_t Axis, int64_t Offset,
                 const TensorType &R);
/// The operands one after another along `Axis`.
EvalTensor concat(llvm::ArrayRef<const EvalTensor *> Xs, int64_t Axis,
                  const TensorType &R);

enum class ReduceKind { Sum, Max, ArgMax, ArgMaxMask };
/// Reduces along `Axis` (or all elements for ALL_AXES). For ArgMaxMask the
/// result has X's shape with 1 at the first maximum of each slice.
EvalTensor reduce(ReduceKind K, const EvalTensor &X, int64_t Axis,
                  const TensorType &R);

/// Softmax (or log-softmax) along `Axis`, shifted by the slice maximum.
EvalTensor softmax(const EvalTensor &X, int64_t Axis, bool Log,
                   const TensorType &R);
EvalTensor oneHot(const EvalTensor &Labels, const TensorType &R);
EvalTensor matmul(const EvalTensor &X, const EvalTensor &Y,
                  const TensorType &R);

/// conv2d(x : [N,C,H,W], w : [K,C,R,S]) with zero padding.
EvalTensor conv2d(const EvalTensor &X, const EvalTensor &W, const Attrs &A,
                  const TensorType &R);
/// d conv2d / d x, given dy and w; R is x's type.
EvalTensor conv2dGradInput(const EvalTensor &DY, const EvalTensor &W,
                           const Attrs &A, const TensorType &R);
/// d conv2d / d w, given x and dy; R is w's type.
EvalTensor conv2dGradWeight(const EvalTensor &X, const EvalTensor &DY,
                            const Attrs &A, const TensorType &R);

/// Max or average over Size x Size windows moved by Stride (no padding).
EvalTensor pool2d(const EvalTensor &X, bool Max, const Attrs &A,
                  const TensorType &R);
/// Routes each dy to the first maximum of its window in x.
EvalTensor maxPool2dGrad(const EvalTensor &X, const EvalTensor &DY,
                         const Attrs &A, const TensorType &R);
/// Spreads each dy evenly over its window; R is x's type.
EvalTensor avgPool2dGrad(const EvalTensor &DY, const Attrs &A,
                         const TensorType &R);

} // namespace nnc::eval

#endif
