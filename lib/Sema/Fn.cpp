//===- Fn.cpp - fn declarations and their expansion at each call --------===//
//
// Step 1 of semantic analysis (Sema.cpp): the `fn` declarations are
// collected and checked (duplicates, built-in shadowing, body shape: one
// `return`, last; no model-only statements) and recursion is rejected
// statically on the fn call graph. Then `expandFn` inlines a fn at each
// call, in a fresh scope whose params are named after the receiving binding.
//
//===----------------------------------------------------------------------===//
#include "Builtins.h"
#include "SemaImpl.h"

#include <llvm/ADT/STLExtras.h>

#include <functional>

using namespace nnc;
using namespace nnc::sema;

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
    for (const ast::ExprPtr &El :
         static_cast<const ast::ListExpr &>(E).Elements)
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
  case ast::StmtKind::Unbatched:
    return false;
  }
  return false;
}

/// Checks one fn declaration on its own (before any call).
static void checkFnDecl(Analyzer &A, const ast::FnDecl &Fn) {
  llvm::StringMap<SourceLoc> Params;
  for (const ast::FnParam &P : Fn.Params)
    if (!Params.try_emplace(P.Name, P.Loc).second) {
      A.error(P.Loc,
              "duplicate parameter '" + P.Name + "' in fn '" + Fn.Name + "'");
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
  llvm::StringMap<std::vector<std::pair<const ast::FnDecl *, SourceLoc>>> Calls;
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
                         Callee->Name +
                         "); fns are expanded inline and "
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

void Analyzer::collectFns() {
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
    error(Call.CalleeLoc,
          "fn '" + Fn.Name + "' takes " + llvm::Twine(Fn.Params.size()) +
              " argument" + (Fn.Params.size() == 1 ? "" : "s") + ", but " +
              llvm::Twine(Call.Args.size()) +
              (Call.Args.size() == 1 ? " was" : " were") + " given");
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
