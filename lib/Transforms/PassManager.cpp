//===- PassManager.cpp - -O pipelines, --passes and the debugging aids ----===//
//
// Algorithm of PassManager::run:
//   1. With --verify-each, verify the incoming graph (a failure here blames
//      the stage before the optimizer, not a pass).
//   2. For each group: run its passes in order; if any changed the graph
//      and fewer than MaxRounds rounds have run, run the group again.
//   3. After every single pass run: print the graph (--print-after-all)
//      and verify it (--verify-each), naming the pass on failure.
//   4. At the end, print every pass's counters (--stats).
//
//===----------------------------------------------------------------------===//
#include "nnc/Transforms/PassManager.h"

#include "nnc/Graph/Printer.h"
#include "nnc/Graph/Verifier.h"
#include "nnc/Transforms/Passes.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/Format.h>

using namespace nnc;

//===----------------------------------------------------------------------===//
// The -O pipelines
//===----------------------------------------------------------------------===//

// -O0: nothing runs; the lowered graph is exactly `--emit=grad`.

// -O1: one cheap sweep.
static const PipelineEntry O1Pipeline[] = {
    // Identities first so that constfold sees `1 * 0.25` rather than a
    // chain of seeds; cse then merges what folding made equal, and dce
    // drops everything the rewrites left behind.
    {"simplify,fold-scale,constfold,cse,dce", 1},
};

// -O2 (the default) and -O3: the same group to a fixed point.
static const PipelineEntry O2Pipeline[] = {
    // Each pass exposes work for the others (a fold makes a `x * 1`, a
    // simplification makes two nodes equal for cse), so repeat the group
    // until a whole round changes nothing. Real models settle in 2-3
    // rounds; the cap only guards against a pair of rules undoing each
    // other.
    {"simplify,fold-scale,constfold,cse,dce", 10},
    // Then partition the cleaned graph into kernels (loop nests) for the
    // code generator; nothing after it may rewrite the graph.
    {"fuse", 1},
};

llvm::ArrayRef<PipelineEntry> nnc::pipelineForLevel(unsigned Level) {
  assert(Level <= 3 && "optimization level out of range");
  if (Level == 0)
    return {};
  if (Level == 1)
    return O1Pipeline;
  // -O3 is -O2: memory planning happens in the code generator at every
  // level (docs/passes.md).
  return O2Pipeline;
}

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

