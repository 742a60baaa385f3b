//===- CommandLine.cpp - The executable's command line, parsed ------------===//
//
// The table of commands (name, synopsis, help, flags, the required ones and
// the function that runs it) and one pass over the arguments. Flags take a
// value (`--flag V` or `--flag=V`), checked here as far as it can be
// without touching a file: numbers are numbers, names are not empty.
// Repeating a flag replaces its value, `--data` included.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/CommandLine.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace nnc::rt {
namespace {

/// One command: its name, flags, and help.
struct CommandInfo {
  const char *Name;
  const char *Synopsis;
  const char *Help;
  std::vector<std::string_view> Flags;
  /// Flags that must be given.
  std::vector<std::string_view> Required;
  Status (*Run)(const nnc_model &, const RunOptions &);
  /// The name of the one positional argument the command takes (into
  /// RunOptions::Operand), or null for none.
  const char *Operand = nullptr;
};

const std::vector<CommandInfo> &commands() {
  static const std::vector<CommandInfo> Commands = {
      {"train",
       "train [--epochs N] [--lr X] [--seed S] [--load W] [--save W] "
       "[--log FILE.csv] [--data ...]",
       "Train with the model's train block; every flag overrides it.\n"
       "  --epochs N       total number of epochs (a resumed run continues\n"
       "                   up to it)\n"
       "  --lr X           learning rate\n"
       "  --seed S         seed of initialization and shuffling\n"
       "  --load W         start from these weights; a checkpoint resumes\n"
       "                   exactly where its run stopped\n"
       "  --save W         save a checkpoint (weights, optimizer state,\n"
       "                   progress) after each epoch, atomically\n"
       "  --log FILE.csv   one row per epoch: lr, loss, metrics, validation\n"
       "                   and test loss and metrics, seconds\n"
       "  --data ...       training data: IMAGES LABELS (IDX) or FILE.csv\n",
       {"--epochs", "--lr", "--seed", "--load", "--save", "--log", "--data"},
       {},
       runTrain},
      {"eval",
       "eval --load W [--data ...]",
       "Loss and metrics over every example of a data set (default: the\n"
       "train block's test set, else its data).\n"
       "  --load W         weights to evaluate\n"
       "  --data ...       IMAGES LABELS (IDX) or FILE.csv\n",
       {"--load", "--data"},
       {"--load"},
       runEval},
      {"predict",
       "predict [--load W] [--seed S] --inputs X.safetensors "
       "--out Y.safetensors",
       "Run inference on every input tensor in X (any number of rows; an\n"
       "unbatched model takes each whole) and write every output to Y.\n"
       "  --load W         the weights (default: the params' initializers,\n"
       "                   drawn as init does: an imported ONNX model's\n"
       "                   own weights)\n"
       "  --seed S         seed of those initializers (default: the train\n"
       "                   block's)\n",
       {"--load", "--seed", "--inputs", "--out"},
       {"--inputs", "--out"},
       runPredict},
      {"grad",
       "grad --load W --inputs X.safetensors --out G.safetensors",
       "Compute the loss and the gradient of every parameter on exactly one\n"
       "batch of inputs and targets from X; write `loss` and `grad.NAME` to\n"
       "G. The optimizer is not applied.\n",
       {"--load", "--inputs", "--out"},
       {"--load", "--inputs", "--out"},
       runGrad},
      {"init",
       "init [--seed S] --save W",
       "Write freshly initialized parameters.\n"
       "  --seed S         seed (default: the train block's)\n",
       {"--seed", "--save"},
       {"--save"},
       runInit},
      {"show",
       "show [--seed S] [--load W] [--images NAME [--units N] -o OUT.png]",
       "Evaluate a model without inputs once and print every output, then\n"
       "the loss and every param's gradient (when it has a loss); for a\n"
       "model with inputs, print every param and buffer it holds. The\n"
       "default command of a model without a train block.\n"
       "  --seed S         seed of the params (default: the train block's)\n"
       "  --load W         evaluate at these weights instead\n"
       "With --images, draw the param NAME of W instead: the incoming\n"
       "weights of each unit it feeds (a column of x @ NAME, a filter of a\n"
       "conv kernel per input channel) as a PNG grid of greyscale tiles.\n"
       "  --images NAME    the param to draw\n"
       "  --units N        only the first N units (all when there are fewer)\n"
       "  -o OUT.png       the picture to write\n",
       {"--seed", "--load", "--images", "--units", "-o"},
       {},
       runShow},
      {"plot",
       "plot FILE.csv -o OUT.svg",
       "Draw the curves of a `train --log` file as an SVG picture: loss,\n"
       "each metric and the learning rate against the epoch, one panel\n"
       "each, with their validation and test curves.\n"
       "  -o OUT.svg       the picture to write\n",
       {"-o"},
       {"-o"},
       runPlot,
       "FILE.csv"},
  };
  return Commands;
}

/// Whether `S` can be a number at all: strto* skip leading white space,
/// and strtoull then negates " -5" into a huge seed.
bool startsLikeANumber(const std::string &S) {
  return !S.empty() && !std::isspace(static_cast<unsigned char>(S[0]));
}

bool parseInt(const std::string &S, int64_t &Out) {
  if (!startsLikeANumber(S))
    return false;
  char *End;
  errno = 0;
  long long V = std::strtoll(S.c_str(), &End, 10);
  Out = V;
  return *End == 0 && errno == 0;
}

bool parseSeed(const std::string &S, uint64_t &Out) {
  if (!startsLikeANumber(S) || S[0] == '-')
    return false;
  char *End;
  errno = 0;
  unsigned long long V = std::strtoull(S.c_str(), &End, 10);
  Out = V;
  return *End == 0 && errno == 0;
}

bool parseReal(const std::string &S, double &Out) {
  if (!startsLikeANumber(S))
    return false;
  char *End;
  errno = 0;
  Out = std::strtod(S.c_str(), &End);
  return *End == 0 && errno == 0 && std::isfinite(Out);
}

std::string usageText(const std::string &Prog) {
  std::string S = "usage: " + Prog + " COMMAND [flags]\n\ncommands:\n";
  for (const CommandInfo &C : commands())
    S += "  " + Prog + " " + C.Synopsis + "\n";
  return S + "\n'" + Prog + " COMMAND --help' describes one command.\n";
}

ParsedCommandLine usageError(std::string Msg, const char *Command) {
  ParsedCommandLine P;
  P.K = ParsedCommandLine::UsageError;
  P.Text = std::move(Msg);
  P.CommandName = Command;
  return P;
}

} // namespace

