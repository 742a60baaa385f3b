//===- RewriteUtil.h - Helpers the graph passes share ---------------------===//
//
// Small queries and edits every rewriting pass needs: recognizing splat
// constants (a scalar Const, an all-equal Const, or a broadcast of one),
// making properly typed replacement nodes, replacing a node while keeping
// its name, and the conservative "known finite" test behind `x * 0 -> 0`.
// Private to lib/Transforms.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_TRANSFORMS_REWRITEUTIL_H
#define NNC_LIB_TRANSFORMS_REWRITEUTIL_H

#include "nnc/Graph/Graph.h"
#include "nnc/Graph/Printer.h"

#include <llvm/ADT/DenseSet.h>

#include <optional>
#include <string>
#include <vector>

namespace nnc::transforms {

/// The value every element of `N` has when `N` is a Const whose elements
/// are all equal (a scalar included) or a broadcast of such a value.
std::optional<double> splatValue(const Node *N);

/// True if `N` is a splat of exactly `V`.
inline bool isSplatOf(const Node *N, double V) {
  std::optional<double> S = splatValue(N);
  return S && *S == V;
}

/// A scalar Const of dtype `Elem` holding `V` (rounded to the dtype).
Node *makeScalar(Graph &G, double V, DType Elem, const Node &Like);

/// A value of type `T` whose every element is `V`: the scalar Const itself
/// for a scalar type, else a broadcast of it. New nodes take `Like`'s source
/// location and role.
Node *makeSplat(Graph &G, double V, const TensorType &T, const Node &Like);

/// A new node of `Like`'s location and role.
Node *makeNode(Graph &G, OpKind K, const TensorType &T,
               llvm::ArrayRef<Node *> Operands, const Node &Like, Attrs A = {});

/// `X` as a value of type `T`: `X` itself if the types agree, a broadcast of
/// `X` if it broadcasts to `T`, else null (the rewrite must not fire).
Node *broadcastTo(Graph &G, Node *X, const TensorType &T, const Node &Like);

/// Replaces every use of `Old` with `New`. `New` inherits `Old`'s name when
/// it has none and plays the same role (so `%d.y = mul 1, %t` leaves the
/// name on `%t`'s replacement but never renames a forward value after a
/// backward one).
void replaceNode(Graph &G, Node *Old, Node *New);

/// The nodes the interface reaches. Passes skip the others: they are dead
/// and dce will drop them, so rewriting (and remarking on) them is noise.
llvm::DenseSet<const Node *> liveSet(const Graph &G);

/// A snapshot of the node order, safe to walk while nodes are created.
std::vector<Node *> nodeOrder(const Graph &G);

/// True if every element of `N` is certainly finite (never inf or NaN):
/// i32 values, finite constants, 0/1 masks (comparisons, step, sign,
/// one_hot, argmax_mask), and bounded functions (sigmoid, tanh, sin, cos,
/// softmax, ...) or moves of finite values. Everything else may overflow.
bool isKnownFinite(const Node *N);

/// Whether `V` is a power of two (positive or negative), so that scaling by
/// it is exact in binary floating point.
bool isPowerOfTwo(double V);

} // namespace nnc::transforms

#endif
