//===- ArgsFuzzer.cpp - libFuzzer target: the executable's command line ---===//
//
// A compiled executable's argv is outside bytes too: `parseCommandLine`
// (Runtime/CommandLine.h) must turn any of them into a command to run, a
// help text or a usage error. The first byte of the input chooses the model
// (with or without a train block, with or without inputs, which decides
// the default command); the rest, split at NUL bytes, is the arguments.
// The target checks that a usage error is one short line, that help is
// text, and that a command to run got every flag it requires.
//
//===----------------------------------------------------------------------===//
#include "FuzzHelpers.h"
#include "nnc/Runtime/CommandLine.h"

#include <cstring>

using namespace nnc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  if (Size < 1)
    return 0;
  int64_t Dims[2] = {4, 2};
  nnc_slot Input{};
  Input.name = "x";
  Input.role = NNC_SLOT_INPUT;
  Input.rank = 2;
  Input.dims = Dims;
  nnc_model M{};
  M.name = "fuzz";
  M.train.present = Data[0] & 1;
  M.num_slots = Data[0] & 2 ? 1 : 0;
  M.slots = &Input;

  std::vector<std::string> Args;
  std::string_view Rest(reinterpret_cast<const char *>(Data + 1), Size - 1);
  while (!Rest.empty()) {
    size_t Nul = Rest.find('\0');
    Args.emplace_back(Rest.substr(0, Nul));
    Rest.remove_prefix(Nul == std::string_view::npos ? Rest.size() : Nul + 1);
  }
  rt::ParsedCommandLine P = rt::parseCommandLine(M, "exe", Args);
  switch (P.K) {
  case rt::ParsedCommandLine::UsageError:
    fuzz::check(!P.Text.empty() && P.Text.size() < 512 &&
                    P.Text.find('\n') == std::string::npos,
                "a usage error is one short line", P.Text);
    return 0;
  case rt::ParsedCommandLine::Help:
    fuzz::check(P.Text.rfind("usage: exe ", 0) == 0, "help starts with usage");
    return 0;
  case rt::ParsedCommandLine::Run:
    break;
  }
  fuzz::check(P.Command && P.CommandName, "a command to run has a name");
  const rt::RunOptions &O = P.Options;
  std::string_view Name = P.CommandName;
  if (Name == "predict" || Name == "grad")
    fuzz::check(!O.Inputs.empty() && !O.Out.empty(),
                "predict and grad have --inputs and --out");
  if (Name == "init")
    fuzz::check(!O.Save.empty(), "init has --save");
  if (Name == "plot")
    fuzz::check(!O.Operand.empty() && !O.Out.empty(), "plot has FILE and -o");
  fuzz::check(O.Data.size() <= 2, "--data names at most two files");
  fuzz::check(!O.Epochs || *O.Epochs >= 0, "--epochs is not negative");
  fuzz::check(!O.Units || *O.Units >= 1, "--units is positive");
  return 0;
}
