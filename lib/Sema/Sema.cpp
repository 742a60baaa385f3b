//===- Sema.cpp - Semantic analysis driver --------------------------------===//
//
// The driver of semantic analysis:
//   1. collect the `fn` declarations (duplicates, built-in shadowing, body
//      shape: one `return`, last; no model-only statements) and reject
//      recursion statically on the fn call graph;
//   2. analyze each `model` into a Graph: one scope of SSA names, statements
//      in order, `fn` calls expanded inline with a fresh scope per call;
//   3. validate each `train` block against its model (TrainBlock.cpp).
// Errors are reported once and do not cascade: a failed value is bound as
// an error value that later uses accept silently.
//
//===----------------------------------------------------------------------===//
#include "Builtins.h"
#include "SemaImpl.h"

#include "nnc/Graph/Verifier.h"

#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/ScopeExit.h>

#include <functional>

using namespace nnc;
using namespace nnc::sema;

std::unique_ptr<Module> nnc::analyze(const ast::File &File, DiagEngine &Diags,
                                     llvm::StringRef BaseDir) {
  return Analyzer(File, Diags, BaseDir).run();
}

//===----------------------------------------------------------------------===//
// Naming of params created inside fns
//===----------------------------------------------------------------------===//

std::string NameContext::base() const {
  if (!Owner)
    return Local;
  const std::string &P = Owner->prefix();
  return Local.empty() ? P : P + "." + Local;
}

const std::string &Frame::prefix() {
  if (Prefix)
    return *Prefix;
  assert(Ctx && "a fn frame always has its caller's naming context");
  // The first param-creating call of a statement takes the binding's name,
  // later ones `<binding>.2`, `<binding>.3`, ...
  std::string Base = Ctx->base();
  unsigned N = ++Ctx->Calls;
  Prefix = N == 1 ? Base : Base + "." + std::to_string(N);
  return *Prefix;
}

std::string Analyzer::fnLeafName(llvm::StringRef Local) {
  std::string Name = frame().prefix() + "." + Local.str();
  // A fn may return a call of another fn whose params take the same
  // prefix; keep every leaf name unique (safetensors keys).
  std::string Unique = Name;
  for (unsigned I = 2; LeafNames.contains(Unique); ++I)
    Unique = Name + "." + std::to_string(I);
  LeafNames.insert(Unique);
  return Unique;
}

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

void Analyzer::error(SourceLoc Loc, const llvm::Twine &Msg) {
  std::string Text = Msg.str();
  if (!Reported.insert({Loc.Ptr.getPointer(), Text}).second)
    return;
  Diags.error(Loc, Text);
  if (!CallStack.empty())
    Diags.note(frame().CallLoc,
               "in this call of '" + CallStack.back()->Name + "'");
}

void Analyzer::note(SourceLoc Loc, const llvm::Twine &Msg) {
  Diags.note(Loc, Msg);
}

std::string Analyzer::suggest(llvm::StringRef Name,
                              llvm::ArrayRef<std::string> Candidates) {
  // Allow about one typo per three characters, as clang does; names of one
  // or two characters are too short for a guess to mean anything.
  unsigned Limit = Name.size() / 3;
  if (Limit == 0)
    return "";
  std::string Best;
  unsigned BestDist = Limit + 1;
  for (const std::string &C : Candidates) {
    if (C == Name)
      continue;
    unsigned D = Name.edit_distance(C, /*AllowReplacements=*/true, Limit);
    if (D < BestDist) {
      BestDist = D;
      Best = C;
    }
  }
  return Best.empty() ? "" : "; did you mean '" + Best + "'?";
}

//===----------------------------------------------------------------------===//
// Scopes
//===----------------------------------------------------------------------===//

const Binding *Analyzer::lookup(llvm::StringRef Name) {
  auto It = frame().Names.find(Name);
  return It == frame().Names.end() ? nullptr : &It->second;
}

