//===- TrainRecipe.cpp - Schedule, augment, validation, early_stop --------===//
//
// The train-block keys that shape a run beyond data and optimizer
// (docs/language.md, "`train` blocks"; their run-time meaning is in
// docs/runtime.md):
//   1. `schedule` is a name or a call: `constant`, `step(every, gamma)`,
//      `cosine(warmup)`; an unknown one suggests the nearest;
//   2. `augment` is a list of `random_crop(padding)` and `hflip` (a single
//      entry may go without brackets), each at most once;
//   3. `validation` is a fraction strictly between 0 and 1, `early_stop` an
//      integer patience of at least 1 epoch;
//   4. once every key is read, the checks between keys: augment needs image
//      (idx) data, early_stop a validation set, and a cosine warm-up must
//      leave epochs for the decay.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include <llvm/ADT/StringExtras.h>

using namespace nnc;
using namespace nnc::sema;

namespace {

/// A train-block value written either as a call `f(...)` or as a bare name
/// `f` (a call without arguments): its callee, location and arguments.
struct NamedCall {
  std::string Name;
  SourceLoc Loc;
  const ast::CallExpr *Call = nullptr; ///< Null for a bare name.
};

std::optional<NamedCall> namedCall(const ast::Expr &E) {
  if (E.Kind == ast::ExprKind::Name)
    return NamedCall{static_cast<const ast::NameExpr &>(E).Name, E.Loc};
  if (E.Kind == ast::ExprKind::Call) {
    const auto &C = static_cast<const ast::CallExpr &>(E);
    return NamedCall{C.Callee, C.CalleeLoc, &C};
  }
  return std::nullopt;
}

/// Binds the arguments of `N` (none for a bare name) like bindArgs.
bool bindNamed(Analyzer &A, const NamedCall &N,
               llvm::ArrayRef<const char *> Names, unsigned NumRequired,
               CallArgs &Out) {
  if (N.Call)
    return bindArgs(A, *N.Call, Names, NumRequired, Out);
  Out.Exprs.assign(Names.size(), nullptr);
  if (NumRequired == 0)
    return true;
  A.error(N.Loc, "missing argument '" + llvm::Twine(Names[0]) + "' of " +
                     N.Name + "(" + llvm::join(Names, ", ") + ")");
  return false;
}

/// The integer argument `I` of `Args` into `Out` when given; at least `Min`.
bool intArg(Analyzer &A, const CallArgs &Args, unsigned I, const char *Name,
            int64_t Min, const char *Rule, int64_t &Out) {
  if (!Args.Exprs[I])
    return true;
  std::optional<int64_t> V = A.evalInt(*Args.Exprs[I], Name);
  if (!V)
    return false;
  if (*V < Min || *V > MaxDim) {
    A.error(Args.Exprs[I]->Loc, llvm::Twine(Name) + " must be " + Rule +
                                    ", but it is " + llvm::Twine(*V));
    return false;
  }
  Out = *V;
  return true;
}

} // namespace

bool Analyzer::lowerSchedule(const ast::Expr &E, ScheduleSpec &S) {
  static const char *const Expected =
      "expected constant, step(every, gamma = 0.1) or cosine(warmup = 0)";
  std::optional<NamedCall> N = namedCall(E);
  if (!N) {
    error(E.Loc, Expected);
    return false;
  }
  S.Loc = N->Loc;
  CallArgs Args;
  if (N->Name == "constant") {
    S.Kind = ScheduleSpec::Constant;
    return bindNamed(*this, *N, {}, 0, Args);
  }
  if (N->Name == "step") {
    S.Kind = ScheduleSpec::Step;
    if (!bindNamed(*this, *N, {"every", "gamma"}, 1, Args))
      return false;
    bool Ok =
        intArg(*this, Args, 0, "every", 1, "at least 1 (epochs)", S.Every);
    if (Args.Exprs[1]) {
      std::optional<double> G = evalNumber(*Args.Exprs[1], "gamma");
      if (G && *G <= 0) {
        error(Args.Exprs[1]->Loc,
              "gamma must be positive, but it is " + formatConst(*G));
        G.reset();
      }
      Ok &= G.has_value();
      S.Gamma = G.value_or(S.Gamma);
    }
    return Ok;
  }
  if (N->Name == "cosine") {
    S.Kind = ScheduleSpec::Cosine;
    if (!bindNamed(*this, *N, {"warmup"}, 0, Args))
      return false;
    return intArg(*this, Args, 0, "warmup", 0, "non-negative (epochs)",
                  S.Warmup);
  }
  std::vector<std::string> Known = {"constant", "step", "cosine"};
  error(N->Loc, "unknown schedule '" + N->Name + "'" + suggest(N->Name, Known) +
                    " (" + Expected + ")");
  return false;
}

