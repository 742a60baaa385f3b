//===- Expr.cpp - Expressions, operators and node builders ----------------===//
//
// Lowers expressions to graph nodes. Numbers stay symbolic until an operator
// needs them (so `1/255` folds, and `labels + 1` makes an i32 constant);
// operators follow NumPy broadcasting; `@` promotes 1-D operands as NumPy
// does; comparisons compare as f32. Every node carries the SourceLoc of the
// expression it came from.
//
// The node builders at the end check user-visible conditions first (with
// messages naming both types), then type the node with the shared shape
// rules (ShapeRules.h), so Sema and the verifier cannot disagree.
//
//===----------------------------------------------------------------------===//
#include "Builtins.h"
#include "SemaImpl.h"

#include "nnc/Graph/ShapeRules.h"

#include <llvm/Support/CheckedArithmetic.h>

using namespace nnc;
using namespace nnc::sema;

Val Analyzer::lowerExpr(const ast::Expr &E) {
  if (Aborted || Diags.errorCount() >= MaxErrors)
    return Val::error();
  if (++Work > MaxWork) {
    error(E.Loc, "model '" + G->name() +
                     "' is too large to expand (fn calls multiply beyond " +
                     llvm::Twine(MaxWork) + " expressions)");
    Aborted = true;
    return Val::error();
  }
  switch (E.Kind) {
  case ast::ExprKind::Number: {
    std::optional<ConstNum> C = evalConst(E);
    return C ? Val::num(*C) : Val::error();
  }
  case ast::ExprKind::String:
    error(E.Loc, "a string is not a value here");
    return Val::error();
  case ast::ExprKind::Bool:
    error(E.Loc, "'true'/'false' are not values here; use 1 or 0");
    return Val::error();
  case ast::ExprKind::Name: {
    const auto &N = static_cast<const ast::NameExpr &>(E);
    if (const Binding *B = lookup(N.Name))
      return B->V;
    unknownName(N.Name, E.Loc);
    return Val::error();
  }
  case ast::ExprKind::List: {
    // A tensor literal inside an expression is an f32 constant.
    std::optional<Tensor> T = tensorLiteral(E, DType::F32);
    return T ? Val::tensor(G->constant(std::move(*T), E.Loc)) : Val::error();
  }
  case ast::ExprKind::Unary:
    return lowerNeg(lowerExpr(*static_cast<const ast::UnaryExpr &>(E).Operand),
                    E.Loc);
  case ast::ExprKind::Binary: {
    const auto &B = static_cast<const ast::BinaryExpr &>(E);
    Val L = lowerExpr(*B.LHS);
    Val R = lowerExpr(*B.RHS);
    return lowerBinary(B.Op, L, R, E.Loc);
  }
  case ast::ExprKind::Call:
    return lowerCall(static_cast<const ast::CallExpr &>(E));
  }
  return Val::error();
}

Val Analyzer::lowerCall(const ast::CallExpr &Call) {
  if (auto It = Fns.find(Call.Callee); It != Fns.end())
    return expandFn(*It->second, Call);
  if (const BuiltinInfo *B = findBuiltin(Call.Callee))
    return lowerBuiltin(*B, Call);
  if (const Binding *B = lookup(Call.Callee)) {
    error(Call.CalleeLoc,
          "'" + Call.Callee + "' is a " + B->What + ", not a function");
    return Val::error();
  }
  if (isInitializerName(Call.Callee)) {
    error(Call.CalleeLoc,
          "'" + Call.Callee +
              "' is an initializer; it can only follow 'param NAME : TYPE ='");
    return Val::error();
  }
  std::vector<std::string> Candidates = builtinNames();
  for (const auto &F : Fns)
    Candidates.push_back(F.getKey().str());
  llvm::sort(Candidates);
  error(Call.CalleeLoc, "unknown function '" + Call.Callee + "'" +
                            suggest(Call.Callee, Candidates));
  return Val::error();
}

Val Analyzer::lowerNeg(Val V, SourceLoc Loc) {
  switch (V.Kind) {
  case Val::Error:
    return V;
  case Val::Num: {
    if (V.C.IsInt) {
      if (auto N = llvm::checkedSub<int64_t>(0, V.C.I))
        return Val::num(ConstNum::ofInt(*N));
      return Val::num({-V.C.F, 0, false, true});
    }
    ConstNum C = V.C;
    C.F = -C.F;
    return Val::num(C);
  }
  case Val::Tensor:
    return Val::tensor(make(OpKind::Neg, {V.N}, Loc));
  }
  return Val::error();
}