bool Analyzer::bind(llvm::StringRef Name, SourceLoc Loc, Val V,
                    const char *What) {
  auto [It, Inserted] = frame().Names.try_emplace(Name, Binding{V, Loc, What});
  if (Inserted)
    return true;
  error(Loc, "redefinition of '" + Name + "'");
  note(It->second.Loc, "'" + Name + "' was first defined here (as " +
                           It->second.What + ")");
  return false;
}

void Analyzer::unknownName(llvm::StringRef Name, SourceLoc Loc) {
  if (Fns.count(Name) || findBuiltin(Name)) {
    error(Loc, "'" + Name + "' is a function; call it as " + Name + "(...)");
    return;
  }
  if (isInitializerName(Name)) {
    error(Loc, "'" + Name +
                   "' is an initializer; it can only follow 'param NAME : "
                   "TYPE ='");
    return;
  }
  std::vector<std::string> Candidates;
  for (const auto &E : frame().Names)
    Candidates.push_back(E.getKey().str());
  llvm::sort(Candidates); // Deterministic choice between equal distances.
  error(Loc, "unknown name '" + Name + "'" + suggest(Name, Candidates));
}

//===----------------------------------------------------------------------===//
// fn declarations
//===----------------------------------------------------------------------===//

/// Calls `F` on every call expression inside `E`.
static void forEachCall(const ast::Expr &E,
                        const std::function<void(const ast::CallExpr &)> &F) {
  switch (E.Kind) {
  case ast::ExprKind::Number:
  case ast::ExprKind::String:
  case ast::ExprKind::Bool:
  case ast::ExprKind::Name:
    return;
  case ast::ExprKind::List:
    for (const ast::ExprPtr &El : static_cast<const ast::ListExpr &>(E).Elements)
      forEachCall(*El, F);
    return;
  case ast::ExprKind::Unary:
    forEachCall(*static_cast<const ast::UnaryExpr &>(E).Operand, F);
    return;
  case ast::ExprKind::Binary: {
    const auto &B = static_cast<const ast::BinaryExpr &>(E);
    forEachCall(*B.LHS, F);
    forEachCall(*B.RHS, F);
    return;
  }
  case ast::ExprKind::Call: {
    const auto &C = static_cast<const ast::CallExpr &>(E);
    F(C);
    for (const ast::ExprPtr &A : C.Args)
      forEachCall(*A, F);
    for (const ast::KeywordArg &K : C.Kwargs)
      forEachCall(*K.Value, F);
    return;
  }
  }
}

/// Statements a fn body may contain.
static bool allowedInFn(ast::StmtKind K) {
  switch (K) {
  case ast::StmtKind::Let:
  case ast::StmtKind::Param:
  case ast::StmtKind::Const:
  case ast::StmtKind::Return:
    return true;
  case ast::StmtKind::Dim:
  case ast::StmtKind::Input:
  case ast::StmtKind::Target:
  case ast::StmtKind::Loss:
  case ast::StmtKind::Output:
  case ast::StmtKind::Metric:
    return false;
  }
  return false;
}

/// Checks one fn declaration on its own (before any call).
static void checkFnDecl(Analyzer &A, const ast::FnDecl &Fn) {
  llvm::StringMap<SourceLoc> Params;
  for (const ast::FnParam &P : Fn.Params)
    if (!Params.try_emplace(P.Name, P.Loc).second) {
      A.error(P.Loc, "duplicate parameter '" + P.Name + "' in fn '" +
                         Fn.Name + "'");
      A.note(Params[P.Name], "first declared here");
    }
  const ast::Stmt *Return = nullptr;
  for (const ast::Stmt &S : Fn.Body) {
    if (!allowedInFn(S.Kind)) {
      A.error(S.Loc, "'" + llvm::Twine(ast::stmtKindName(S.Kind)) +
                         "' is not allowed inside a fn (only bindings, "
                         "'param', 'const' and 'return')");
      continue;
    }
    if (S.Kind != ast::StmtKind::Return)
      continue;
    if (Return) {
      A.error(S.Loc, "fn '" + Fn.Name + "' has more than one 'return'");
      A.note(Return->Loc, "the first 'return' is here");
    }
    Return = &S;
  }
  if (!Return)
    A.error(Fn.NameLoc, "fn '" + Fn.Name + "' has no 'return'");
  else if (Return != &Fn.Body.back())
    A.error(Return->Loc,
            "'return' must be the last statement of fn '" + Fn.Name + "'");
}

