//===- Decls.cpp - Types, leaves, initializers and tensor literals --------===//
//
// The declarations of a model body: `input`, `target`, `param` and `const`
// become leaf nodes of a resolved TensorType. This file checks the types
// (element type, positive dims, size cap), the batch dimension shared by
// inputs and targets, param initializers (docs/language.md, "Initializers")
// and const values, and turns nested list literals into Tensors.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/Path.h>

#include <functional>

using namespace nnc;
using namespace nnc::sema;

std::optional<TensorType> Analyzer::resolveType(const ast::TypeExpr &T,
                                                FileType *Stored) {
  std::optional<DType> Elem = resolveElementType(T, Stored);
  Shape Dims;
  bool Ok = Elem.has_value();
  for (const ast::ExprPtr &D : T.Dims) {
    std::optional<int64_t> V = evalDim(*D);
    Ok &= V.has_value();
    Dims.push_back(V.value_or(1));
  }
  if (!Ok)
    return std::nullopt;
  TensorType Result(*Elem, Dims);
  if (!checkSize(Result, T.Loc))
    return std::nullopt;
  return Result;
}

std::optional<DType> Analyzer::resolveElementType(const ast::TypeExpr &T,
                                                  FileType *Stored) {
  auto Named = elementTypeFromName(T.DType);
  if (!Named) {
    error(T.Loc, "unknown element type '" + T.DType + "'; expected f32 or i32" +
                     (Stored ? " (or, for a tensor file's data, f64, f16, "
                               "bf16, bool, i64, i16, i8, u8, u16, u32 or u64)"
                             : ""));
    return std::nullopt;
  }
  if (Named->second != FileType::Native && !Stored) {
    error(T.Loc, "'" + T.DType +
                     "' is a tensor file's element type, which only inputs "
                     "and outputs may have; expected f32 or i32");
    return std::nullopt;
  }
  if (Stored)
    *Stored = Named->second;
  return Named->first;
}

bool sema::isInitializerName(llvm::StringRef Name) {
  return Name == "zeros" || Name == "ones" || Name == "const" ||
         Name == "uniform" || Name == "normal" || Name == "glorot_uniform" ||
         Name == "he_normal" || Name == "load";
}

std::optional<Tensor> Analyzer::loadTensor(const ast::CallExpr &C,
                                           const std::string &Name,
                                           const TensorType &Want) {
  if (C.Args.size() != 1 || !C.Kwargs.empty() ||
      C.Args[0]->Kind != ast::ExprKind::String) {
    error(C.CalleeLoc, "load takes one argument, the tensor file's name as a "
                       "string: load(\"weights.safetensors\")");
    return std::nullopt;
  }
  std::string Path = static_cast<const ast::StringExpr &>(*C.Args[0]).Value;
  if (!Path.empty() && !llvm::sys::path::is_absolute(Path) &&
      !BaseDir.empty()) {
    llvm::SmallString<256> Full(BaseDir);
    llvm::sys::path::append(Full, Path);
    Path = std::string(Full);
  }
  if (!Read) {
    error(C.CalleeLoc, "load(...) cannot read tensor files here");
    return std::nullopt;
  }
  llvm::Expected<Tensor> T = Read(Path, Name);
  if (!T) {
    error(C.Args[0]->Loc, llvm::toString(T.takeError()));
    return std::nullopt;
  }
  if (T->Type != Want) {
    error(C.Args[0]->Loc, "tensor '" + Name + "' of '" + Path + "' is " +
                              formatType(T->Type) + ", but '" + Name +
                              "' is declared " + formatType(Want));
    return std::nullopt;
  }
  return std::move(*T);
}

