//===- GradRules.h - The table of gradient rules --------------------------===//
//
// How the adjoint of an op's result becomes the adjoints of its operands.
// Ops.def's Grad column decides per op: `Rule` ops have a function
// grad<Name> in GradRules.cpp (a row without one does not compile), `Stop`
// ops carry no gradient, and an op that deliberately has no rule is
// `Missing`, which `differentiate` reports as a diagnostic at the op's
// source line.
//
// Internal to lib/Autodiff.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_AUTODIFF_GRADRULES_H
#define NNC_LIB_AUTODIFF_GRADRULES_H

#include "GradBuilder.h"

#include <llvm/ADT/SmallVector.h>

namespace nnc {

/// What a rule sees: the forward node `N` (its value is y), the adjoint `DY`
/// of y (same shape as y), and which operands need a gradient.
struct GradContext {
  GradBuilder &B;
  Node &N;
  Node *DY;
  llvm::ArrayRef<bool> Wants;

  /// Operand `I` of the forward node.
  Node *x(unsigned I) const { return N.operand(I); }
  /// The forward node's own value, for rules written in terms of y.
  Node *y() const { return &N; }
  bool wants(unsigned I) const { return Wants[I]; }
};

/// The adjoint of each operand, in operand order; null where no gradient is
/// wanted or none flows.
using Adjoints = llvm::SmallVector<Node *, 2>;
using GradFn = Adjoints (*)(GradContext &);

/// A row of the table.
struct GradRule {
  enum KindT : uint8_t {
    Rule,              ///< `Fn` computes the operand adjoints.
    Leaf,              ///< No operands; the walk stops here.
    NonDifferentiable, ///< The result carries no gradient (step, argmax...).
    Missing,           ///< No rule: differentiating through it is an error.
  } Kind;
  GradFn Fn = nullptr;
};

/// The gradient rule of `K`.
GradRule gradRule(OpKind K);

} // namespace nnc

#endif
