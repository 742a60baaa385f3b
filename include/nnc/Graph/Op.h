//===- Op.h - Op kinds, classes and attributes from Ops.def ---------------===//
//
// Expands the op table (Ops.def) into the OpKind enum, the per-class enums
// ScalarOp and KernelOp, and the per-op facts every stage asks for:
// spelling, class, operand count, attribute mask, traits and gradient kind,
// read through the predicates below.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_OP_H
#define NNC_GRAPH_OP_H

#include <llvm/ADT/StringRef.h>

#include <cstdint>
#include <optional>

namespace nnc {

enum class OpKind : uint8_t {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  Name,
#include "nnc/Graph/Ops.def"
};

/// How many ops the table has (OpKind values are 0 .. NumOpKinds - 1).
constexpr unsigned NumOpKinds = 0
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  +1
#include "nnc/Graph/Ops.def"
    ;

/// The Class column of Ops.def (see there).
enum class OpClass : uint8_t {
  Leaf,    ///< No operands; the value comes from outside.
  Unary,   ///< Elementwise, one operand.
  Binary,  ///< Elementwise, two operands, NumPy broadcasting.
  Compare, ///< Like Binary, but the result is f32 0/1 with no gradient.
  Reduce,  ///< Over one axis or all axes.
  Shape,   ///< Moves data, computes nothing.
  Kernel,  ///< Its own shape rule and loop structure.
  Mode,    ///< Behaves differently in train and eval mode (batchnorm,
           ///< dropout); specializeModes replaces it before any later stage.
};

/// The Grad column of Ops.def: how the gradient flows through an op.
enum class OpGrad : uint8_t {
  Rule,    ///< Through the op's rule (`grad<Name>` in GradRules.cpp).
  Stop,    ///< The result carries no gradient.
  Leaf,    ///< No operands: the backward walk ends here.
  Missing, ///< No rule; differentiating through the op is a diagnostic.
};

// Class selectors: NNC_IF_SCALAR_<Class>(...) expands to its arguments for
// the elementwise classes and to nothing otherwise; NNC_IF_KERNEL_<Class>
// likewise for the classes with a loop structure of their own. They turn
// the table's Class column into the per-class enums below (and their
// conversions in Op.cpp).
#define NNC_IF_SCALAR_Leaf(...)
#define NNC_IF_SCALAR_Unary(...) __VA_ARGS__
#define NNC_IF_SCALAR_Binary(...) __VA_ARGS__
#define NNC_IF_SCALAR_Compare(...) __VA_ARGS__
#define NNC_IF_SCALAR_Reduce(...)
#define NNC_IF_SCALAR_Shape(...)
#define NNC_IF_SCALAR_Kernel(...)
#define NNC_IF_SCALAR_Mode(...)
#define NNC_IF_KERNEL_Leaf(...)
#define NNC_IF_KERNEL_Unary(...)
#define NNC_IF_KERNEL_Binary(...)
#define NNC_IF_KERNEL_Compare(...)
#define NNC_IF_KERNEL_Reduce(...) __VA_ARGS__
#define NNC_IF_KERNEL_Shape(...) __VA_ARGS__
#define NNC_IF_KERNEL_Kernel(...) __VA_ARGS__
#define NNC_IF_KERNEL_Mode(...)

/// The elementwise ops (classes Unary, Binary and Compare) as an enum of
/// their own, so that a switch over their scalar math lists exactly them,
/// and the compiler (-Werror=switch) names one that is missing.
enum class ScalarOp : uint8_t {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  NNC_IF_SCALAR_##Class(Name, )
#include "nnc/Graph/Ops.def"
};

/// The ops with a loop structure of their own (classes Reduce, Shape and
/// Kernel), for the switches that dispatch to their kernels.
enum class KernelOp : uint8_t {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  NNC_IF_KERNEL_##Class(Name, )
#include "nnc/Graph/Ops.def"
};

/// Attribute bits for the Attrs column of Ops.def.
enum : unsigned {
  ATTR_NONE = 0,
  ATTR_AXIS = 1u << 0,
  ATTR_KEEPDIMS = 1u << 1,
  ATTR_STRIDE = 1u << 2,
  ATTR_PADDING = 1u << 3,
  ATTR_SIZE = 1u << 4,
  ATTR_ALPHA = 1u << 5,
  ATTR_OFFSET = 1u << 6, ///< slice start along Axis
  ATTR_RATE = 1u << 7,   ///< batchnorm momentum, dropout probability
  ATTR_EPS = 1u << 8,    ///< batchnorm epsilon
  ATTR_STREAM = 1u << 9, ///< which random stream a dropout mask draws from
  ATTR_PERM = 1u << 10,  ///< permute: which operand axis each result axis is
};

/// Trait bits for the Traits column of Ops.def (see there for each).
enum : unsigned {
  TRAIT_INT = 1u << 0,
  TRAIT_ROWWISE = 1u << 1,
  TRAIT_ALIAS = 1u << 2,
  TRAIT_COMMUTES = 1u << 3,
  TRAIT_FINITE = 1u << 4,
  TRAIT_KEEPS_FINITE = 1u << 5,
  TRAIT_TYPED = 1u << 6,
  TRAIT_IMPURE = 1u << 7,
  TRAIT_PER_IMAGE = 1u << 8,
};

/// Axis value that means "reduce over every element".
constexpr int64_t ALL_AXES = INT64_MIN;

/// Attributes of a node. Only the fields named by the op's attribute mask are
/// meaningful; the others keep their defaults so that equality (CSE) can
/// compare whole structs.
struct Attrs {
  int64_t Axis = 0; ///< Non-negative once built, or ALL_AXES.
  bool KeepDims = false;
  int64_t Stride = 1;
  int64_t Padding = 0;
  int64_t Size = 0;   ///< Pool window, one_hot classes, slice length.
  double Alpha = 0;   ///< leaky_relu slope, elu scale.
  int64_t Offset = 0; ///< slice: the first index taken along Axis.
  double Rate = 0;    ///< batchnorm momentum, dropout probability.
  double Eps = 0;     ///< batchnorm epsilon.
  int64_t Stream = 0; ///< dropout mask: its call site's random stream.
  /// permute: result axis K is operand axis (Perm >> 4K) & 15 (permAxis),
  /// so a permutation of up to MaxPermRank axes fits in one field.
  uint64_t Perm = 0;