/// Binds the arguments of `uniform(lo, hi)`-style initializer calls, by
/// position or keyword. Returns false after an error.
static bool bindInitArgs(Analyzer &A, const ast::CallExpr &C,
                         llvm::ArrayRef<const char *> Names,
                         llvm::SmallVectorImpl<double> &Out) {
  std::vector<const ast::Expr *> Given(Names.size(), nullptr);
  std::string Sig = C.Callee + "(" + llvm::join(Names, ", ") + ")";
  if (C.Args.size() > Names.size()) {
    A.error(C.Args[Names.size()]->Loc, "too many arguments for " + Sig);
    return false;
  }
  for (size_t I = 0; I < C.Args.size(); ++I)
    Given[I] = C.Args[I].get();
  for (const ast::KeywordArg &K : C.Kwargs) {
    auto It = llvm::find_if(Names, [&](const char *N) { return K.Name == N; });
    if (It == Names.end()) {
      A.error(K.Loc, "unknown keyword '" + K.Name + "' for " + Sig);
      return false;
    }
    const ast::Expr *&Slot = Given[It - Names.begin()];
    if (Slot) {
      A.error(K.Loc, "argument '" + K.Name + "' is given twice");
      return false;
    }
    Slot = K.Value.get();
  }
  bool Ok = true;
  for (size_t I = 0; I < Names.size(); ++I) {
    if (!Given[I]) {
      A.error(C.CalleeLoc,
              "missing argument '" + llvm::Twine(Names[I]) + "' of " + Sig);
      return false;
    }
    std::optional<double> V = A.evalNumber(*Given[I], Names[I]);
    Ok &= V.has_value();
    Out.push_back(V.value_or(0));
  }
  return Ok;
}

bool Analyzer::lowerInit(const ast::Expr *E, Node *N, SourceLoc DeclLoc) {
  InitSpec &Init = N->Init;
  if (!E) {
    error(DeclLoc, "param '" + N->Name + "' needs an initializer");
    return false;
  }
  static const char *const Names[] = {"zeros",     "ones",   "const",
                                      "uniform",   "normal", "glorot_uniform",
                                      "he_normal", "load"};
  auto Unknown = [&](llvm::StringRef Name, SourceLoc Loc) {
    std::vector<std::string> Candidates(std::begin(Names), std::end(Names));
    error(Loc,
          "unknown initializer '" + Name + "'" + suggest(Name, Candidates));
    return false;
  };
  auto Simple = [&](llvm::StringRef Name) -> std::optional<InitSpec::KindT> {
    if (Name == "zeros")
      return InitSpec::Zeros;
    if (Name == "ones")
      return InitSpec::Ones;
    if (Name == "glorot_uniform")
      return InitSpec::GlorotUniform;
    if (Name == "he_normal")
      return InitSpec::HeNormal;
    return std::nullopt;
  };

  switch (E->Kind) {
  case ast::ExprKind::Name: {
    const auto &Name = static_cast<const ast::NameExpr &>(*E).Name;
    if (auto K = Simple(Name)) {
      Init.Kind = *K;
      return true;
    }
    if (Name == "uniform" || Name == "normal" || Name == "const") {
      error(E->Loc, "initializer '" + Name + "' needs arguments, e.g. " +
                        (Name == "uniform"  ? "uniform(-1, 1)"
                         : Name == "normal" ? "normal(0, 0.1)"
                                            : "const(0.1)"));
      return false;
    }
    return Unknown(Name, E->Loc);
  }
  case ast::ExprKind::Call: {
    const auto &C = static_cast<const ast::CallExpr &>(*E);
    llvm::SmallVector<double, 2> V;
    if (auto K = Simple(C.Callee)) {
      if (!bindInitArgs(*this, C, {}, V))
        return false;
      Init.Kind = *K;
      return true;
    }
    if (C.Callee == "load") {
      std::optional<Tensor> T = loadTensor(C, N->Name, N->Type);
      if (!T)
        return false;
      Init.Kind = InitSpec::Literal;
      Init.Value = std::move(*T);
      return true;
    }
    if (C.Callee == "const") {
      if (!bindInitArgs(*this, C, {"value"}, V))
        return false;
      Init.Kind = InitSpec::Constant;
      Init.A = V[0];
      return true;
    }
    if (C.Callee == "uniform") {
      if (!bindInitArgs(*this, C, {"lo", "hi"}, V))
        return false;
      if (!(V[0] < V[1])) {
        error(C.CalleeLoc, "uniform(lo, hi) needs lo < hi, but got lo = " +
                               formatConst(V[0]) +
                               ", hi = " + formatConst(V[1]));
        return false;
      }
      Init.Kind = InitSpec::Uniform;
      Init.A = V[0];
      Init.B = V[1];
      return true;
    }
    if (C.Callee == "normal") {
      if (!bindInitArgs(*this, C, {"mean", "std"}, V))
        return false;
      if (!(V[1] > 0)) {
        error(C.CalleeLoc, "normal(mean, std) needs std > 0, but got std = " +
                               formatConst(V[1]));
        return false;
      }
      Init.Kind = InitSpec::Normal;
      Init.A = V[0];
      Init.B = V[1];
      return true;
    }
    return Unknown(C.Callee, C.CalleeLoc);
  }
  case ast::ExprKind::Number:
  case ast::ExprKind::Unary:
  case ast::ExprKind::Binary: {
    // A bare number fills the param: `= 0.1` means `= const(0.1)`.
    std::optional<double> V = evalNumber(*E, "initializer");
    if (!V)
      return false;
    Init.Kind = InitSpec::Constant;
    Init.A = *V;
    return true;
  }
  case ast::ExprKind::List: {
    std::optional<Tensor> T = tensorLiteral(*E, DType::F32);
    if (!T)
      return false;
    if (T->Type.Dims != N->Type.Dims) {
      error(E->Loc, "initializer has shape " + formatShape(T->Type.Dims) +
                        ", but '" + N->Name + "' is " + formatType(N->Type));
      return false;
    }
    Init.Kind = InitSpec::Literal;
    Init.Value = std::move(*T);
    return true;
  }
  case ast::ExprKind::String:
  case ast::ExprKind::Bool:
    error(E->Loc, "expected an initializer (zeros, ones, const(v), "
                  "uniform(lo, hi), normal(mean, std), glorot_uniform, "
                  "he_normal, load(FILE) or a tensor literal)");
    return false;
  }
  return false;
}

