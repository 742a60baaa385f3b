//===- TrainBlock.cpp - Validation of `train NAME { ... }` ----------------===//
//
// A train block becomes a TrainConfig (docs/language.md, "`train` blocks"):
//   1. the model must exist (else a suggestion), be trained by one block
//      only, and have a loss;
//   2. each key is known (else the nearest valid key is suggested) and
//      given once; `data` and `optimizer` are required;
//   3. `idx(...)` / `csv(...)` and the optimizers (`sgd(...)`, `adam(...)`,
//      ...) are bound like calls, with constant arithmetic (`1/255`)
//      evaluated, values checked against PyTorch's ranges and relative
//      paths resolved against the `.nn` file's folder;
//   4. csv column counts must match the model's per-example sizes;
//   5. schedule, augment, validation and early_stop, and the checks between
//      keys, are TrainRecipe.cpp's.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/Path.h>

#include <cmath>

using namespace nnc;
using namespace nnc::sema;

bool sema::bindArgs(Analyzer &A, const ast::CallExpr &C,
                    llvm::ArrayRef<const char *> Names, unsigned NumRequired,
                    CallArgs &Out) {
  Out.Exprs.assign(Names.size(), nullptr);
  std::string Sig = C.Callee + "(" + llvm::join(Names, ", ") + ")";
  if (C.Args.size() > Names.size()) {
    A.error(C.Args[Names.size()]->Loc, "too many arguments for " + Sig);
    return false;
  }
  for (size_t I = 0; I < C.Args.size(); ++I)
    Out.Exprs[I] = C.Args[I].get();
  bool Ok = true;
  for (const ast::KeywordArg &K : C.Kwargs) {
    auto It = llvm::find_if(Names, [&](const char *N) { return K.Name == N; });
    if (It == Names.end()) {
      std::vector<std::string> Valid(Names.begin(), Names.end());
      A.error(K.Loc, "unknown keyword '" + K.Name + "' for '" + C.Callee + "'" +
                         Analyzer::suggest(K.Name, Valid) +
                         " (valid keywords: " + llvm::join(Names, ", ") + ")");
      Ok = false;
      continue;
    }
    const ast::Expr *&Slot = Out.Exprs[It - Names.begin()];
    if (Slot) {
      A.error(K.Loc,
              "argument '" + K.Name + "' of '" + C.Callee + "' is given twice");
      Ok = false;
      continue;
    }
    Slot = K.Value.get();
  }
  for (unsigned I = 0; I < NumRequired && Ok; ++I)
    if (!Out.Exprs[I]) {
      A.error(C.CalleeLoc,
              "missing argument '" + llvm::Twine(Names[I]) + "' of " + Sig);
      Ok = false;
    }
  return Ok;
}

namespace {

/// A string argument.
std::optional<std::string> stringArg(Analyzer &A, const ast::Expr &E,
                                     llvm::StringRef What) {
  if (E.Kind != ast::ExprKind::String) {
    A.error(E.Loc, What + " must be a string (a file path in quotes)");
    return std::nullopt;
  }
  return static_cast<const ast::StringExpr &>(E).Value;
}

/// A list of column indices `[0, 1]`.
std::optional<std::vector<int64_t>> columnsArg(Analyzer &A, const ast::Expr &E,
                                               llvm::StringRef What) {
  if (E.Kind != ast::ExprKind::List) {
    A.error(E.Loc, What + " must be a list of column numbers such as [0, 1]");
    return std::nullopt;
  }
  std::vector<int64_t> Cols;
  for (const ast::ExprPtr &C : static_cast<const ast::ListExpr &>(E).Elements) {
    std::optional<int64_t> V = A.evalInt(*C, "column");
    if (!V)
      return std::nullopt;
    if (*V < 0 || *V > MaxDim) {
      A.error(C->Loc,
              "column numbers start at 0, but this is " + llvm::Twine(*V));
      return std::nullopt;
    }
    Cols.push_back(*V);
  }
  if (Cols.empty()) {
    A.error(E.Loc, What + " must name at least one column");
    return std::nullopt;
  }
  return Cols;
}

/// A `true`/`false` value.
std::optional<bool> boolArg(Analyzer &A, const ast::Expr &E,
                            llvm::StringRef What) {
  if (E.Kind != ast::ExprKind::Bool) {
    A.error(E.Loc, What + " must be true or false");
    return std::nullopt;
  }
  return static_cast<const ast::BoolExpr &>(E).Value;
}

/// Per-example element count of a batch-leading leaf.
int64_t perExample(const Node *N) {
  return N->Type.numElements() / N->Type.Dims[0];
}

} // namespace