ParsedCommandLine parseCommandLine(const nnc_model &M, const std::string &Prog,
                                   std::vector<std::string> Args) {
  // No command: do what the model is for. A model with a train block
  // trains with its settings; one without a train block but also without
  // inputs (chain_rule.nn) is shown: its outputs, loss and gradients. Any
  // other model needs data the command line has to name.
  if (Args.empty()) {
    bool HasData =
        std::any_of(M.slots, M.slots + M.num_slots, [](const nnc_slot &S) {
          return S.role == NNC_SLOT_INPUT || S.role == NNC_SLOT_TARGET;
        });
    if (M.train.present)
      Args.push_back("train");
    else if (!HasData)
      Args.push_back("show");
    else
      return usageError("no command given (the model has no train block, so "
                        "there is no default)",
                        nullptr);
  }
  ParsedCommandLine P;
  if (Args[0] == "--help" || Args[0] == "-h" || Args[0] == "help") {
    P.K = ParsedCommandLine::Help;
    P.Text = usageText(Prog);
    return P;
  }
  const CommandInfo *Cmd = nullptr;
  for (const CommandInfo &C : commands())
    if (Args[0] == C.Name)
      Cmd = &C;
  if (!Cmd)
    return usageError("unknown command " + quoteForMessage(Args[0]), nullptr);
  P.CommandName = Cmd->Name;
  P.Command = Cmd->Run;

  RunOptions &O = P.Options;
  O.Program = Prog;
  std::vector<std::string_view> Seen;
  for (size_t K = 1; K < Args.size(); ++K) {
    std::string Flag = Args[K];
    if (Flag == "--help" || Flag == "-h") {
      P.K = ParsedCommandLine::Help;
      P.Text = "usage: " + Prog + " " + Cmd->Synopsis + "\n\n" + Cmd->Help;
      return P;
    }
    if (Cmd->Operand && O.Operand.empty() && !Flag.empty() && Flag[0] != '-') {
      O.Operand = Flag;
      continue;
    }
    // --flag=value is the same as --flag value.
    std::optional<std::string> Inline;
    if (size_t Eq = Flag.find('=');
        Flag.rfind("--", 0) == 0 && Eq != std::string::npos) {
      Inline = Flag.substr(Eq + 1);
      Flag.resize(Eq);
    }
    auto Known = std::find(Cmd->Flags.begin(), Cmd->Flags.end(), Flag);
    if (Known == Cmd->Flags.end())
      return usageError(
          (Flag.rfind("-", 0) == 0 ? "unknown flag " : "unexpected argument ") +
              quoteForMessage(Flag) + " for '" + Cmd->Name + "'",
          Cmd->Name);
    Seen.push_back(*Known);
    if (Flag == "--data") {
      // --data takes one value (FILE.csv) or two (IMAGES LABELS).
      O.Data.clear();
      if (Inline)
        O.Data.push_back(*Inline);
      while (K + 1 < Args.size() && Args[K + 1].rfind("--", 0) != 0)
        O.Data.push_back(Args[++K]);
      if (O.Data.empty() || O.Data.size() > 2)
        return usageError("--data takes IMAGES LABELS or FILE.csv", Cmd->Name);
      continue;
    }
    std::string Value;
    if (Inline)
      Value = *Inline;
    else if (K + 1 < Args.size())
      Value = Args[++K];
    else
      return usageError("missing value after '" + Flag + "'", Cmd->Name);
    auto Bad = [&](const char *What) {
      return usageError("invalid value " + quoteForMessage(Value) + " for " +
                            Flag + " (expected " + What + ")",
                        Cmd->Name);
    };
    if (Flag == "--epochs") {
      int64_t N;
      if (!parseInt(Value, N) || N < 0)
        return Bad("a non-negative integer");
      O.Epochs = N;
    } else if (Flag == "--lr") {
      double X;
      if (!parseReal(Value, X))
        return Bad("a number");
      O.Lr = X;
    } else if (Flag == "--seed") {
      uint64_t S;
      if (!parseSeed(Value, S))
        return Bad("a non-negative integer");
      O.Seed = S;
    } else if (Flag == "--images") {
      if (Value.empty())
        return Bad("a param name");
      O.Images = Value;
    } else if (Flag == "--units") {
      int64_t N;
      if (!parseInt(Value, N) || N < 1)
        return Bad("a positive integer");
      O.Units = N;
    } else if (Value.empty()) {
      return Bad("a file name");
    } else if (Flag == "--load") {
      O.Load = Value;
    } else if (Flag == "--save") {
      O.Save = Value;
    } else if (Flag == "--log") {
      O.Log = Value;
    } else if (Flag == "--inputs") {
      O.Inputs = Value;
    } else if (Flag == "--out" || Flag == "-o") {
      O.Out = Value;
    }
  }
  if (Cmd->Operand && O.Operand.empty())
    return usageError(std::string(Cmd->Name) + " needs " + Cmd->Operand,
                      Cmd->Name);
  for (std::string_view R : Cmd->Required)
    if (std::find(Seen.begin(), Seen.end(), R) == Seen.end())
      return usageError(std::string(Cmd->Name) + " needs " + std::string(R),
                        Cmd->Name);
  return P;
}

} // namespace nnc::rt