std::optional<Tensor> Analyzer::tensorLiteral(const ast::Expr &E, DType Elem) {
  // The shape follows the first element at each depth; every other element
  // must match it (no ragged literals).
  Shape Dims;
  for (const ast::Expr *Cur = &E; Cur->Kind == ast::ExprKind::List;) {
    const auto &L = static_cast<const ast::ListExpr &>(*Cur);
    if (L.Elements.empty()) {
      error(L.Loc, "empty tensor literal (every dimension must be positive)");
      return std::nullopt;
    }
    Dims.push_back(L.Elements.size());
    Cur = L.Elements.front().get();
  }
  TensorType T(Elem, Dims);
  if (!checkSize(T, E.Loc))
    return std::nullopt;
  Tensor Result(T);
  int64_t Next = 0;
  bool Ok = true;
  std::function<void(const ast::Expr &, unsigned)> Fill =
      [&](const ast::Expr &X, unsigned Depth) {
        if (Depth < Dims.size()) {
          if (X.Kind != ast::ExprKind::List ||
              int64_t(static_cast<const ast::ListExpr &>(X).Elements.size()) !=
                  Dims[Depth]) {
            error(X.Loc, "ragged tensor literal: expected a list of " +
                             llvm::Twine(Dims[Depth]) + " elements here");
            Ok = false;
            return;
          }
          for (const ast::ExprPtr &El :
               static_cast<const ast::ListExpr &>(X).Elements)
            Fill(*El, Depth + 1);
          return;
        }
        if (X.Kind == ast::ExprKind::List) {
          error(X.Loc, "ragged tensor literal: expected a number here");
          Ok = false;
          return;
        }
        std::optional<ConstNum> C = evalConst(X);
        if (!C) {
          Ok = false;
          return;
        }
        if (Elem == DType::I32 && !C->isIntegral()) {
          error(X.Loc, "an i32 tensor needs integer elements, but this is " +
                           formatConst(C->F));
          Ok = false;
          return;
        }
        if (Ok && Next < T.numElements())
          Result.set(Next, C->IsInt ? double(C->I) : C->F);
        ++Next;
      };
  Fill(E, 0);
  if (!Ok)
    return std::nullopt;
  return Result;
}

