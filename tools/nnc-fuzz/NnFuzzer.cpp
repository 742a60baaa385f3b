//===- NnFuzzer.cpp - libFuzzer target: .nn source through the front end --===//
//
// No input file, however malformed, may crash the compiler (docs/design.md,
// "Diagnostics"). This target feeds arbitrary bytes through every stage that
// runs before code generation, exactly as `tools/nnc/nnc.cpp` calls them:
//   1. lex (`printTokens`) and parse (`parseFile`, `printAST`);
//   2. semantic analysis (`analyze`), then `verifyGraph` on every graph it
//      built and both graph printers;
//   3. the training step (`buildTrainingSteps`: `differentiate` plus the
//      `train` block's `buildOptimizerUpdate`), then `verifyGraph` and the
//      printers again;
//   4. the graph optimizer's -O3 pipeline (`optimizeGraph`, what
//      `--emit=opt` and code generation run), then `verifyGraph`.
// User errors are expected and go to a DiagEngine writing to a null stream.
// A graph that a stage produced without reporting an error yet that
// fails the verifier is a compiler bug: the target prints the verifier's
// message and aborts, which libFuzzer records as a crash. Asserts, ASan and
// UBSan reports (built with -fno-sanitize-recover) abort the same way.
//
//===----------------------------------------------------------------------===//
#include "nnc/Autodiff/Optimizer.h"
#include "nnc/Graph/Printer.h"
#include "nnc/Graph/Verifier.h"
#include "nnc/Parse/Parser.h"
#include "nnc/Sema/Sema.h"
#include "nnc/Support/Diagnostics.h"
#include "nnc/Transforms/PassManager.h"

#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>

#include <cstdint>
#include <cstdlib>

using namespace nnc;

namespace {

/// Aborts with the verifier's complaint if `G` is malformed. `Stage` names
/// the stage that produced it, so a crash report says whom to blame.
void checkVerifies(const Graph &G, const char *Stage) {
  std::string Problem = verifyGraph(G);
  if (Problem.empty())
    return;
  llvm::errs() << "nnc-fuzz: " << Stage << " produced an invalid graph for "
               << "model '" << G.name() << "': " << Problem << "\n";
  llvm::errs().flush();
  std::abort();
}

/// Prints every graph of `M` in both formats, discarding the text: the
/// printers must cope with whatever the stages built.
void printAll(const Module &M) {
  for (const auto &G : M.Models) {
    printGraph(*G, llvm::nulls());
    printGraphDot(*G, llvm::nulls());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  DiagEngine Diags(llvm::nulls());
  // A copy, because the lexer relies on the terminating NUL the copy adds.
  unsigned Id = Diags.addBuffer(llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(reinterpret_cast<const char *>(Data), Size), "fuzz.nn"));

  // Step 1. `--emit=tokens` runs the lexer on its own; the parser runs it
  // again and reports the same lexical errors, so one engine serves both.
  printTokens(Diags, Id, llvm::nulls());
  std::unique_ptr<ast::File> File = parseFile(Diags, Id);
  if (Diags.hadErrors())
    return 0;
  printAST(*File, llvm::nulls());

  // Step 2. No base folder: data paths stay as written and are never read.
  std::unique_ptr<Module> M = analyze(*File, Diags, "");
  if (!M || Diags.hadErrors())
    return 0;
  for (const auto &G : M->Models)
    checkVerifies(*G, "sema");
  printAll(*M);

  // Step 3. A failed differentiation may leave a graph partly extended;
  // only a run without diagnostics promises well-formed graphs.
  if (!buildTrainingSteps(*M, Diags) || Diags.hadErrors())
    return 0;
  for (const auto &G : M->Models)
    checkVerifies(*G, "autodiff");
  printAll(*M);

  // Step 4. -O3 runs every pass, fixed-point groups included.
  PassOptions Opt;
  Opt.OptLevel = 3;
  for (const auto &G : M->Models) {
    if (!optimizeGraph(*G, Opt, Diags))
      return 0;
    checkVerifies(*G, "the optimizer");
  }
  printAll(*M);
  return 0;
}
