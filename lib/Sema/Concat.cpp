//===- Concat.cpp - The concat built-in -----------------------------------===//
//
// concat(a, b, ..., axis = k) joins two or more tensors along one axis as
// one primitive op. Its lowering is all checking: the binder hands it any
// number of tensors (a variadic parameter, Builtins.cpp), and each is
// checked against the first, so an error points at the operand that
// differs and names both types.
//
//===----------------------------------------------------------------------===//
#include "Builtins.h"

using namespace nnc;
using namespace nnc::sema;

namespace {

std::string both(const Node *X, const Node *Y) {
  return formatType(X->Type) + " and " + formatType(Y->Type);
}

} // namespace

/// concat(x_0, x_1, ..., axis = k) -> concat {axis = k}
/// Like numpy.concatenate and torch.cat (axis 0 by default): one element
/// type and rank, sizes equal on every axis but k. Each operand is checked
/// against the first, and an error points at the operand that differs.
Val sema::lowerConcat(Analyzer &A, const ast::CallExpr &C,
                      llvm::ArrayRef<Arg> Args) {
  llvm::SmallVector<Node *, 4> Xs;
  for (const Arg &Item : Args[0].Items) {
    if (Item.V.Kind == Val::Num) {
      // concat(a, b, 1): the axis is keyword-only, since any number of
      // tensors comes first.
      A.error(Item.Loc, "'concat' joins tensors, but this is the number " +
                            formatConst(Item.V.C.F) +
                            "; the axis is given as 'axis = K'");
      return Val::error();
    }
    Xs.push_back(A.tensorArg(Item, C.Callee));
  }
  Node *First = Xs[0];
  if (First->Type.isScalar()) {
    A.error(Args[0].Loc, "'concat' needs tensors of rank 1 or more, but got " +
                             formatType(First->Type));
    return Val::error();
  }
  for (size_t I = 1; I < Xs.size(); ++I) {
    const TensorType &T = Xs[I]->Type;
    SourceLoc Loc = Args[0].Items[I].Loc;
    if (T.Elem != First->dtype()) {
      A.error(Loc, "'concat' operands have different element types: " +
                       both(First, Xs[I]));
      return Val::error();
    }
    if (T.rank() != First->Type.rank()) {
      A.error(Loc,
              "'concat' operands have different ranks: " + both(First, Xs[I]));
      return Val::error();
    }
  }
  auto Axis = A.normAxis(Args[1].I, First, Args[1].Given ? Args[1].Loc : C.Loc);
  if (!Axis)
    return Val::error();
  for (size_t I = 1; I < Xs.size(); ++I)
    for (unsigned D = 0; D < First->Type.rank(); ++D)
      if (int64_t(D) != *Axis && Xs[I]->Type.Dims[D] != First->Type.Dims[D]) {
        A.error(Args[0].Items[I].Loc,
                "'concat' along axis " + llvm::Twine(*Axis) + " needs " +
                    both(First, Xs[I]) + " to agree on axis " + llvm::Twine(D) +
                    " (" + llvm::Twine(First->Type.Dims[D]) + " vs " +
                    llvm::Twine(Xs[I]->Type.Dims[D]) + ")");
        return Val::error();
      }
  Attrs At;
  At.Axis = *Axis;
  return Val::tensor(A.make(OpKind::Concat, Xs, C.Loc, At));
}
