//===- Builtins.h - The table of built-in functions -----------------------===//
//
// Each built-in is one row: its name, its parameters (positional tensors,
// then integer/float/bool/shape options with defaults, which may also be
// given as keywords) and the function that lowers a bound call to graph
// nodes. Builtins.cpp holds the table, argument binding and the simple
// lowerings; Lowerings.cpp the compound ones (losses, convolution), and
// Concat.cpp concat's checks.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_SEMA_BUILTINS_H
#define NNC_LIB_SEMA_BUILTINS_H

#include "SemaImpl.h"

#include <llvm/ADT/ArrayRef.h>

#include <vector>

namespace nnc::sema {

enum class ParamKind : uint8_t {
  Tensor, ///< A value; positional only.
  Int,    ///< A compile-time integer (axis, stride, n).
  Float,  ///< A compile-time number (alpha, margin).
  Bool,   ///< true / false (keepdims).
  Shape,  ///< A list of compile-time integers, one may be -1 (reshape).
  Ints,   ///< A list of compile-time integers of any sign (axes).
};

struct BuiltinParam {
  const char *Name;
  ParamKind Kind;
  bool Required = false;
  /// Default for Int/Float/Bool options. An option without a meaningful
  /// default (axis of `sum`: all axes) is recognized by `Arg::Given`.
  double Default = 0;
  /// Only as a keyword (`max(x, axis = 1)`: a second positional argument
  /// of `max` is a tensor).
  bool KeywordOnly = false;
  /// Tensor parameters only: the parameter takes every remaining positional
  /// argument, at least this many (`concat(a, b, ...)` takes 2); 0 for an
  /// ordinary parameter. It is the last positional parameter: the options
  /// after it are keyword-only.
  unsigned MinItems = 0;

  bool isVariadic() const { return MinItems > 0; }
};

using LowerFn = Val (*)(Analyzer &A, const ast::CallExpr &Call,
                        llvm::ArrayRef<Arg> Args);

struct BuiltinInfo {
  const char *Name;
  std::vector<BuiltinParam> Params;
  LowerFn Lower;
};

// Compound built-ins (Lowerings.cpp). `Args` follow the table's parameter
// order.
Val lowerCrossEntropy(Analyzer &A, const ast::CallExpr &Call,
                      llvm::ArrayRef<Arg> Args);
Val lowerBinaryCrossEntropy(Analyzer &A, const ast::CallExpr &Call,
                            llvm::ArrayRef<Arg> Args);
Val lowerMse(Analyzer &A, const ast::CallExpr &Call, llvm::ArrayRef<Arg> Args);
Val lowerReshape(Analyzer &A, const ast::CallExpr &Call,
                 llvm::ArrayRef<Arg> Args);
Val lowerFlatten(Analyzer &A, const ast::CallExpr &Call,
                 llvm::ArrayRef<Arg> Args);
Val lowerHinge(Analyzer &A, const ast::CallExpr &Call,
               llvm::ArrayRef<Arg> Args);
Val lowerConv2d(Analyzer &A, const ast::CallExpr &Call,
                llvm::ArrayRef<Arg> Args);
Val lowerConv1d(Analyzer &A, const ast::CallExpr &Call,
                llvm::ArrayRef<Arg> Args);
Val lowerMaxPool2d(Analyzer &A, const ast::CallExpr &Call,
                   llvm::ArrayRef<Arg> Args);
Val lowerAvgPool2d(Analyzer &A, const ast::CallExpr &Call,
                   llvm::ArrayRef<Arg> Args);
Val lowerBatchNorm(Analyzer &A, const ast::CallExpr &Call,
                   llvm::ArrayRef<Arg> Args);
Val lowerDropout(Analyzer &A, const ast::CallExpr &Call,
                 llvm::ArrayRef<Arg> Args);
/// TensorOps.cpp: f32(x), i32(x).
template <DType To>
Val lowerCastTo(Analyzer &A, const ast::CallExpr &Call,
                llvm::ArrayRef<Arg> Args);
/// TensorOps.cpp: slice(x, axis, start, end).
Val lowerSlice(Analyzer &A, const ast::CallExpr &Call,
               llvm::ArrayRef<Arg> Args);
/// TensorOps.cpp: permute(x, [axes]).
Val lowerPermute(Analyzer &A, const ast::CallExpr &Call,
                 llvm::ArrayRef<Arg> Args);
/// TensorOps.cpp: full([dims], value), broadcast(x, [dims]).
Val lowerFull(Analyzer &A, const ast::CallExpr &Call, llvm::ArrayRef<Arg> Args);
Val lowerBroadcast(Analyzer &A, const ast::CallExpr &Call,
                   llvm::ArrayRef<Arg> Args);
/// Rounding.cpp: floor(x) (Mode 0), ceil(x) (1), round(x) (2).
template <int Mode>
Val lowerRounding(Analyzer &A, const ast::CallExpr &Call,
                  llvm::ArrayRef<Arg> Args);
/// Concat.cpp: concat of `Args[0].Items` along `Args[1]`.
Val lowerConcat(Analyzer &A, const ast::CallExpr &Call,
                llvm::ArrayRef<Arg> Args);

} // namespace nnc::sema

#endif