/// Reports every cycle of the fn call graph once, at the call that closes
/// it, and marks its fns so they are never expanded.
static void checkRecursion(Analyzer &A, const ast::File &File) {
  // Edges: fn -> (callee fn, call site), in source order.
  llvm::StringMap<std::vector<std::pair<const ast::FnDecl *, SourceLoc>>>
      Calls;
  for (const ast::FnDecl &Fn : File.Fns) {
    auto &Out = Calls[Fn.Name];
    for (const ast::Stmt &S : Fn.Body)
      if (S.Value && S.Kind != ast::StmtKind::Param &&
          S.Kind != ast::StmtKind::Const)
        forEachCall(*S.Value, [&](const ast::CallExpr &C) {
          if (auto It = A.Fns.find(C.Callee); It != A.Fns.end())
            Out.push_back({It->second, C.CalleeLoc});
        });
  }
  // Iterative-free DFS is fine here: depth is bounded by the number of fns,
  // but guard it anyway by marking state before recursing.
  llvm::StringMap<uint8_t> State; // 0 new, 1 on the path, 2 done
  std::vector<std::string> Path;
  std::function<void(const ast::FnDecl &)> Visit = [&](const ast::FnDecl &Fn) {
    State[Fn.Name] = 1;
    Path.push_back(Fn.Name);
    for (auto &[Callee, Loc] : Calls[Fn.Name]) {
      uint8_t S = State.lookup(Callee->Name);
      if (S == 1) {
        std::string Cycle;
        bool In = false;
        for (const std::string &P : Path) {
          In |= P == Callee->Name;
          if (In) {
            Cycle += P + " -> ";
            A.RecursiveFns.insert(P);
          }
        }
        A.error(Loc, "recursive call of fn '" + Callee->Name + "' (" + Cycle +
                         Callee->Name + "); fns are expanded inline and "
                         "cannot recurse");
        continue;
      }
      if (S == 0 && Path.size() < 10000)
        Visit(*Callee);
    }
    Path.pop_back();
    State[Fn.Name] = 2;
  };
  for (const ast::FnDecl &Fn : File.Fns)
    if (State.lookup(Fn.Name) == 0)
      Visit(Fn);
}

//===----------------------------------------------------------------------===//
// The driver
//===----------------------------------------------------------------------===//

std::unique_ptr<Module> Analyzer::run() {
  for (const ast::FnDecl &Fn : File.Fns) {
    if (findBuiltin(Fn.Name)) {
      error(Fn.NameLoc,
            "fn '" + Fn.Name + "' has the name of a built-in function");
      continue;
    }
    auto [It, Inserted] = Fns.try_emplace(Fn.Name, &Fn);
    if (!Inserted) {
      error(Fn.NameLoc, "redefinition of fn '" + Fn.Name + "'");
      note(It->second->NameLoc, "the first definition is here");
      continue;
    }
    checkFnDecl(*this, Fn);
  }
  checkRecursion(*this, File);

  auto M = std::make_unique<Module>();
  for (const ast::ModelDecl &MD : File.Models) {
    auto [It, Inserted] =
        ModelDecls.try_emplace(MD.Name, std::make_pair(&MD, false));
    if (!Inserted) {
      error(MD.NameLoc, "redefinition of model '" + MD.Name + "'");
      note(It->second.first->NameLoc, "the first definition is here");
      continue;
    }
    unsigned ErrorsBefore = Diags.errorCount();
    M->Models.push_back(analyzeModel(MD));
    It->second.second = Diags.errorCount() != ErrorsBefore;
    // A graph built without user errors must be well formed; anything else
    // is a bug here, not in the user's model.
    assert((It->second.second || verifyGraph(*M->Models.back()).empty()) &&
           "Sema built an ill-formed graph");
  }
  for (const ast::TrainDecl &T : File.Trains)
    analyzeTrain(T, *M);
  if (Diags.hadErrors())
    return nullptr;
  return M;
}

