//===- PrintUtil.h - Naming and formatting shared by the graph dumps ------===//
//
// The text printer and the DOT writer must agree on how a node is named
// (`%h`, `%0`, `%h.1`), how numbers, literals, initializers and attributes
// are spelled, and which nodes get a line of their own (scalar constants are
// written inline where they are used). This private header holds those
// rules once so the two dumps cannot drift apart.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_GRAPH_PRINTUTIL_H
#define NNC_LIB_GRAPH_PRINTUTIL_H

#include "nnc/Graph/Graph.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/STLFunctionalExtras.h>

#include <string>

namespace nnc::detail {

/// Whether a node gets its own line (text) or record (DOT). Scalar constants
/// are spelled as numbers inside their users instead.
inline bool hasOwnLine(const Node &N) { return !N.isScalarConst(); }

/// Assigns every printed node of a graph a unique `%name`: its own name when
/// it has one (later duplicates get `.1`, `.2`, ...), else the next number.
class NodeNamer {
public:
  explicit NodeNamer(const Graph &G);

  /// How `N` is spelled as an operand: `%name`, or the number of a scalar
  /// constant. A node from outside the graph (a verifier failure) prints as
  /// `%<foreign>` rather than crashing the dump.
  std::string ref(const Node *N) const;

private:
  llvm::DenseMap<const Node *, std::string> Names;
};

/// The shortest text that reads back as the same f32 (`0.25`, `2`, `1e-08`).
std::string formatNumber(double V);

/// Elements 0, 1, ... of a row-major tensor of shape `Dims`, one bracket
/// level per dimension (`[[1, 0], [0, 1]]`); a scalar is its one element.
std::string formatNested(llvm::ArrayRef<int64_t> Dims,
                         llvm::function_ref<std::string(int64_t)> Elem);

/// A tensor literal with nested brackets (`[[1, 0], [0, 1]]`); more than 16
/// elements print as the first 16 of a flat list followed by `, ...`.
std::string formatLiteral(const Tensor &T);

/// A param's initializer as written in `.nn` (`uniform(-1, 1)`).
std::string formatInit(const InitSpec &I);

/// The attributes named by the op's mask, `{axis = 1, keepdims}`, or "" when
/// the op has none.
std::string formatAttrs(const Node &N);

/// The right-hand side of a node's line without its type:
/// `matmul %x, %W1`, `param zeros`, `reduce_sum %4 {axis = all}`.
std::string formatOp(const Node &N, const NodeNamer &Names);

} // namespace nnc::detail

#endif