/// `data = idx(...) | csv(...)`, also `test = ...`.
static bool lowerData(Analyzer &A, const ast::Expr &E, const Graph *G,
                      DataSpec &D) {
  if (E.Kind != ast::ExprKind::Call) {
    A.error(E.Loc, "expected idx(images, labels) or csv(path, inputs = "
                   "[...], target = [...])");
    return false;
  }
  const auto &C = static_cast<const ast::CallExpr &>(E);
  D.Loc = C.Loc;
  auto Resolve = [&](const std::string &Path) {
    if (Path.empty() || llvm::sys::path::is_absolute(Path) || A.BaseDir.empty())
      return Path;
    llvm::SmallString<256> Full(A.BaseDir);
    llvm::sys::path::append(Full, Path);
    return std::string(Full);
  };
  // The runtime feeds one input (and one target) from a data set.
  if (G && G->Inputs.size() != 1) {
    A.error(C.CalleeLoc, "data needs a model with exactly one input, but '" +
                             G->name() + "' has " +
                             llvm::Twine(G->Inputs.size()));
    return false;
  }
  CallArgs Args;
  if (C.Callee == "idx") {
    if (!bindArgs(A, C, {"images", "labels", "scale"}, 2, Args))
      return false;
    auto Images = stringArg(A, *Args.Exprs[0], "images");
    auto Labels = stringArg(A, *Args.Exprs[1], "labels");
    std::optional<double> Scale = 1.0 / 255;
    if (Args.Exprs[2])
      Scale = A.evalNumber(*Args.Exprs[2], "scale");
    if (!Images || !Labels || !Scale)
      return false;
    if (*Scale <= 0) {
      A.error(Args.Exprs[2]->Loc, "scale must be positive");
      return false;
    }
    D.Kind = DataSpec::Idx;
    D.Images = Resolve(*Images);
    D.Labels = Resolve(*Labels);
    D.Scale = *Scale;
    return true;
  }
  if (C.Callee == "csv") {
    if (!bindArgs(A, C, {"path", "inputs", "target", "header"}, 3, Args))
      return false;
    auto Path = stringArg(A, *Args.Exprs[0], "path");
    auto Inputs = columnsArg(A, *Args.Exprs[1], "inputs");
    auto Target = columnsArg(A, *Args.Exprs[2], "target");
    std::optional<bool> Header = false;
    if (Args.Exprs[3])
      Header = boolArg(A, *Args.Exprs[3], "header");
    if (!Path || !Inputs || !Target || !Header)
      return false;
    if (G) {
      const Node *In = G->Inputs.front();
      if (int64_t(Inputs->size()) != perExample(In)) {
        A.error(Args.Exprs[1]->Loc,
                "csv has " + llvm::Twine(Inputs->size()) +
                    " input columns, but each example of input '" + In->Name +
                    "' (" + formatType(In->Type) + ") has " +
                    llvm::Twine(perExample(In)) + " elements");
        return false;
      }
      if (G->Targets.size() != 1) {
        A.error(Args.Exprs[2]->Loc,
                "csv target columns need a model with exactly one target, "
                "but '" +
                    G->name() + "' has " + llvm::Twine(G->Targets.size()));
        return false;
      }
      const Node *T = G->Targets.front();
      if (int64_t(Target->size()) != perExample(T)) {
        A.error(Args.Exprs[2]->Loc,
                "csv has " + llvm::Twine(Target->size()) +
                    " target columns, but each example of target '" + T->Name +
                    "' (" + formatType(T->Type) + ") has " +
                    llvm::Twine(perExample(T)) + " elements");
        return false;
      }
    }
    D.Kind = DataSpec::Csv;
    D.Path = Resolve(*Path);
    D.InputCols = *Inputs;
    D.TargetCols = *Target;
    D.Header = *Header;
    return true;
  }
  A.error(C.CalleeLoc, "unknown data source '" + C.Callee +
                           "'; expected idx(...) or csv(...)");
  return false;
}

