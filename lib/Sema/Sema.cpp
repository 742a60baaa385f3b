//===- Sema.cpp - Semantic analysis driver --------------------------------===//
//
// The driver of semantic analysis:
//   1. collect the `fn` declarations (duplicates, built-in shadowing, body
//      shape: one `return`, last; no model-only statements) and reject
//      recursion statically on the fn call graph (Fn.cpp);
//   2. analyze each `model` into a Graph: one scope of SSA names, statements
//      in order, `fn` calls expanded inline with a fresh scope per call
//      (Fn.cpp);
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

using namespace nnc;
using namespace nnc::sema;

std::unique_ptr<Module> nnc::analyze(const ast::File &File, DiagEngine &Diags,
                                     llvm::StringRef BaseDir,
                                     TensorReader Read) {
  Analyzer A(File, Diags, BaseDir);
  A.Read = std::move(Read);
  return A.run();
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
  // A fn may return a call of another fn whose params take the same
  // prefix; keep every leaf name unique (safetensors keys).
  return uniqueLeafName(frame().prefix() + "." + Local.str());
}

std::string Analyzer::uniqueLeafName(std::string Name) {
  std::string Unique = Name;
  for (unsigned I = 2; LeafNames.contains(Unique); ++I)
    Unique = Name + "." + std::to_string(I);
  LeafNames.insert(Unique);
  return Unique;
}

std::string Analyzer::callLeafPrefix() {
  if (!Ctx)
    return "";
  std::string Base = Ctx->base();
  unsigned N = ++Ctx->Calls;
  return N == 1 ? Base : Base + "." + std::to_string(N);
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
  note(It->second.Loc,
       "'" + Name + "' was first defined here (as " + It->second.What + ")");
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
// The driver
//===----------------------------------------------------------------------===//

std::unique_ptr<Module> Analyzer::run() {
  collectFns();

  auto M = std::make_unique<Module>();
  M->Start = File.Start;
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
  // `unbatched` holds for the whole body wherever it is written, so that
  // the inputs before it are checked as it says.
  SourceLoc FirstUnbatched;
  for (const ast::Stmt &S : MD.Body) {
    if (S.Kind != ast::StmtKind::Unbatched)
      continue;
    if (G->Unbatched) {
      error(S.Loc, "'unbatched' is given twice");
      note(FirstUnbatched, "the first is here");
    }
    G->Unbatched = true;
    FirstUnbatched = S.Loc;
  }
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
      error(S.NameLoc,
            "loss must be a scalar, but it has type " + formatType(N->Type));
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
    if (!N)
      return;
    // `output y : i64`: the value is computed in the type's compute dtype
    // and stored in files as written.
    FileType Stored = FileType::Native;
    if (S.Type) {
      std::optional<DType> Want = resolveElementType(*S.Type, &Stored);
      if (!Want)
        return;
      if (*Want != N->dtype()) {
        error(S.Type->Loc, "output '" + S.Name + "' is stored as " +
                               S.Type->DType + ", which holds " +
                               dtypeName(*Want) + " values, but it has type " +
                               formatType(N->Type));
        return;
      }
    }
    G->Outputs.push_back({S.Name, N, S.NameLoc, Stored});
    return;
  }
  case ast::StmtKind::Metric: {
    Node *N = BindValue("metric");
    if (!N)
      return;
    if (!N->Type.isScalar()) {
      error(S.NameLoc,
            "metric must be a scalar, but it has type " + formatType(N->Type));
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
  case ast::StmtKind::Unbatched:
    // analyzeModel read it before the first statement.
    return;
  }
}
