//===- CommandLine.h - The executable's command line, parsed ----*- C++ -*-===//
//
// `EXE COMMAND [flags]` (docs/runtime.md, "Commands") as data: which command
// to run with which RunOptions, or the help to print, or the usage error to
// report. A pure function of the model descriptor and the arguments, so
// that it can be tested and fuzzed (tools/nnc-fuzz) without running
// anything; nnc_main (Main.cpp) prints, joins an MPI job and runs.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_COMMANDLINE_H
#define NNC_RUNTIME_COMMANDLINE_H

#include "nnc/Runtime/Commands.h"

#include <string>
#include <vector>

namespace nnc::rt {

/// What a command line asks for.
struct ParsedCommandLine {
  enum Kind {
    Run,        ///< Run `Command` with `Options`.
    Help,       ///< Print `Text` on stdout; exit status 0.
    UsageError, ///< Report `Text`; exit status 2.
  } K = Run;
  /// Help: the whole help text. UsageError: the message (no "error:").
  std::string Text;
  /// The command the line names (Run, and Help or UsageError about one
  /// command), or null.
  const char *CommandName = nullptr;
  Status (*Command)(const nnc_model &, const RunOptions &) = nullptr;
  RunOptions Options;
};

/// Parses `Args` (argv without argv[0]) for model `M`; `Prog` is the
/// executable's name for help texts. Without a command, a model with a
/// train block trains and one without inputs or targets is shown; any
/// other model needs a command. Flags take a value after them or after
/// `=`; `--data` takes one or two.
ParsedCommandLine parseCommandLine(const nnc_model &M, const std::string &Prog,
                                   std::vector<std::string> Args);

} // namespace nnc::rt

#endif
