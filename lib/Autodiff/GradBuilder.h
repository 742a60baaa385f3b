//===- GradBuilder.h - Appending typed nodes for the backward pass --------===//
//
// The gradient rules and the optimizer update build many small expressions
// (`dy * (1 - y*y)`). GradBuilder appends them to the graph with their result
// types inferred (NumPy broadcasting for elementwise ops), stamps every node
// with the role and source location of what is being differentiated, and
// provides the one non-trivial helper every rule needs: `unbroadcast`, which
// undoes a forward broadcast by summing over the broadcast axes.
//
// Internal to lib/Autodiff.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_AUTODIFF_GRADBUILDER_H
#define NNC_LIB_AUTODIFF_GRADBUILDER_H

#include "nnc/Graph/Graph.h"

namespace nnc {

class GradBuilder {
public:
  GradBuilder(Graph &G, NodeRole Role) : G(G), Role(Role) {}

  Graph &graph() { return G; }
  /// Location stamped on every node built from now on: the forward node
  /// being differentiated.
  void setLoc(SourceLoc L) { Loc = L; }

  /// Any op with an explicit result type.
  Node *make(OpKind K, TensorType T, llvm::ArrayRef<Node *> Operands,
             Attrs A = {});

  /// A scalar f32 Const.
  Node *scalar(double V);
  /// A leaf (State, Hyper) of type `T`, named `Name`.
  Node *leaf(OpKind K, TensorType T, llvm::StringRef Name);

  /// Elementwise op with the result shape of its operand.
  Node *unary(OpKind K, Node *X, Attrs A = {});
  /// Elementwise binary op (or comparison) with NumPy broadcasting.
  Node *binary(OpKind K, Node *A, Node *B);

  Node *neg(Node *X) { return unary(OpKind::Neg, X); }
  Node *add(Node *A, Node *B) { return binary(OpKind::Add, A, B); }
  Node *sub(Node *A, Node *B) { return binary(OpKind::Sub, A, B); }
  Node *mul(Node *A, Node *B) { return binary(OpKind::Mul, A, B); }
  Node *div(Node *A, Node *B) { return binary(OpKind::Div, A, B); }
  Node *pow(Node *A, Node *B) { return binary(OpKind::Pow, A, B); }
  Node *add(Node *A, double B) { return add(A, scalar(B)); }
  Node *mul(double A, Node *B) { return mul(scalar(A), B); }
  Node *sub(double A, Node *B) { return sub(scalar(A), B); }

  /// reduce_sum over `Axis` (or ALL_AXES).
  Node *reduceSum(Node *X, int64_t Axis, bool KeepDims);
  /// [N, C, ...] -> [C], summing every axis but 1: channel_sum, or for
  /// [N, C] reduce_sum over axis 0.
  Node *channelSum(Node *X);
  /// `X` reshaped to `Dims`; `X` itself when it already has that shape.
  Node *reshape(Node *X, llvm::ArrayRef<int64_t> Dims);
  /// `X` broadcast to `Dims`; `X` itself when it already has that shape.
  Node *broadcastTo(Node *X, llvm::ArrayRef<int64_t> Dims);
  /// Swaps the two axes of a 2-D tensor.
  Node *transpose(Node *X);
  /// Result axis K is X's axis permAxis(Perm, K).
  Node *permute(Node *X, uint64_t Perm);
  /// `Size` elements of `X` along `Axis` from `Offset` on; `X` itself when
  /// that is all of it.
  Node *slice(Node *X, int64_t Axis, int64_t Offset, int64_t Size);
  /// `Parts` one after another along `Axis`; a single part is itself.
  Node *concat(llvm::ArrayRef<Node *> Parts, int64_t Axis);
  /// [M, K] x [K, N] -> [M, N].
  Node *matmul(Node *A, Node *B);

  /// Sums `Grad` (a value of a broadcast result's shape) back to `Dims`, the
  /// shape of an operand before broadcasting: reduce_sum with keepdims over
  /// every axis the operand had as 1 and the result stretched, then over the
  /// leading axes the operand lacked, then a reshape. A scalar operand gets
  /// one reduce_sum over all elements, and one with a value per channel
  /// (`[1, C, 1, 1]`, `[C, 1, 1]`: a bias or a batchnorm factor along axis
  /// 1) one channel_sum.
  Node *unbroadcast(Node *Grad, llvm::ArrayRef<int64_t> Dims);

private:
  Graph &G;
  NodeRole Role;
  SourceLoc Loc;
};

} // namespace nnc

#endif
