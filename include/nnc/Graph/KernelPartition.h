//===- KernelPartition.h - What may be computed in one kernel -------------===//
//
// The one statement of fusion legality. A *kernel* is a set of nodes the code
// generator computes in one generated function with one loop nest, keeping
// the values used only inside it in registers. The `fuse` pass asks
// `planKernel` before every merge, the verifier asks it of every kernel of a
// partitioned graph, and the code generator asks it of every kernel it
// lowers (and reports an internal error instead of lowering an illegal one),
// so the three can never disagree.
//
// A legal kernel holds at most one *anchor* (a member that is not
// elementwise: a reduction, softmax, matmul, convolution, pool, ...) and any
// number of elementwise members:
//   * the *prologue*: members the anchor reads through. Only a row-wise
//     anchor with one operand (reductions, softmax, argmax_mask) may have
//     one; it computes them on the fly per element it reads, so none may be
//     needed outside the kernel;
//   * the *epilogue*: every other member, evaluated in one loop nest over
//     the anchor's result shape (without an anchor, over the shape of the
//     largest value needed outside). Values needed outside have the nest's
//     shape; a smaller member is recomputed for every element, which is
//     allowed only where that is free (scalars, broadcast, transpose, and a
//     slice of a value read from a buffer or free itself).
// Acyclicity between kernels is a property of the whole partition and is
// checked by its users.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_KERNELPARTITION_H
#define NNC_GRAPH_KERNELPARTITION_H

#include "nnc/Graph/Graph.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/STLFunctionalExtras.h>
#include <llvm/ADT/SmallPtrSet.h>

#include <string>

namespace nnc {

/// How an op takes part in a kernel, read off its row of Ops.def.
enum class FuseRole {
  None,        ///< In no kernel: leaves and aliasing reshapes.
  Elementwise, ///< Evaluated per element of the loop nest; any number.
  Reduction,   ///< An anchor that may read its operand through a prologue.
  Compute,     ///< An anchor that reads whole operand buffers.
};

FuseRole fuseRole(OpKind K);

/// The structure of a candidate kernel, and whether it is legal.
struct KernelPlan {
  /// The member that is not elementwise, if any.
  const Node *Anchor = nullptr;
  /// The members the anchor reads through.
  llvm::SmallPtrSet<const Node *, 8> Prologue;
  /// The value whose shape the epilogue's loop nest runs over (the anchor,
  /// else the largest member needed outside; null if there is none).
  const Node *Nest = nullptr;
  /// Empty for a legal kernel, else why the members cannot be one, as a
  /// clause for remarks and errors ("%h [4, 2] is larger than ...").
  std::string WhyNot;

  bool isLegal() const { return WhyNot.empty(); }
};

/// Plans `Members` (any order; ties are broken by that order) as one
/// kernel. `IsExternal(N)` tells whether member N's value is needed
/// outside the kernel: read by a node that is not a member, or a result of
/// the graph (loss, output, metric, gradient, update).
KernelPlan planKernel(llvm::ArrayRef<const Node *> Members,
                      llvm::function_ref<bool(const Node *)> IsExternal);

} // namespace nnc

#endif
