//===- CodeGenDriver.h - The driver's code-generating stages --------------===//
//
// What `nnc` does after semantic analysis when the user wants code: pick the
// model, build its training step, lower it, and then print LLVM IR,
// assembly or an object file (`--emit=llvm|asm|obj`), link an executable
// (`-o EXE`), or JIT-compile and run it (`nnc run`). Kept out of nnc.cpp so
// that the driver's main file stays a readable list of stages.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_CODEGENDRIVER_H
#define NNC_TOOLS_CODEGENDRIVER_H

#include "nnc/Graph/Module.h"
#include "nnc/Support/Diagnostics.h"
#include "nnc/Transforms/PassManager.h"

#include <llvm/Support/raw_ostream.h>

#include <string>
#include <vector>

namespace nnc {

class TimeReport;

/// The command-line settings the code-generating stages read.
struct CodeGenRequest {
  std::string Emit;   ///< "llvm", "asm", "obj", or empty: executable / run.
  std::string Output; ///< -o; the executable's path.
  std::string Input;  ///< The .nn file (names the default executable).
  unsigned OptLevel = 2;
  std::string TargetCpu;
  std::string Model; ///< --model; empty: choose automatically.
  bool Run = false;
  std::vector<std::string> RunArgs;
  const char *Argv0 = "nnc";
  /// The graph passes to run before lowering (see Transforms/PassManager.h).
  PassOptions Optimizer;
  std::string LLVMPasses; ///< --llvm-passes; empty: the -O level's.
  /// --check-numerics: the generated code checks every kernel's output for
  /// NaN/Inf (Runtime/Numerics.h).
  bool CheckNumerics = false;
  /// --time-report: where each stage's time goes (null: not timed).
  TimeReport *Times = nullptr;
};

/// True for `--emit` stages this file handles.
inline bool isCodeStage(llvm::StringRef Emit) {
  return Emit == "llvm" || Emit == "asm" || Emit == "obj";
}

/// Runs the code-generating stages on an analyzed module. Dumps go to `OS`.
/// Returns the process exit status (for `nnc run`, the program's).
int generateCode(const CodeGenRequest &Req, Module &M, DiagEngine &Diags,
                 llvm::raw_ostream &OS);

} // namespace nnc

#endif
