//===- ShapeRules.h - Result types of graph ops ---------------------------===//
//
// The one statement of how each op's result type follows from its operands
// and attributes (broadcasting, reductions, matmul, convolution and pooling
// sizes, ...). Semantic analysis calls it to type the nodes it builds, and
// the verifier calls it to check every node of a graph, so the two can never
// disagree about what is well typed.
//
// Each op's rule is named in the Shape column of Ops.def. Most ops have an
// inferable result type. A few (TRAIT_TYPED, `resultTypeFromNode` in Op.h)
// take their result type from the node instead, because the operands do not
// determine it: reshape and broadcast (target shape), cast (target dtype),
// leaves, and the backward kernels whose input size is ambiguous under
// striding. For those, `checkResultType` only checks that the given type is
// legal.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_SHAPERULES_H
#define NNC_GRAPH_SHAPERULES_H

#include "nnc/Graph/Op.h"
#include "nnc/Graph/Types.h"

#include <llvm/ADT/ArrayRef.h>

#include <optional>
#include <string>

namespace nnc {

/// The result type of op `K` applied to operands of types `Operands` with
/// attributes `A`. On failure returns nullopt and sets `Why` to a sentence
/// naming the offending shapes, e.g. "matmul of f32[4, 2] and f32[3, 1]:
/// inner dimensions 2 and 3 differ". Fails (with a reason) for ops where
/// `resultTypeFromNode` holds.
std::optional<TensorType> inferResultType(OpKind K,
                                          llvm::ArrayRef<TensorType> Operands,
                                          const Attrs &A, std::string &Why);

/// Whether `Result` is a legal result type for op `K` on `Operands`: equal to
/// the inferred type, or, for ops that take it from the node, consistent
/// with the operands (same element count for reshape, a broadcast target,
/// ...). Sets `Why` on failure.
bool checkResultType(OpKind K, llvm::ArrayRef<TensorType> Operands,
                     const Attrs &A, const TensorType &Result,
                     std::string &Why);

/// Output length of a sliding window (convolution, pooling) over `In`
/// elements: (In + 2 * Padding - Window) / Stride + 1, or nullopt when the
/// window does not fit or the stride/window/padding are out of range.
std::optional<int64_t> windowOutputSize(int64_t In, int64_t Window,
                                        int64_t Stride, int64_t Padding);

} // namespace nnc

#endif
