//===- TensorOps.cpp - Casts and slices -----------------------------------===//
//
// Built-ins that models from other tools need (docs/language.md, "Built-in
// functions"; the ONNX importer writes them, docs/onnx.md): element type
// conversions, a slice along one axis, a permutation of the axes, a tensor
// of one value and an explicit broadcast, each one primitive op.
//
//===----------------------------------------------------------------------===//
#include "Builtins.h"

using namespace nnc;
using namespace nnc::sema;

/// f32(x) / i32(x) -> cast (none when x already has the type). f32 -> i32
/// rounds toward zero, saturating (NaN gives 0).
template <DType To>
Val sema::lowerCastTo(Analyzer &A, const ast::CallExpr &C,
                      llvm::ArrayRef<Arg> Args) {
  Node *X = A.tensorArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  return Val::tensor(A.cast(X, To, C.Loc));
}
template Val sema::lowerCastTo<DType::F32>(Analyzer &, const ast::CallExpr &,
                                           llvm::ArrayRef<Arg>);
template Val sema::lowerCastTo<DType::I32>(Analyzer &, const ast::CallExpr &,
                                           llvm::ArrayRef<Arg>);

/// slice(x, axis, start, end) -> slice {axis, offset = start, size = end -
/// start}: x[..., start:end, ...] along axis, negative positions counted
/// from the end as in Python; the whole axis is x itself.
Val sema::lowerSlice(Analyzer &A, const ast::CallExpr &C,
                     llvm::ArrayRef<Arg> Args) {
  Node *X = A.tensorArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  auto Axis = A.normAxis(Args[1].I, X, Args[1].Loc);
  if (!Axis)
    return Val::error();
  int64_t Dim = X->dims()[*Axis];
  int64_t Start = Args[2].I < 0 ? Args[2].I + Dim : Args[2].I;
  int64_t End = Args[3].I < 0 ? Args[3].I + Dim : Args[3].I;
  if (!(0 <= Start && Start < End && End <= Dim)) {
    A.error(C.Loc, "slice " + llvm::Twine(Args[2].I) + ":" +
                       llvm::Twine(Args[3].I) + " of axis " +
                       llvm::Twine(*Axis) + " of " + formatType(X->Type) +
                       " is empty or out of range");
    return Val::error();
  }
  if (Start == 0 && End == Dim)
    return Val::tensor(X);
  Attrs At;
  At.Axis = *Axis;
  At.Offset = Start;
  At.Size = End - Start;
  return Val::tensor(A.make(OpKind::Slice, {X}, C.Loc, At));
}

/// permute(x, [p0, p1, ...]) -> permute {perm}: result axis k is x's axis
/// p_k (numpy.transpose(x, axes)); negative axes count from the end.
Val sema::lowerPermute(Analyzer &A, const ast::CallExpr &C,
                       llvm::ArrayRef<Arg> Args) {
  Node *X = A.tensorArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  int64_t Rank = X->Type.rank();
  const Shape &P = Args[1].Dims;
  if (int64_t(P.size()) != Rank || Rank > int64_t(MaxPermRank)) {
    A.error(Args[1].Loc, "'permute' of " + formatType(X->Type) +
                             " needs a permutation of its " +
                             llvm::Twine(Rank) + " axes, but got " +
                             formatShape(P));
    return Val::error();
  }
  int64_t Axes[MaxPermRank];
  unsigned Seen = 0;
  for (int64_t K = 0; K < Rank; ++K) {
    int64_t From = P[K] < 0 ? P[K] + Rank : P[K];
    if (From < 0 || From >= Rank || (Seen & (1u << From))) {
      A.error(Args[1].Loc, formatShape(P) + " is not a permutation of the " +
                               llvm::Twine(Rank) + " axes of " +
                               formatType(X->Type));
      return Val::error();
    }
    Seen |= 1u << From;
    Axes[K] = From;
  }
  bool Identity = true;
  for (int64_t K = 0; K < Rank; ++K)
    Identity &= Axes[K] == K;
  if (Identity)
    return Val::tensor(X);
  Attrs At;
  At.Perm = packPerm(Axes, unsigned(Rank));
  return Val::tensor(A.make(OpKind::Permute, {X}, C.Loc, At));
}

/// full([d0, ...], value) -> broadcast value : f32[d0, ...]: a tensor of one
/// value, which the optimizer treats as a splat (no memory of its own).
Val sema::lowerFull(Analyzer &A, const ast::CallExpr &C,
                    llvm::ArrayRef<Arg> Args) {
  for (int64_t D : Args[0].Dims)
    if (D < 1) {
      A.error(Args[0].Loc, "'full' needs a shape of positive dimensions");
      return Val::error();
    }
  Node *V = A.scalar(Args[1].F, C.Loc);
  if (Args[0].Dims.empty())
    return Val::tensor(V);
  return Val::tensor(A.makeTyped(
      OpKind::Broadcast, TensorType(DType::F32, Args[0].Dims), {V}, C.Loc));
}

/// broadcast(x, [d0, ...]) -> broadcast x: x stretched to that shape by
/// NumPy's rules (numpy.broadcast_to).
Val sema::lowerBroadcast(Analyzer &A, const ast::CallExpr &C,
                         llvm::ArrayRef<Arg> Args) {
  Node *X = A.tensorArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  const Shape &Dims = Args[1].Dims;
  std::optional<Shape> B = broadcastShapes(X->dims(), Dims);
  if (!B || *B != Dims) {
    A.error(Args[1].Loc, "cannot broadcast " + formatType(X->Type) + " to " +
                             formatShape(Dims));
    return Val::error();
  }
  if (X->dims() == llvm::ArrayRef<int64_t>(Dims))
    return Val::tensor(X);
  return Val::tensor(
      A.makeTyped(OpKind::Broadcast, TensorType(X->dtype(), Dims), {X}, C.Loc));
}