/// The op of an arithmetic or comparison operator.
static OpKind binaryOpKind(ast::BinaryOp Op) {
  switch (Op) {
  case ast::BinaryOp::Add:
    return OpKind::Add;
  case ast::BinaryOp::Sub:
    return OpKind::Sub;
  case ast::BinaryOp::Mul:
    return OpKind::Mul;
  case ast::BinaryOp::Div:
    return OpKind::Div;
  case ast::BinaryOp::Pow:
    return OpKind::Pow;
  case ast::BinaryOp::MatMul:
    return OpKind::MatMul;
  case ast::BinaryOp::Eq:
    return OpKind::CmpEq;
  case ast::BinaryOp::Ne:
    return OpKind::CmpNe;
  case ast::BinaryOp::Lt:
    return OpKind::CmpLt;
  case ast::BinaryOp::Le:
    return OpKind::CmpLe;
  case ast::BinaryOp::Gt:
    return OpKind::CmpGt;
  case ast::BinaryOp::Ge:
    return OpKind::CmpGe;
  }
  return OpKind::Add;
}

Val Analyzer::lowerBinary(ast::BinaryOp Op, Val L, Val R, SourceLoc Loc) {
  if (L.isError() || R.isError())
    return Val::error();
  std::string Spelling = ast::binaryOpSpelling(Op);
  OpKind K = binaryOpKind(Op);
  if (Op == ast::BinaryOp::MatMul)
    return Val::tensor(matmul(materialize(L, DType::F32, Loc),
                              materialize(R, DType::F32, Loc), Loc));
  // Constant arithmetic folds: `1/255`, `2*B`.
  if (L.Kind == Val::Num && R.Kind == Val::Num) {
    std::optional<ConstNum> C = fold(Op, L.C, R.C, Loc, /*Quiet=*/false);
    return C ? Val::num(*C) : Val::error();
  }
  if (opClass(K) == OpClass::Compare) {
    // Comparisons compare as f32 (exact for i32 values below 2^24), so
    // labels compare with predictions of either type.
    Node *A = cast(materialize(L, DType::F32, Loc), DType::F32, Loc);
    Node *B = cast(materialize(R, DType::F32, Loc), DType::F32, Loc);
    if (!A || !B)
      return Val::error();
    return Val::tensor(elementwise(K, A, B, Loc, Spelling));
  }
  return arith(K, L, R, Loc, Spelling);
}

Val Analyzer::arith(OpKind K, Val L, Val R, SourceLoc Loc,
                    llvm::StringRef Spelling) {
  if (L.isError() || R.isError())
    return Val::error();
  // A number takes the dtype of the tensor beside it: an integral number
  // next to an i32 tensor is an i32 constant.
  auto Unify = [&](const Val &Num, const Val &Other) -> Node * {
    if (Other.Kind != Val::Tensor || Other.N->dtype() != DType::I32)
      return materialize(Num, DType::F32, Loc);
    if (!Num.C.isIntegral()) {
      error(Loc, "cannot combine " + formatType(Other.N->Type) +
                     " with the non-integer number " + formatConst(Num.C.F) +
                     " in '" + Spelling + "'");
      return nullptr;
    }
    return materialize(Num, DType::I32, Loc);
  };
  Node *A = L.Kind == Val::Num ? Unify(L, R) : L.N;
  Node *B = R.Kind == Val::Num ? Unify(R, L) : R.N;
  if (!A || !B)
    return Val::error();
  if (A->dtype() != B->dtype()) {
    error(Loc, "operands of '" + Spelling + "' have different element types: " +
                   formatType(A->Type) + " and " + formatType(B->Type));
    return Val::error();
  }
  if (A->dtype() == DType::I32 && (K == OpKind::Div || K == OpKind::Pow)) {
    error(Loc, "'" + Spelling + "' needs f32 operands, but got " +
                   formatType(A->Type) + " and " + formatType(B->Type));
    return Val::error();
  }
  return Val::tensor(elementwise(K, A, B, Loc, Spelling));
}

