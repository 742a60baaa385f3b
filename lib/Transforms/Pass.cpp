//===- Pass.cpp - Pass base class, remarks and the pass registry ----------===//
//
// The registry is Passes.def expanded into one table; everything that needs
// the list of passes (`--passes`, its error message, the -O pipelines)
// reads that table, so adding a pass is one line there plus its file.
//
//===----------------------------------------------------------------------===//
#include "nnc/Transforms/Pass.h"
#include "nnc/Transforms/Passes.h"

using namespace nnc;

//===----------------------------------------------------------------------===//
// Remarks
//===----------------------------------------------------------------------===//

/// Anchors the user's regex so `-Rpass=cse` does not also select a pass
/// whose name merely contains "cse" (clang matches whole names too).
static std::string anchored(llvm::StringRef Filter) {
  return "^(" + Filter.str() + ")$";
}

RemarkEngine::RemarkEngine(DiagEngine &Diags, llvm::StringRef Filter)
    : Diags(Diags), Filter(anchored(Filter)) {
  assert(checkRemarkFilter(Filter).empty() && "unchecked -Rpass regex");
}

std::string RemarkEngine::checkRemarkFilter(llvm::StringRef Filter) {
  llvm::Regex R(anchored(Filter));
  std::string Why;
  if (!R.isValid(Why))
    return "invalid regular expression '" + Filter.str() +
           "' in -Rpass: " + Why;
  return "";
}

bool RemarkEngine::enabledFor(llvm::StringRef PassName) const {
  return Filter.match(PassName);
}

void RemarkEngine::emit(llvm::StringRef PassName, SourceLoc Loc,
                        const llvm::Twine &Msg) {
  Diags.remark(Loc, "[" + PassName + "] " + Msg);
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

void Pass::count(llvm::StringRef Description, uint64_t N) {
  for (PassStatistic &S : Stats)
    if (S.Description == Description) {
      S.Value += N;
      return;
    }
  Stats.push_back({Description.str(), N});
}

void Pass::remark(const Node &N, const llvm::Twine &Msg) {
  if (remarksEnabled())
    Remarks->emit(Name, N.Loc, Msg);
}

bool Pass::remarkOnce(const Node &N, const llvm::Twine &Msg) {
  std::string Key = std::to_string(N.Loc.Line) + ":" +
                    std::to_string(N.Loc.Col) + ":" + Msg.str();
  if (!Said.insert(Key).second)
    return false;
  remark(N, Msg);
  return true;
}

//===----------------------------------------------------------------------===//
// Registry
//===----------------------------------------------------------------------===//

static const PassInfo Registry[] = {
#define NNC_PASS(Spelling, Factory, Summary) {Spelling, Summary, Factory},
#include "nnc/Transforms/Passes.def"
};

llvm::ArrayRef<PassInfo> nnc::registeredPasses() { return Registry; }

std::unique_ptr<Pass> nnc::createPassByName(llvm::StringRef Name) {
  for (const PassInfo &P : Registry)
    if (P.Name == Name)
      return P.Create();
  return nullptr;
}

std::string nnc::registeredPassNames() {
  std::string S;
  for (const PassInfo &P : Registry)
    S += (S.empty() ? "" : ", ") + P.Name.str();
  return S;
}