bool Analyzer::lowerAugment(const ast::Expr &E, std::vector<AugmentSpec> &Out) {
  std::vector<const ast::Expr *> Items;
  if (E.Kind == ast::ExprKind::List)
    for (const ast::ExprPtr &I : static_cast<const ast::ListExpr &>(E).Elements)
      Items.push_back(I.get());
  else
    Items.push_back(&E);
  bool Ok = true;
  for (const ast::Expr *Item : Items) {
    std::optional<NamedCall> N = namedCall(*Item);
    if (!N) {
      error(Item->Loc, "expected an augmentation: random_crop(padding) or "
                       "hflip");
      Ok = false;
      continue;
    }
    AugmentSpec A;
    A.Loc = N->Loc;
    CallArgs Args;
    if (N->Name == "random_crop") {
      A.Kind = AugmentSpec::RandomCrop;
      if (!bindNamed(*this, *N, {"padding"}, 1, Args) ||
          !intArg(*this, Args, 0, "padding", 0, "non-negative", A.Padding)) {
        Ok = false;
        continue;
      }
    } else if (N->Name == "hflip") {
      A.Kind = AugmentSpec::HFlip;
      if (!bindNamed(*this, *N, {}, 0, Args)) {
        Ok = false;
        continue;
      }
    } else {
      std::vector<std::string> Known = {"random_crop", "hflip"};
      error(N->Loc, "unknown augmentation '" + N->Name + "'" +
                        suggest(N->Name, Known) +
                        " (expected random_crop(padding) or hflip)");
      Ok = false;
      continue;
    }
    auto Same = [&](const AugmentSpec &B) { return B.Kind == A.Kind; };
    if (auto It = llvm::find_if(Out, Same); It != Out.end()) {
      error(N->Loc, "augmentation '" + N->Name + "' is listed twice");
      note(It->Loc, "the first '" + N->Name + "' is here");
      Ok = false;
      continue;
    }
    Out.push_back(A);
  }
  return Ok;
}

bool Analyzer::lowerValidation(const ast::Expr &E, double &Fraction) {
  std::optional<double> F = evalNumber(E, "validation");
  if (!F)
    return false;
  if (*F <= 0 || *F >= 1) {
    error(E.Loc, "validation must be a fraction between 0 and 1 (exclusive), "
                 "but it is " +
                     formatConst(*F));
    return false;
  }
  Fraction = *F;
  return true;
}

bool Analyzer::lowerEarlyStop(const ast::Expr &E, int64_t &Patience) {
  std::optional<int64_t> N = evalInt(E, "early_stop");
  if (!N)
    return false;
  if (*N < 1) {
    error(E.Loc, "early_stop must be at least 1 (epochs without "
                 "improvement), but it is " +
                     llvm::Twine(*N));
    return false;
  }
  Patience = *N;
  return true;
}

void Analyzer::checkRecipe(const TrainConfig &C,
                           const llvm::StringMap<SourceLoc> &Keys,
                           const ast::TrainDecl &T) {
  auto Where = [&](llvm::StringRef Key) { return Keys.lookup(Key); };
  if (!C.Augment.empty() && C.Data.Kind == DataSpec::Csv) {
    error(Where("augment"), "augment applies to images (idx data), but the "
                            "training data of '" +
                                T.Model + "' is csv");
    note(C.Data.Loc, "the data is here");
  }
  if (C.EarlyStop > 0 && C.Validation == 0 && !Keys.count("validation"))
    error(Where("early_stop"), "early_stop needs a validation set to watch "
                               "(add, say, validation = 0.1)");
  if (C.Schedule.Kind == ScheduleSpec::Cosine &&
      C.Schedule.Warmup >= C.Epochs) {
    error(C.Schedule.Loc,
          "the cosine schedule's warm-up of " + llvm::Twine(C.Schedule.Warmup) +
              " epochs leaves no epoch to " + "decay in a run of " +
              llvm::Twine(C.Epochs) + " (warmup must be less than epochs)");
    if (Keys.count("epochs"))
      note(Where("epochs"), "epochs is set here");
  }
}
