//===- Pass.h - A graph-to-graph optimization pass ------------------------===//
//
// The unit of the graph optimizer. A pass is a small class with a name and
// `bool run(Graph &)` that rewrites the graph in place and says whether it
// changed anything. While it runs it counts what it did (`--stats`) and may
// explain single decisions as remarks at the node's source line (`-Rpass`).
// Passes know nothing about pipelines: the PassManager (PassManager.h)
// decides which run, in which order, and checks the graph between them.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TRANSFORMS_PASS_H
#define NNC_TRANSFORMS_PASS_H

#include "nnc/Graph/Graph.h"
#include "nnc/Support/Diagnostics.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/ADT/StringSet.h>
#include <llvm/ADT/Twine.h>
#include <llvm/Support/Regex.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nnc {

/// One counter of a pass, e.g. {"nodes folded to constants", 3}.
struct PassStatistic {
  std::string Description;
  uint64_t Value = 0;
};

/// Where remarks go and which passes may emit them (`-Rpass=REGEX`, matched
/// against the whole pass name, as in clang).
class RemarkEngine {
public:
  /// `Filter` must be a valid regex (see `checkRemarkFilter`).
  RemarkEngine(DiagEngine &Diags, llvm::StringRef Filter);

  bool enabledFor(llvm::StringRef PassName) const;
  /// Prints `LOC: remark: [PASS] MSG`.
  void emit(llvm::StringRef PassName, SourceLoc Loc, const llvm::Twine &Msg);

  /// Empty if `Filter` is a usable -Rpass regex, else why not.
  static std::string checkRemarkFilter(llvm::StringRef Filter);

private:
  DiagEngine &Diags;
  llvm::Regex Filter;
};

class Pass {
public:
  explicit Pass(llvm::StringRef Name) : Name(Name.str()) {}
  virtual ~Pass() = default;
  Pass(const Pass &) = delete;
  Pass &operator=(const Pass &) = delete;

  /// The name `--passes` and `-Rpass` use ("constfold").
  llvm::StringRef name() const { return Name; }

  /// Rewrites `G` once; returns true if it changed the graph. The graph
  /// must be verifier-clean before and after.
  virtual bool run(Graph &G) = 0;

  /// Counters accumulated over every `run`, in the order first counted.
  llvm::ArrayRef<PassStatistic> statistics() const { return Stats; }

  /// Where `remark` writes; null (the default) disables remarks.
  void setRemarkEngine(RemarkEngine *R) { Remarks = R; }

protected:
  /// Adds `N` to the counter described by `Description`.
  void count(llvm::StringRef Description, uint64_t N = 1);
  /// True when remarks of this pass are wanted; lets a pass skip building
  /// an expensive message.
  bool remarksEnabled() const { return Remarks && Remarks->enabledFor(Name); }
  /// A remark at `N`'s source line (see RemarkEngine::emit).
  void remark(const Node &N, const llvm::Twine &Msg);
  /// Like `remark`, but says each (location, message) only once per pass
  /// instance: a refusal seen again in every round of a fixed point is one
  /// decision. Returns true the first time, so callers can count it once.
  bool remarkOnce(const Node &N, const llvm::Twine &Msg);

private:
  std::string Name;
  std::vector<PassStatistic> Stats;
  RemarkEngine *Remarks = nullptr;
  llvm::StringSet<> Said; ///< Keys of the remarkOnce calls so far.
};

} // namespace nnc

#endif