/// `optimizer = sgd(...) | adam(...) | adamw(...) | adagrad(...) |
/// rmsprop(...)`, with PyTorch's defaults and the ranges it accepts.
static bool lowerOptimizer(Analyzer &A, const ast::Expr &E, OptimizerSpec &O) {
  if (E.Kind != ast::ExprKind::Call) {
    A.error(E.Loc, "expected an optimizer call such as sgd(lr = 0.1) or "
                   "adam()");
    return false;
  }
  const auto &C = static_cast<const ast::CallExpr &>(E);
  O.Loc = C.Loc;
  CallArgs Args;
  // Evaluates Args.Exprs[I] into `Out` when given; checks `Valid`.
  auto Num = [&](unsigned I, const char *Name, double &Out,
                 bool (*Valid)(double), const char *Rule) {
    if (!Args.Exprs[I])
      return true;
    std::optional<double> V = A.evalNumber(*Args.Exprs[I], Name);
    if (!V)
      return false;
    if (!Valid(*V)) {
      A.error(Args.Exprs[I]->Loc, llvm::Twine(Name) + " must be " + Rule +
                                      ", but it is " + formatConst(*V));
      return false;
    }
    Out = *V;
    return true;
  };
  auto Positive = [](double V) { return V > 0; };
  auto NonNegative = [](double V) { return V >= 0; };
  auto Fraction = [](double V) { return V >= 0 && V < 1; };
  if (C.Callee == "sgd") {
    if (!bindArgs(A, C, {"lr", "momentum", "weight_decay", "nesterov"}, 1,
                  Args))
      return false;
    O.Kind = OptimizerSpec::Sgd;
    bool Ok = Num(0, "lr", O.Lr, Positive, "positive");
    Ok &= Num(1, "momentum", O.Momentum, Fraction, "in [0, 1)");
    Ok &= Num(2, "weight_decay", O.WeightDecay, NonNegative, "non-negative");
    if (Args.Exprs[3]) {
      std::optional<bool> B = boolArg(A, *Args.Exprs[3], "nesterov");
      Ok &= B.has_value();
      O.Nesterov = B.value_or(false);
    }
    // Nesterov's look-ahead is along the velocity; PyTorch refuses it
    // without one.
    if (Ok && O.Nesterov && O.Momentum == 0) {
      A.error(Args.Exprs[3]->Loc, "nesterov needs a momentum > 0, but "
                                  "momentum is 0");
      return false;
    }
    return Ok;
  }
  if (C.Callee == "adam" || C.Callee == "adamw") {
    if (!bindArgs(A, C, {"lr", "beta1", "beta2", "eps", "weight_decay"}, 0,
                  Args))
      return false;
    bool Decoupled = C.Callee == "adamw";
    O.Kind = Decoupled ? OptimizerSpec::AdamW : OptimizerSpec::Adam;
    O.Lr = 0.001;
    O.WeightDecay = Decoupled ? 0.01 : 0;
    bool Ok = Num(0, "lr", O.Lr, Positive, "positive");
    Ok &= Num(1, "beta1", O.Beta1, Fraction, "in [0, 1)");
    Ok &= Num(2, "beta2", O.Beta2, Fraction, "in [0, 1)");
    Ok &= Num(3, "eps", O.Eps, Positive, "positive");
    Ok &= Num(4, "weight_decay", O.WeightDecay, NonNegative, "non-negative");
    return Ok;
  }
  if (C.Callee == "adagrad") {
    if (!bindArgs(A, C, {"lr", "eps"}, 0, Args))
      return false;
    O.Kind = OptimizerSpec::Adagrad;
    O.Eps = 1e-10;
    bool Ok = Num(0, "lr", O.Lr, Positive, "positive");
    Ok &= Num(1, "eps", O.Eps, Positive, "positive");
    return Ok;
  }
  if (C.Callee == "rmsprop") {
    if (!bindArgs(A, C, {"lr", "alpha", "eps", "momentum"}, 0, Args))
      return false;
    O.Kind = OptimizerSpec::RmsProp;
    bool Ok = Num(0, "lr", O.Lr, Positive, "positive");
    Ok &= Num(1, "alpha", O.Alpha, Fraction, "in [0, 1)");
    Ok &= Num(2, "eps", O.Eps, Positive, "positive");
    Ok &= Num(3, "momentum", O.Momentum, Fraction, "in [0, 1)");
    return Ok;
  }
  std::vector<std::string> Known = {"sgd", "adam", "adamw", "adagrad",
                                    "rmsprop"};
  A.error(C.CalleeLoc, "unknown optimizer '" + C.Callee + "'" +
                           Analyzer::suggest(C.Callee, Known) +
                           " (expected sgd, adam, adamw, adagrad or rmsprop)");
  return false;
}

/// `clip_norm = C`: the largest global L2 norm of the gradients.
static void lowerClipNorm(Analyzer &A, const ast::Expr &E, OptimizerSpec &O) {
  std::optional<double> V = A.evalNumber(E, "clip_norm");
  if (!V)
    return;
  if (*V <= 0) {
    A.error(E.Loc, "clip_norm must be positive, but it is " + formatConst(*V));
    return;
  }
  O.ClipNorm = *V;
  O.ClipLoc = E.Loc;
}