  bool operator==(const Attrs &O) const = default;
};

/// The largest rank a permute can reorder.
constexpr unsigned MaxPermRank = 16;
/// The operand axis that result axis `K` of a permute reads.
inline unsigned permAxis(uint64_t Perm, unsigned K) {
  return unsigned(Perm >> (4 * K)) & 15;
}
/// The packed form of `Axes` (each below MaxPermRank) for Attrs::Perm.
inline uint64_t packPerm(const int64_t *Axes, unsigned Rank) {
  uint64_t P = 0;
  for (unsigned K = 0; K < Rank; ++K)
    P |= uint64_t(Axes[K] & 15) << (4 * K);
  return P;
}

/// The op's name in dumps ("matmul").
llvm::StringRef opSpelling(OpKind K);
OpClass opClass(OpKind K);
/// Fixed operand count, or -1 if variadic.
int opNumOperands(OpKind K);
unsigned opAttrMask(OpKind K);
/// The TRAIT_* mask of the op.
unsigned opTraits(OpKind K);
OpGrad opGrad(OpKind K);
/// Reverse of opSpelling.
std::optional<OpKind> opFromSpelling(llvm::StringRef S);

/// The op as a ScalarOp, if it is elementwise.
std::optional<ScalarOp> scalarOp(OpKind K);
/// The op as a KernelOp, if it has a loop structure of its own.
std::optional<KernelOp> kernelOp(OpKind K);

// Predicates on the table's columns; stages ask these instead of listing ops.

inline bool hasTrait(OpKind K, unsigned Trait) {
  return (opTraits(K) & Trait) != 0;
}
inline bool isLeafOp(OpKind K) { return opClass(K) == OpClass::Leaf; }
/// Unary, binary or comparison: one scalar function applied per element.
inline bool isElementwise(OpKind K) { return scalarOp(K).has_value(); }
/// Also takes i32 operands (every other op is f32 only).
inline bool acceptsInt(OpKind K) { return hasTrait(K, TRAIT_INT); }
/// Reads its one operand along an axis, so a fused kernel may compute the
/// operand on the fly (a prologue).
inline bool readsRowWise(OpKind K) { return hasTrait(K, TRAIT_ROWWISE); }
/// The result is a view of the operand's buffer (no kernel, no copy).
inline bool aliasesOperand(OpKind K) { return hasTrait(K, TRAIT_ALIAS); }
/// Computes nothing but where each element is read from (broadcast,
/// transpose, slice): free to recompute per element inside a fused loop
/// nest.
inline bool isIndexRemap(OpKind K) {
  return opClass(K) == OpClass::Shape && !aliasesOperand(K);
}
inline bool commutes(OpKind K) { return hasTrait(K, TRAIT_COMMUTES); }
/// The result is finite whatever the operands are.
inline bool alwaysFinite(OpKind K) { return hasTrait(K, TRAIT_FINITE); }
/// The result is finite whenever the operands are.
inline bool keepsFinite(OpKind K) { return hasTrait(K, TRAIT_KEEPS_FINITE); }
/// The node, not the operands, decides the result type (leaves, reshape,
/// broadcast, cast, some backward kernels).
inline bool resultTypeFromNode(OpKind K) { return hasTrait(K, TRAIT_TYPED); }
/// Draws random numbers: never merged with an equal-looking node, folded
/// or removed for being equal to another.
inline bool isImpure(OpKind K) { return hasTrait(K, TRAIT_IMPURE); }
/// Computes its result image by image, image n from image n of its first
/// operand alone, and its kernel calls a fused kernel's per-image epilogue
/// after each (KernelBuilder::ImageEpilogue).
inline bool runsPerImage(OpKind K) { return hasTrait(K, TRAIT_PER_IMAGE); }
/// The result carries no gradient (comparisons, step, argmax, casts, ...).
inline bool stopsGradient(OpKind K) { return opGrad(K) == OpGrad::Stop; }

} // namespace nnc

#endif
