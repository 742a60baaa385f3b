//===- GradBuilder.cpp - Appending typed nodes for the backward pass ------===//
//
// Result-type inference for the handful of ops the backward pass and the
// optimizer update create, plus `unbroadcast`. Types are inferred here
// rather than taken from a shared shape-rule library so that a malformed
// rule fails at its own line with an assert naming the op.
//
//===----------------------------------------------------------------------===//
#include "GradBuilder.h"

#include <cassert>

using namespace nnc;

Node *GradBuilder::make(OpKind K, TensorType T, llvm::ArrayRef<Node *> Operands,
                        Attrs A) {
  Node *N = G.create(K, std::move(T), Operands, Loc, A);
  N->Role = Role;
  return N;
}

Node *GradBuilder::scalar(double V) {
  Node *N = G.scalarConst(V, Loc);
  N->Role = Role;
  return N;
}

Node *GradBuilder::leaf(OpKind K, TensorType T, llvm::StringRef Name) {
  Node *N = make(K, std::move(T), {});
  N->Name = Name.str();
  return N;
}

Node *GradBuilder::unary(OpKind K, Node *X, Attrs A) {
  assert(opClass(K) == OpClass::Unary && "not an elementwise unary op");
  return make(K, TensorType(DType::F32, X->dims()), {X}, A);
}

Node *GradBuilder::binary(OpKind K, Node *A, Node *B) {
  assert((opClass(K) == OpClass::Binary || opClass(K) == OpClass::Compare) &&
         "not an elementwise binary op");
  std::optional<Shape> Dims = broadcastShapes(A->dims(), B->dims());
  assert(Dims && "backward operands do not broadcast");
  return make(K, TensorType(DType::F32, *Dims), {A, B});
}

Node *GradBuilder::reduceSum(Node *X, int64_t Axis, bool KeepDims) {
  Shape Dims;
  if (Axis == ALL_AXES) {
    if (KeepDims)
      Dims.assign(X->Type.rank(), 1);
  } else {
    assert(Axis >= 0 && Axis < int64_t(X->Type.rank()) && "bad axis");
    Dims.assign(X->dims().begin(), X->dims().end());
    if (KeepDims)
      Dims[Axis] = 1;
    else
      Dims.erase(Dims.begin() + Axis);
  }
  Attrs A;
  A.Axis = Axis;
  A.KeepDims = KeepDims;
  return make(OpKind::ReduceSum, TensorType(DType::F32, Dims), {X}, A);
}

Node *GradBuilder::reshape(Node *X, llvm::ArrayRef<int64_t> Dims) {
  if (X->dims() == Dims)
    return X;
  assert(TensorType(DType::F32, Dims).numElements() == X->Type.numElements() &&
         "reshape changes the element count");
  return make(OpKind::Reshape, TensorType(X->dtype(), Dims), {X});
}

Node *GradBuilder::broadcastTo(Node *X, llvm::ArrayRef<int64_t> Dims) {
  if (X->dims() == Dims)
    return X;
  assert(broadcastShapes(X->dims(), Dims) == Shape(Dims.begin(), Dims.end()) &&
         "operand does not broadcast to the target shape");
  return make(OpKind::Broadcast, TensorType(X->dtype(), Dims), {X});
}

Node *GradBuilder::transpose(Node *X) {
  assert(X->Type.rank() == 2 && "transpose takes a 2-D tensor");
  return make(OpKind::Transpose,
              TensorType(X->dtype(), {X->dims()[1], X->dims()[0]}), {X});
}

Node *GradBuilder::permute(Node *X, uint64_t Perm) {
  Shape Dims;
  for (unsigned K = 0; K < X->Type.rank(); ++K)
    Dims.push_back(X->dims()[permAxis(Perm, K)]);
  Attrs A;
  A.Perm = Perm;
  return make(OpKind::Permute, TensorType(X->dtype(), Dims), {X}, A);
}