std::unique_ptr<Graph> Analyzer::analyzeModel(const ast::ModelDecl &MD) {
  auto Owned = std::make_unique<Graph>(MD.Name);
  G = Owned.get();
  Frames.clear();
  Frames.push_back(std::make_unique<Frame>());
  CallStack.clear();
  LeafNames.clear();
  Work = 0;
  Aborted = false;
  BatchName.clear();
  for (const ast::Stmt &S : MD.Body) {
    if (Aborted)
      break;
    analyzeStmt(S);
  }
  Frames.clear();
  G = nullptr;
  return Owned;
}

/// Names a value bound at model level after its binding (`h`), unless the
/// node already has a name (`y = x` adds no node and keeps `x`).
static void nameNode(Node *N, llvm::StringRef Name) {
  if (N && N->Name.empty())
    N->Name = Name.str();
}

void Analyzer::analyzeStmt(const ast::Stmt &S) {
  bool InFn = frame().Fn != nullptr;
  NameContext StmtCtx{InFn ? &frame() : nullptr, S.Name, 0};
  NameContext *SavedCtx = Ctx;
  Ctx = &StmtCtx;
  auto Restore = llvm::make_scope_exit([&] { Ctx = SavedCtx; });

  // The value of a binding statement, as a node (numbers materialize as
  // f32 scalars: a binding names a graph value).
  auto BindValue = [&](const char *What) -> Node * {
    Val V = S.Value ? lowerExpr(*S.Value) : Val::error();
    Node *N = V.isError() ? nullptr : materialize(V, DType::F32, S.Value->Loc);
    if (!InFn)
      nameNode(N, S.Name);
    bind(S.Name, S.NameLoc, Val::tensor(N), What);
    return N;
  };

  switch (S.Kind) {
  case ast::StmtKind::Dim: {
    std::optional<int64_t> D;
    if (S.Value)
      D = evalDim(*S.Value);
    bind(S.Name, S.NameLoc, D ? Val::num(ConstNum::ofInt(*D)) : Val::error(),
         "dim");
    return;
  }
  case ast::StmtKind::Input:
  case ast::StmtKind::Target:
  case ast::StmtKind::Param:
  case ast::StmtKind::Const:
    bind(S.Name, S.NameLoc, Val::tensor(declareLeaf(S)),
         ast::stmtKindName(S.Kind));
    return;
  case ast::StmtKind::Let:
    BindValue("binding");
    return;
  case ast::StmtKind::Loss: {
    if (G->Loss || !G->LossName.empty()) {
      error(S.NameLoc, "a model has at most one loss, but '" + S.Name +
                           "' follows '" + G->LossName + "'");
      note(G->LossLoc, "the first loss is here");
      return;
    }
    G->LossName = S.Name;
    G->LossLoc = S.NameLoc;
    Node *N = BindValue("loss");
    if (!N)
      return;
    if (!N->Type.isScalar()) {
      error(S.NameLoc, "loss must be a scalar, but it has type " +
                           formatType(N->Type));
      return;
    }
    if (N->dtype() != DType::F32) {
      error(S.NameLoc,
            "loss must be f32, but it has type " + formatType(N->Type));
      return;
    }
    G->Loss = N;
    return;
  }
  case ast::StmtKind::Output: {
    for (const NamedValue &O : G->Outputs)
      if (O.Name == S.Name) {
        error(S.NameLoc, "'" + S.Name + "' is already an output");
        note(O.Loc, "the first 'output " + S.Name + "' is here");
        return;
      }
    Node *N = nullptr;
    if (S.Value) {
      N = BindValue("output");
    } else if (const Binding *B = lookup(S.Name)) {
      if (!B->V.isError())
        N = materialize(B->V, DType::F32, S.NameLoc);
    } else {
      unknownName(S.Name, S.NameLoc);
    }
    if (N)
      G->Outputs.push_back({S.Name, N, S.NameLoc});
    return;
  }
  case ast::StmtKind::Metric: {
    Node *N = BindValue("metric");
    if (!N)
      return;
    if (!N->Type.isScalar()) {
      error(S.NameLoc, "metric must be a scalar, but it has type " +
                           formatType(N->Type));
      return;
    }
    // Metrics are reported as floats; an i32 count is converted.
    if (N->dtype() == DType::I32)
      N = cast(N, DType::F32, S.NameLoc);
    if (N)
      G->Metrics.push_back({S.Name, N, S.NameLoc});
    return;
  }
  case ast::StmtKind::Return:
    // In a fn, expandFn evaluates the return; here it is misplaced.
    error(S.Loc, "'return' outside a fn");
    return;
  }
}