/// "input", "target", "param", "const".
static const char *leafWord(ast::StmtKind K) { return ast::stmtKindName(K); }

Node *Analyzer::declareLeaf(const ast::Stmt &S) {
  if (!S.Type)
    return nullptr; // The parser reported it.
  FileType Stored = FileType::Native;
  std::optional<TensorType> T =
      resolveType(*S.Type, S.Kind == ast::StmtKind::Input ? &Stored : nullptr);
  if (!T)
    return nullptr;
  bool InFn = frame().Fn != nullptr;
  switch (S.Kind) {
  case ast::StmtKind::Input:
  case ast::StmtKind::Target: {
    bool IsInput = S.Kind == ast::StmtKind::Input;
    if (G->Unbatched) {
      // Taken whole: no batch dimension to agree on.
    } else if (T->isScalar()) {
      error(S.Type->Loc, llvm::Twine(leafWord(S.Kind)) + " '" + S.Name +
                             "' needs a batch dimension (its first), but it "
                             "has type " +
                             formatType(*T));
      return nullptr;
    } else if (G->BatchSize == 0) {
      G->BatchSize = T->Dims[0];
      BatchName = S.Name;
      BatchLoc = S.Type->Dims[0]->Loc;
    } else if (T->Dims[0] != G->BatchSize) {
      error(S.Type->Dims[0]->Loc,
            "batch dimension of '" + S.Name + "' is " +
                llvm::Twine(T->Dims[0]) + ", but '" + BatchName + "' has " +
                llvm::Twine(G->BatchSize) +
                " (the first dimension of every input and target is the "
                "batch)");
      note(BatchLoc, "the batch dimension is set here");
      return nullptr;
    }
    Node *N =
        G->create(IsInput ? OpKind::Input : OpKind::Target, *T, {}, S.NameLoc);
    N->Name = S.Name;
    N->Stored = Stored;
    LeafNames.insert(S.Name);
    (IsInput ? G->Inputs : G->Targets).push_back(N);
    return N;
  }
  case ast::StmtKind::Param: {
    if (T->Elem != DType::F32) {
      error(S.Type->Loc, "param '" + S.Name +
                             "' must be f32 (only floats are trained), but "
                             "it is " +
                             formatType(*T));
      return nullptr;
    }
    Node *N = G->create(OpKind::Param, *T, {}, S.NameLoc);
    N->Name = InFn ? fnLeafName(S.Name) : S.Name;
    if (!InFn)
      LeafNames.insert(S.Name);
    if (!lowerInit(S.Value.get(), N, S.NameLoc))
      return nullptr; // The orphan node is never reachable.
    G->Params.push_back(N);
    return N;
  }
  case ast::StmtKind::Const: {
    if (!S.Value) {
      error(S.NameLoc, "const '" + S.Name + "' needs a value");
      return nullptr;
    }
    std::string Name = InFn ? fnLeafName(S.Name) : S.Name;
    std::optional<Tensor> V;
    if (S.Value->Kind == ast::ExprKind::Call &&
        static_cast<const ast::CallExpr &>(*S.Value).Callee == "load")
      V = loadTensor(static_cast<const ast::CallExpr &>(*S.Value), Name, *T);
    else
      V = tensorLiteral(*S.Value, T->Elem);
    if (!V)
      return nullptr;
    if (V->Type.Dims != T->Dims) {
      error(S.Value->Loc, "value has shape " + formatShape(V->Type.Dims) +
                              ", but const '" + S.Name + "' is " +
                              formatType(*T));
      return nullptr;
    }
    Node *N = G->constant(std::move(*V), S.NameLoc);
    N->Name = Name;
    if (!InFn)
      LeafNames.insert(S.Name);
    return N;
  }
  case ast::StmtKind::Dim:
  case ast::StmtKind::Let:
  case ast::StmtKind::Loss:
  case ast::StmtKind::Output:
  case ast::StmtKind::Metric:
  case ast::StmtKind::Return:
  case ast::StmtKind::Unbatched:
    break;
  }
  assert(false && "declareLeaf called on a non-declaration");
  return nullptr;
}