/// Splits "a,b,c" (blanks around names are ignored; empty items dropped).
static std::vector<std::string> splitPassList(llvm::StringRef List) {
  llvm::SmallVector<llvm::StringRef, 8> Items;
  List.split(Items, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  std::vector<std::string> Names;
  for (llvm::StringRef I : Items)
    if (!I.trim().empty())
      Names.push_back(I.trim().str());
  return Names;
}

std::string nnc::checkPassOptions(const PassOptions &Opts) {
  if (Opts.PassList)
    for (const std::string &Name : splitPassList(*Opts.PassList))
      if (!createPassByName(Name))
        return "unknown pass '" + Name +
               "' in --passes (valid passes: " + registeredPassNames() + ")";
  for (const std::string &F : Opts.RemarkFilters)
    if (std::string Why = RemarkEngine::checkRemarkFilter(F); !Why.empty())
      return Why;
  return "";
}

/// The passes of a comma-separated list, all registered (checked before).
static std::vector<std::unique_ptr<Pass>> makePasses(llvm::StringRef List) {
  std::vector<std::unique_ptr<Pass>> Passes;
  for (const std::string &Name : splitPassList(List)) {
    Passes.push_back(createPassByName(Name));
    assert(Passes.back() && "unregistered pass in a pipeline");
  }
  return Passes;
}

//===----------------------------------------------------------------------===//
// PassManager
//===----------------------------------------------------------------------===//

PassManager::PassManager(const PassOptions &Opts, DiagEngine &Diags)
    : Opts(Opts), Diags(Diags), Log(Opts.Log ? *Opts.Log : llvm::errs()) {
  if (!Opts.RemarkFilters.empty()) {
    // Several -Rpass flags select the union of their passes.
    std::string Filter;
    for (const std::string &F : Opts.RemarkFilters)
      Filter += (Filter.empty() ? "(" : "|(") + F + ")";
    Remarks = std::make_unique<RemarkEngine>(Diags, Filter);
  }
}

PassManager::~PassManager() = default;

void PassManager::addGroup(std::vector<std::unique_ptr<Pass>> Passes,
                           unsigned MaxRounds) {
  assert(MaxRounds >= 1 && "a group runs at least once");
  for (auto &P : Passes)
    P->setRemarkEngine(Remarks.get());
  Groups.push_back({std::move(Passes), MaxRounds});
}

bool PassManager::verify(const Graph &G, llvm::StringRef After) {
  if (!Opts.VerifyEach)
    return true;
  std::string Why = verifyGraph(G);
  if (Why.empty())
    return true;
  // A broken graph is a compiler bug, but asserts are off in release
  // builds; report it so the user (and the test) sees which pass broke it.
  if (After.empty())
    Diags.error("internal compiler error: graph '" + G.name() +
                "' is invalid before the first pass: " + Why);
  else
    Diags.error("internal compiler error: pass '" + After + "' left graph '" +
                G.name() + "' invalid: " + Why);
  return false;
}

void PassManager::printStats(const Graph &G, size_t NodesBefore) {
  Log << "# -- statistics for graph " << G.name() << ": " << NodesBefore
      << " -> " << G.size() << " nodes --\n";
  // Each pass instance once, even if it ran many rounds (its counters
  // already add up every round). Zero counters are left out, as in LLVM.
  for (const Group &Gr : Groups)
    for (const auto &P : Gr.Passes)
      for (const PassStatistic &S : P->statistics())
        if (S.Value)
          Log << llvm::format("%7llu", (unsigned long long)S.Value) << " "
              << P->name() << " - " << S.Description << "\n";
}

/// A rewrite after `fuse` may have merged, split or replaced members of a
/// kernel; the partition no longer describes the graph, so it is dropped
/// (every node its own kernel) until `fuse` runs again.
static void invalidateKernels(Graph &G) {
  for (const auto &N : G.nodes())
    N->Kernel = -1;
}

bool PassManager::run(Graph &G) {
  size_t NodesBefore = G.size();
  if (!verify(G, ""))
    return false;
  for (Group &Gr : Groups) {
    for (unsigned Round = 0; Round < Gr.MaxRounds; ++Round) {
      bool Changed = false;
      for (auto &P : Gr.Passes) {
        bool PassChanged = P->run(G);
        Changed |= PassChanged;
        if (PassChanged && P->name() != "fuse")
          invalidateKernels(G);
        if (Opts.PrintAfterAll) {
          Log << "# -- after " << P->name() << " --\n";
          printGraph(G, Log);
        }
        if (!verify(G, P->name()))
          return false;
      }
      if (!Changed)
        break;
    }
  }
  if (Opts.Stats)
    printStats(G, NodesBefore);
  return true;
}

bool nnc::optimizeGraph(Graph &G, const PassOptions &Opts, DiagEngine &Diags) {
  assert(checkPassOptions(Opts).empty() && "unchecked pass options");
  PassManager PM(Opts, Diags);
  if (Opts.PassList) {
    // Exactly what the user listed, once each, in order.
    for (auto &P : makePasses(*Opts.PassList)) {
      std::vector<std::unique_ptr<Pass>> One;
      One.push_back(std::move(P));
      PM.addGroup(std::move(One));
    }
  } else {
    for (const PipelineEntry &E : pipelineForLevel(Opts.OptLevel))
      PM.addGroup(makePasses(E.Passes), E.MaxRounds);
  }
  return PM.run(G);
}
