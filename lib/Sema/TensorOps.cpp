//===- TensorOps.cpp - Casts and slices -----------------------------------===//
//
// Built-ins that models from other tools need (docs/language.md, "Built-in
// functions"; the ONNX importer writes them, docs/onnx.md): element type
// conversions and a slice along one axis, each one primitive op.
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