void Analyzer::analyzeTrain(const ast::TrainDecl &T, Module &M) {
  static const char *const Keys[] = {"data",       "test",       "optimizer",
                                     "clip_norm",  "schedule",   "augment",
                                     "validation", "early_stop", "epochs",
                                     "shuffle",    "seed"};
  TrainConfig Config;
  Config.Model = T.Model;
  Config.Loc = T.Loc;

  // 1. The model.
  const Graph *G = M.findModel(T.Model);
  auto Decl = ModelDecls.find(T.Model);
  if (Decl == ModelDecls.end()) {
    std::vector<std::string> Names;
    for (const auto &E : ModelDecls)
      Names.push_back(E.getKey().str());
    llvm::sort(Names);
    error(T.ModelLoc,
          "unknown model '" + T.Model + "'" + suggest(T.Model, Names));
    G = nullptr;
  } else if (Decl->second.second) {
    G = nullptr; // The model had errors: skip checks that would cascade.
  }
  for (const TrainConfig &Other : M.Trains)
    if (Other.Model == T.Model) {
      error(T.ModelLoc, "model '" + T.Model + "' already has a train block");
      note(Other.Loc, "the first train block is here");
      return;
    }
  if (G && !G->Loss) {
    error(T.ModelLoc,
          "model '" + T.Model + "' has no loss, so it cannot be trained");
    note(Decl->second.first->NameLoc, "model '" + T.Model + "' is here");
  }
  if (G && G->Unbatched) {
    error(T.ModelLoc, "model '" + T.Model +
                          "' is unbatched, so it cannot be trained: training "
                          "feeds its inputs batch by batch");
    note(Decl->second.first->NameLoc, "model '" + T.Model + "' is here");
  }

  // 2.-4. The keys.
  llvm::StringMap<SourceLoc> Seen;
  for (const ast::TrainEntry &E : T.Entries) {
    if (!llvm::is_contained(Keys, llvm::StringRef(E.Key))) {
      std::vector<std::string> Valid(std::begin(Keys), std::end(Keys));
      std::string Hint = suggest(E.Key, Valid);
      error(E.KeyLoc,
            "unknown key '" + E.Key + "' in train block" +
                (Hint.empty() ? " (valid keys: " + llvm::join(Valid, ", ") + ")"
                              : Hint));
      continue;
    }
    if (auto [It, New] = Seen.try_emplace(E.Key, E.KeyLoc); !New) {
      error(E.KeyLoc, "duplicate key '" + E.Key + "' in train block");
      note(It->second, "the first '" + E.Key + "' is here");
      continue;
    }
    if (!E.Value) {
      continue;
    }
    const ast::Expr &V = *E.Value;
    if (E.Key == "data") {
      lowerData(*this, V, G, Config.Data);
    } else if (E.Key == "test") {
      lowerData(*this, V, G, Config.Test);
    } else if (E.Key == "optimizer") {
      lowerOptimizer(*this, V, Config.Optimizer);
    } else if (E.Key == "clip_norm") {
      lowerClipNorm(*this, V, Config.Optimizer);
    } else if (E.Key == "epochs") {
      std::optional<int64_t> N = evalInt(V, "epochs");
      if (N && *N < 1) {
        error(V.Loc, "epochs must be at least 1, but it is " + llvm::Twine(*N));
        N.reset();
      }
      Config.Epochs = N.value_or(1);
    } else if (E.Key == "seed") {
      std::optional<int64_t> N = evalInt(V, "seed");
      if (N && *N < 0) {
        error(V.Loc, "seed must be non-negative, but it is " + llvm::Twine(*N));
        N.reset();
      }
      Config.Seed = uint64_t(N.value_or(0));
    } else if (E.Key == "shuffle") {
      std::optional<bool> B = boolArg(*this, V, "shuffle");
      Config.Shuffle = B.value_or(true);
    } else if (E.Key == "schedule") {
      lowerSchedule(V, Config.Schedule);
    } else if (E.Key == "augment") {
      lowerAugment(V, Config.Augment);
    } else if (E.Key == "validation") {
      lowerValidation(V, Config.Validation);
    } else if (E.Key == "early_stop") {
      lowerEarlyStop(V, Config.EarlyStop);
    }
  }
  checkRecipe(Config, Seen, T);
  for (const char *Required : {"data", "optimizer"})
    if (!Seen.count(Required)) {
      error(T.Loc, "train block for '" + T.Model + "' has no '" +
                       llvm::Twine(Required) + "' key");
    }
  // Kept even after errors (reported in Diags), for the duplicate check.
  M.Trains.push_back(std::move(Config));
}