Node *Analyzer::materialize(const Val &V, DType Want, SourceLoc Loc) {
  switch (V.Kind) {
  case Val::Error:
    return nullptr;
  case Val::Tensor:
    return V.N;
  case Val::Num:
    if (Want == DType::I32 && V.C.isIntegral()) {
      Tensor T(TensorType::scalar(DType::I32));
      T.I[0] = int32_t(V.C.IsInt ? V.C.I : int64_t(V.C.F));
      return G->constant(std::move(T), Loc);
    }
    return G->scalarConst(V.C.F, Loc);
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Node builders
//===----------------------------------------------------------------------===//

bool Analyzer::checkSize(const TensorType &T, SourceLoc Loc) {
  int64_t N = 1;
  for (int64_t D : T.Dims) {
    std::optional<int64_t> P = llvm::checkedMul(N, D);
    if (!P || *P > MaxTensorElements) {
      error(Loc, "tensor type " + formatType(T) +
                     " is too large (more than 2^40 elements)");
      return false;
    }
    N = *P;
  }
  if (G && G->size() >= MaxNodes && !Aborted) {
    error(Loc, "model '" + G->name() + "' has more than " +
                   llvm::Twine(MaxNodes) + " nodes after fn expansion");
    Aborted = true;
  }
  return !Aborted;
}

Node *Analyzer::make(OpKind K, llvm::ArrayRef<Node *> Ops, SourceLoc Loc,
                     Attrs A) {
  if (llvm::is_contained(Ops, nullptr))
    return nullptr;
  llvm::SmallVector<TensorType, 2> Types;
  for (Node *N : Ops)
    Types.push_back(N->Type);
  std::string Why;
  std::optional<TensorType> T = inferResultType(K, Types, A, Why);
  if (!T) {
    error(Loc, Why);
    return nullptr;
  }
  if (!checkSize(*T, Loc))
    return nullptr;
  return G->create(K, *T, Ops, Loc, A);
}

Node *Analyzer::makeTyped(OpKind K, TensorType T, llvm::ArrayRef<Node *> Ops,
                          SourceLoc Loc) {
  if (llvm::is_contained(Ops, nullptr))
    return nullptr;
  llvm::SmallVector<TensorType, 2> Types;
  for (Node *N : Ops)
    Types.push_back(N->Type);
  std::string Why;
  if (!checkResultType(K, Types, Attrs{}, T, Why)) {
    error(Loc, Why);
    return nullptr;
  }
  if (!checkSize(T, Loc))
    return nullptr;
  return G->create(K, std::move(T), Ops, Loc);
}

Node *Analyzer::reshape(Node *X, llvm::ArrayRef<int64_t> Dims, SourceLoc Loc) {
  if (!X)
    return nullptr;
  if (X->dims() == Dims)
    return X;
  return makeTyped(OpKind::Reshape, TensorType(X->dtype(), Dims), {X}, Loc);
}

Node *Analyzer::cast(Node *X, DType To, SourceLoc Loc) {
  if (!X || X->dtype() == To)
    return X;
  return makeTyped(OpKind::Cast, TensorType(To, X->dims()), {X}, Loc);
}

Node *Analyzer::reduce(OpKind K, Node *X, int64_t Axis, bool KeepDims,
                       SourceLoc Loc) {
  Attrs A;
  A.Axis = Axis;
  A.KeepDims = KeepDims;
  return make(K, {X}, Loc, A);
}

Node *Analyzer::elementwise(OpKind K, Node *L, Node *R, SourceLoc Loc,
                            llvm::StringRef Spelling) {
  if (!L || !R)
    return nullptr;
  if (!broadcastShapes(L->dims(), R->dims())) {
    error(Loc, "cannot broadcast " + formatType(L->Type) + " and " +
                   formatType(R->Type) + " in '" + Spelling + "'");
    return nullptr;
  }
  return make(K, {L, R}, Loc);
}

Node *Analyzer::matmul(Node *L, Node *R, SourceLoc Loc) {
  if (!L || !R)
    return nullptr;
  std::string Both = formatType(L->Type) + " and " + formatType(R->Type);
  auto OneOrTwo = [](Node *N) {
    return N->Type.rank() == 1 || N->Type.rank() == 2;
  };
  if (!OneOrTwo(L) || !OneOrTwo(R)) {
    error(Loc, "'@' needs 1-D or 2-D operands, but got " + Both);
    return nullptr;
  }
  if (L->dtype() != DType::F32 || R->dtype() != DType::F32) {
    error(Loc, "'@' needs f32 operands, but got " + Both);
    return nullptr;
  }
  // NumPy promotion: a 1-D left operand is a row [1, K], a 1-D right
  // operand a column [K, 1]; the added axis is removed from the result.
  bool LVec = L->Type.rank() == 1, RVec = R->Type.rank() == 1;
  int64_t M = LVec ? 1 : L->Type.Dims[0];
  int64_t KL = L->Type.Dims.back();
  int64_t KR = R->Type.Dims[0];
  int64_t N = RVec ? 1 : R->Type.Dims[1];
  if (KL != KR) {
    error(Loc, "inner dimensions of " + Both + " do not agree (" +
                   llvm::Twine(KL) + " vs " + llvm::Twine(KR) + ")");
    return nullptr;
  }
  Node *A = LVec ? reshape(L, {1, KL}, Loc) : L;
  Node *B = RVec ? reshape(R, {KR, 1}, Loc) : R;
  Node *P = make(OpKind::MatMul, {A, B}, Loc);
  if (LVec && RVec)
    return reshape(P, {}, Loc);
  if (LVec)
    return reshape(P, {N}, Loc);
  if (RVec)
    return reshape(P, {M}, Loc);
  return P;
}

std::optional<int64_t> Analyzer::normAxis(int64_t Axis, const Node *X,
                                          SourceLoc Loc) {
  int64_t Rank = X->Type.rank();
  if (Axis < -Rank || Axis >= Rank) {
    error(Loc, "axis " + llvm::Twine(Axis) + " is out of range for " +
                   formatType(X->Type));
    return std::nullopt;
  }
  return Axis < 0 ? Axis + Rank : Axis;
}
