//===- Op.h - Op kinds, classes and attributes from Ops.def ---------------===//
//
// Expands the op table (Ops.def) into the OpKind enum and the per-op facts
// every stage asks for: spelling, class, operand count and attribute mask.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_OP_H
#define NNC_GRAPH_OP_H

#include <llvm/ADT/StringRef.h>

#include <cstdint>
#include <optional>

namespace nnc {

enum class OpKind : uint8_t {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs) Name,
#include "nnc/Graph/Ops.def"
};

/// How an op's result shape follows from its operands, and how it lowers.
enum class OpClass : uint8_t {
  Leaf,    ///< No operands; the value comes from outside.
  Unary,   ///< Elementwise, one operand.
  Binary,  ///< Elementwise, two operands, NumPy broadcasting.
  Compare, ///< Like Binary, but the result is f32 0/1 with no gradient.
  Reduce,  ///< Over one axis or all axes.
  Shape,   ///< Moves data, computes nothing.
  Other,   ///< Its own shape rule and kernel.
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
};

/// Axis value that means "reduce over every element".
constexpr int64_t ALL_AXES = INT64_MIN;

/// Attributes of a node. Only the fields named by the op's attribute mask are
/// meaningful; the others keep their defaults so that equality (CSE) can
/// compare whole structs.
struct Attrs {
  int64_t Axis = 0;  ///< Non-negative once built, or ALL_AXES.
  bool KeepDims = false;
  int64_t Stride = 1;
  int64_t Padding = 0;
  int64_t Size = 0; ///< Pool window, or number of classes for one_hot.
  double Alpha = 0; ///< leaky_relu slope, elu scale.

  bool operator==(const Attrs &O) const = default;
};

/// The op's name in dumps ("matmul").
llvm::StringRef opSpelling(OpKind K);
OpClass opClass(OpKind K);
/// Fixed operand count, or -1 if variadic.
int opNumOperands(OpKind K);
unsigned opAttrMask(OpKind K);
/// Reverse of opSpelling.
std::optional<OpKind> opFromSpelling(llvm::StringRef S);

/// True for ops whose result carries no gradient (comparisons, step, argmax).
bool isNonDifferentiable(OpKind K);

} // namespace nnc

#endif
