//===- PassManager.h - Running graph passes: -O pipelines and --passes ----===//
//
// The driver's one entry into the graph optimizer is `optimizeGraph`: it
// builds the pipeline the command line asks for (`-O0`..`-O3`, or exactly
// `--passes=a,b,c`), runs it on one graph, and provides the debugging aids
// around every pass: `--print-after-all`, `--verify-each`, `--stats` and
// `-Rpass=REGEX` remarks. Both `--emit=opt` and the code generator call it,
// so what a user dumps is what gets lowered.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TRANSFORMS_PASSMANAGER_H
#define NNC_TRANSFORMS_PASSMANAGER_H

#include "nnc/Graph/Graph.h"
#include "nnc/Support/Diagnostics.h"
#include "nnc/Transforms/Pass.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/Support/raw_ostream.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nnc {

/// The optimizer's command-line settings.
struct PassOptions {
  /// -O level, 0 to 3. -O0 runs no pass.
  unsigned OptLevel = 2;
  /// `--passes=a,b,c`: when set, exactly these run, once each, in this
  /// order, and the -O level is ignored. An empty string runs nothing.
  std::optional<std::string> PassList;
  /// Print the graph after every pass run (`# -- after NAME --`).
  bool PrintAfterAll = false;
  /// Run the graph verifier before the first pass and after every pass.
  bool VerifyEach = false;
  /// Print each pass's counters when the pipeline finishes.
  bool Stats = false;
  /// `-Rpass=REGEX` values; a pass emits remarks if its name matches any.
  std::vector<std::string> RemarkFilters;
  /// Where --print-after-all and --stats write; null means stderr, as LLVM
  /// tools do, so that the dump on stdout stays clean.
  llvm::raw_ostream *Log = nullptr;
};

/// Checks the pass names of `--passes` and the `-Rpass` regexes. Returns an
/// empty string when they are usable, else a message naming the problem
/// (for an unknown pass: the list of valid names).
std::string checkPassOptions(const PassOptions &Opts);

/// One step of an -O pipeline: a group of passes run in order, repeated
/// until a whole round changes nothing or `MaxRounds` rounds have run.
struct PipelineEntry {
  const char *Passes; ///< Comma-separated names from Passes.def.
  unsigned MaxRounds; ///< 1: run the group once.
};

/// The pipeline of `-O<Level>` (Level 0..3), as data.
llvm::ArrayRef<PipelineEntry> pipelineForLevel(unsigned Level);

/// Runs groups of passes on one graph with the debugging aids of
/// PassOptions. Tests use it directly to run hand-made passes.
class PassManager {
public:
  PassManager(const PassOptions &Opts, DiagEngine &Diags);
  ~PassManager();

  /// Appends a group run in order, repeated up to `MaxRounds` times until
  /// a round changes nothing.
  void addGroup(std::vector<std::unique_ptr<Pass>> Passes,
                unsigned MaxRounds = 1);

  /// Runs every group on `G`. Returns false (after reporting through the
  /// DiagEngine) if `--verify-each` found a broken graph.
  bool run(Graph &G);

private:
  struct Group {
    std::vector<std::unique_ptr<Pass>> Passes;
    unsigned MaxRounds;
  };
  bool verify(const Graph &G, llvm::StringRef After);
  void printStats(const Graph &G, size_t NodesBefore);

  const PassOptions &Opts;
  DiagEngine &Diags;
  llvm::raw_ostream &Log;
  std::unique_ptr<RemarkEngine> Remarks;
  std::vector<Group> Groups;
};

/// Builds the pipeline `Opts` describes and runs it on `G`: the function the
/// driver calls for `--emit=opt` and before lowering. `Opts` must pass
/// `checkPassOptions`. Returns false if a diagnostic was reported.
bool optimizeGraph(Graph &G, const PassOptions &Opts, DiagEngine &Diags);

} // namespace nnc

#endif
