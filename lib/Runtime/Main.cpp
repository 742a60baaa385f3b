//===- Main.cpp - nnc_main: the compiled executable's command line --------===//
//
// Parses `EXE COMMAND [flags]` (CommandLine.h, docs/runtime.md, "Commands"),
// prints help, and runs the command; without a command, a model with a train
// block trains and one without inputs is shown. Exit status: 0 success,
// 1 a failed run (bad data or tensor file, I/O error), 2 a usage error
// (unknown command or flag, a missing or malformed flag value). Errors read
// "EXE: error: MESSAGE". Under mpirun (docs/distributed.md) `train` runs
// on every rank together, any other command on rank 0 alone, and only
// rank 0 prints.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Callbacks.h"
#include "nnc/Runtime/CommandLine.h"
#include "nnc/Runtime/Mpi.h"

#include <cstdio>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace nnc::rt {
namespace {

/// A usage error: message, pointer to help, exit 2.
int usageError(const std::string &Prog, const std::string &Msg,
               const char *Command) {
  if (launcherRank() != 0)
    return 2; // every rank has the same command line; rank 0 says it
  std::fprintf(stderr, "%s: error: %s\n", Prog.c_str(), Msg.c_str());
  std::fprintf(stderr, "run '%s %s--help' for usage\n", Prog.c_str(),
               Command ? (std::string(Command) + " ").c_str() : "");
  return 2;
}

std::string programName(const char *Argv0, const nnc_model *M) {
  std::string P = Argv0 && *Argv0 ? Argv0 : (M && M->name ? M->name : "model");
  size_t Slash = P.rfind('/');
  return Slash == std::string::npos ? P : P.substr(Slash + 1);
}

int runMain(const nnc_model *Model, int Argc, char **Argv) {
  std::string Prog = programName(Argc > 0 ? Argv[0] : nullptr, Model);
  if (!Model || !Model->name || (Model->num_slots > 0 && !Model->slots)) {
    std::fprintf(stderr, "%s: error: invalid model descriptor\n", Prog.c_str());
    return 1;
  }
  ParsedCommandLine P = parseCommandLine(
      *Model, Prog,
      std::vector<std::string>(Argv + (Argc > 0 ? 1 : 0), Argv + Argc));
  if (P.K == ParsedCommandLine::UsageError)
    return usageError(Prog, P.Text, P.CommandName);
  if (P.K == ParsedCommandLine::Help) {
    if (launcherRank() == 0)
      std::fputs(P.Text.c_str(), stdout);
    return 0;
  }
  // Under mpirun only `train` is a job of all ranks.
  bool Distributed = launchedByMpi() && P.Command == runTrain;
  if (launchedByMpi() && !Distributed && launcherRank() != 0)
    return 0;
  RunOptions &O = P.Options;

  std::unique_ptr<Communicator> World;
  if (Distributed) {
    Expected<std::unique_ptr<Communicator>> W = Communicator::join(Prog);
    if (!W) {
      std::fprintf(stderr, "%s: error: %s\n", Prog.c_str(),
                   W.takeError().message().c_str());
      return 1;
    }
    World = std::move(*W);
    O.World = World.get();
  }
  Status S;
  try {
    S = P.Command(*Model, O);
  } catch (const std::bad_alloc &) {
    // The loaders check the sizes they read before allocating; this is the
    // net under everything else (a data set larger than memory, a model
    // whose slots do not fit), so that it ends in a message, not an abort.
    S = Status::error("out of memory");
  }
  if (!S)
    return 0;
  // A job's errors are every rank's (DataParallel.h, Team::agree).
  if (!World || World->rank() == 0) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: error: %s\n", Prog.c_str(), S.message().c_str());
  }
  return 1;
}

} // namespace
} // namespace nnc::rt

extern "C" int nnc_main(const nnc_model *Model, int Argc, char **Argv) {
  return nnc::rt::runMain(Model, Argc, Argv);
}