//===----------------------------------------------------------------------===//
// fn expansion
//===----------------------------------------------------------------------===//

Val Analyzer::expandFn(const ast::FnDecl &Fn, const ast::CallExpr &Call) {
  if (RecursiveFns.contains(Fn.Name) || FailedFns.contains(&Fn))
    return Val::error(); // Reported once already.
  unsigned ErrorsBefore = Diags.errorCount();
  if (CallStack.size() >= MaxCallDepth) {
    error(Call.CalleeLoc, "fn calls are nested more than " +
                              llvm::Twine(MaxCallDepth) + " deep");
    return Val::error();
  }
  if (llvm::is_contained(CallStack, &Fn)) {
    error(Call.CalleeLoc, "recursive call of fn '" + Fn.Name + "'");
    return Val::error();
  }
  bool Bad = false;
  if (!Call.Kwargs.empty()) {
    error(Call.Kwargs.front().Loc,
          "fn '" + Fn.Name + "' takes no keyword arguments");
    Bad = true;
  }
  if (Call.Args.size() != Fn.Params.size()) {
    error(Call.CalleeLoc, "fn '" + Fn.Name + "' takes " +
                              llvm::Twine(Fn.Params.size()) + " argument" +
                              (Fn.Params.size() == 1 ? "" : "s") + ", but " +
                              llvm::Twine(Call.Args.size()) +
                              (Call.Args.size() == 1 ? " was" : " were") +
                              " given");
    note(Fn.NameLoc, "'" + Fn.Name + "' is defined here");
    return Val::error();
  }
  // Arguments are evaluated in the caller's scope: tensors, or numbers
  // (integer numbers may be used in shapes inside the body).
  llvm::SmallVector<Val, 4> Args;
  for (const ast::ExprPtr &E : Call.Args)
    Args.push_back(lowerExpr(*E));
  if (Bad)
    return Val::error();

  auto F = std::make_unique<Frame>();
  F->Fn = &Fn;
  F->CallLoc = Call.CalleeLoc;
  F->Ctx = Ctx;
  for (size_t I = 0; I < Fn.Params.size(); ++I)
    F->Names.try_emplace(Fn.Params[I].Name,
                         Binding{Args[I], Fn.Params[I].Loc, "argument"});
  Frames.push_back(std::move(F));
  CallStack.push_back(&Fn);

  Val Result = Val::error();
  NameContext *SavedCtx = Ctx;
  for (const ast::Stmt &S : Fn.Body) {
    if (Aborted)
      break;
    if (S.Kind == ast::StmtKind::Return) {
      // Params of fns called in `return` belong to this call's prefix.
      NameContext ReturnCtx{&frame(), "", 0};
      Ctx = &ReturnCtx;
      Result = S.Value ? lowerExpr(*S.Value) : Val::error();
      Ctx = SavedCtx;
      break;
    }
    if (allowedInFn(S.Kind))
      analyzeStmt(S);
  }
  CallStack.pop_back();
  Frames.pop_back();
  if (Diags.errorCount() != ErrorsBefore)
    FailedFns.insert(&Fn);
  return Result;
}