Node *GradBuilder::slice(Node *X, int64_t Axis, int64_t Offset, int64_t Size) {
  assert(Axis >= 0 && Axis < int64_t(X->Type.rank()) && "bad axis");
  int64_t Len = X->dims()[Axis];
  assert(Offset >= 0 && Size >= 0 && Offset + Size <= Len &&
         "slice out of range");
  if (Offset == 0 && Size == Len)
    return X;
  Shape Dims(X->dims().begin(), X->dims().end());
  Dims[Axis] = Size;
  Attrs A;
  A.Axis = Axis;
  A.Offset = Offset;
  A.Size = Size;
  return make(OpKind::Slice, TensorType(X->dtype(), Dims), {X}, A);
}

Node *GradBuilder::concat(llvm::ArrayRef<Node *> Parts, int64_t Axis) {
  assert(!Parts.empty() && "concat of nothing");
  if (Parts.size() == 1)
    return Parts[0];
  Shape Dims(Parts[0]->dims().begin(), Parts[0]->dims().end());
  assert(Axis >= 0 && Axis < int64_t(Dims.size()) && "bad axis");
  for (const Node *P : Parts.drop_front()) {
    assert(P->Type.rank() == Dims.size() && P->dtype() == Parts[0]->dtype() &&
           "concat parts differ in rank or dtype");
    Dims[Axis] += P->dims()[Axis];
  }
  Attrs A;
  A.Axis = Axis;
  return make(OpKind::Concat, TensorType(Parts[0]->dtype(), Dims), Parts, A);
}

Node *GradBuilder::matmul(Node *A, Node *B) {
  assert(A->Type.rank() == 2 && B->Type.rank() == 2 &&
         A->dims()[1] == B->dims()[0] && "matmul shapes do not agree");
  return make(OpKind::MatMul,
              TensorType(DType::F32, {A->dims()[0], B->dims()[1]}), {A, B});
}

Node *GradBuilder::channelSum(Node *X) {
  // [N, C] sums one axis: the plain reduction reads best in dumps.
  if (X->Type.rank() == 2)
    return reduceSum(X, 0, /*KeepDims=*/false);
  return make(OpKind::ChannelSum, TensorType(X->dtype(), {X->dims()[1]}), {X});
}

/// True when `Dims`, right-aligned against `From` (rank >= 3), is 1 on
/// every axis but axis 1, where it equals From's.
static bool isPerChannel(llvm::ArrayRef<int64_t> From,
                         llvm::ArrayRef<int64_t> Dims) {
  if (From.size() < 3 || Dims.size() > From.size())
    return false;
  size_t Lead = From.size() - Dims.size();
  for (size_t I = 0; I < From.size(); ++I) {
    int64_t D = I < Lead ? 1 : Dims[I - Lead];
    if (D != (I == 1 ? From[1] : 1))
      return false;
  }
  return true;
}

Node *GradBuilder::unbroadcast(Node *Grad, llvm::ArrayRef<int64_t> Dims) {
  llvm::ArrayRef<int64_t> From = Grad->dims();
  if (From == Dims)
    return Grad;
  if (Dims.empty())
    return reduceSum(Grad, ALL_AXES, /*KeepDims=*/false);
  assert(From.size() >= Dims.size() && "unbroadcast to a higher rank");
  // One pass over the gradient instead of one per reduced axis.
  if (isPerChannel(From, Dims))
    return reshape(channelSum(Grad), Dims);
  size_t Lead = From.size() - Dims.size();
  Node *R = Grad;
  // Axes the operand had as 1 but the result stretched: keep them as 1 so
  // the following axes keep their numbers.
  for (size_t I = 0; I < Dims.size(); ++I)
    if (Dims[I] == 1 && From[Lead + I] != 1)
      R = reduceSum(R, int64_t(Lead + I), /*KeepDims=*/true);
  // Leading axes the operand lacked: sum them away, from the front. A
  // leading axis of size 1 holds no sum; the final reshape drops it.
  int64_t Pos = 0;
  for (size_t I = 0; I < Lead; ++I) {
    if (From[I] == 1) {
      ++Pos;
      continue;
    }
    R = reduceSum(R, Pos, /*KeepDims=*/false);
  }
  return reshape(R, Dims);
}
