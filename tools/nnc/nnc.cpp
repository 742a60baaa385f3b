//===- nnc.cpp - The nnc compiler driver ----------------------------------===//
//
// A thin driver: parse the command line, read the file, run the stages in
// order and stop at the one `--emit` asks for. Every stage lives in a
// library; this file only wires them together and turns failures into exit
// status 1.
//
//===----------------------------------------------------------------------===//
#include "CodeGenDriver.h"
#include "ExportDriver.h"
#include "GradCheckDriver.h"
#include "ImportDriver.h"
#include "LibraryDriver.h"
#include "ModelChoice.h"
#include "TimeReport.h"
#include "ValuesDriver.h"
#include "nnc/Autodiff/Optimizer.h"
#include "nnc/CodeGen/Target.h"
#include "nnc/Graph/Printer.h"
#include "nnc/Parse/Parser.h"
#include "nnc/Sema/Sema.h"
#include "nnc/Support/Diagnostics.h"
#include "nnc/Transforms/PassManager.h"

#include <boost/program_options.hpp>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/FileUtilities.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace po = boost::program_options;
using namespace nnc;

namespace {

constexpr const char *Version = "0.1.0";

/// Everything the command line says.
struct Options {
  std::string Input;
  std::string Emit; ///< Empty: compile to an executable.
  std::string Format = "text";
  std::string Output;
  unsigned OptLevel = 2;
  std::string Passes;
  std::string LLVMPasses;
  std::string TargetCpu;
  bool SplitInputFile = false;
  bool CheckGrad = false; ///< --check-grad: compare with finite differences.
  bool CheckNumerics = false; ///< --check-numerics: NaN/Inf check per op.
  bool TimeReport = false;    ///< --time-report: time per stage.
  /// --seed, --load, --inputs, --out of --check-grad.
  GradCheckRequest GradCheck;
  bool Values = false; ///< --values: annotate --emit=grad with values.
  /// --load, --inputs, --seed, --model of --values.
  ValuesRequest ValuesAt;
  /// -o, --load, --seed, --model, -O, --target-cpu of --emit=lib.
  LibraryRequest Library;
  /// --load, --seed, --model of --emit=onnx.
  OnnxRequest Onnx;
  bool Run = false;
  std::string Model;                ///< --model: which model to compile.
  const char *Argv0 = "nnc";        ///< Locates the runtime library.
  std::vector<std::string> RunArgs; ///< After `--` in `nnc run`.
  /// -O, --passes, --print-after-all, --verify-each, --stats, -Rpass.
  PassOptions Optimizer;
  /// Reads the tensors of `load(FILE)` initializers.
  TensorReader Read;
};

const char *Usage = "usage: nnc FILE.nn|FILE.onnx [options]\n"
                    "       nnc run FILE.nn|FILE.onnx [-- ARGS]\n";

/// Stages `--emit` accepts, in pipeline order.
const std::vector<std::string> EmitStages = {"nn",   "tokens", "ast",  "graph",
                                             "grad", "opt",    "llvm", "asm",
                                             "obj",  "lib",    "onnx"};

bool isGraphStage(llvm::StringRef S) {
  return S == "graph" || S == "grad" || S == "opt";
}

/// Parses argv. Returns nullopt after printing help/version (exit 0) or an
/// error (exit 1); `ExitCode` says which.
std::optional<Options> parseCommandLine(int Argc, char **Argv, int &ExitCode) {
  Options Opts;
  std::vector<std::string> Args(Argv + 1, Argv + Argc);
  if (!Args.empty() && Args[0] == "run") {
    Opts.Run = true;
    Args.erase(Args.begin());
  }
  // Everything after `--` belongs to the program `nnc run` starts.
  if (auto It = std::find(Args.begin(), Args.end(), "--"); It != Args.end()) {
    Opts.RunArgs.assign(It + 1, Args.end());
    Args.erase(It, Args.end());
  }

  po::options_description Visible("options");
  // clang-format off
  Visible.add_options()
    ("help,h", "print this help and exit")
    ("version", "print the version and exit")
    ("emit", po::value(&Opts.Emit)->value_name("STAGE"),
     "print one stage: tokens, ast, graph, grad, opt, llvm, asm, obj; "
     "or lib: a C inference library NAME.o and its header NAME.h (-o NAME.o); "
     "or onnx: the model's inference graph (eval mode) as an ONNX model, "
     "opset 17, with the weights of --load as initializers (-o M.onnx); "
     "or nn: an ONNX model as .nn source (-o M.nn also writes its weights "
     "to M.safetensors)")
    ("format", po::value(&Opts.Format)->value_name("text|dot"),
     "graph dumps as text (default) or Graphviz DOT")
    ("output,o", po::value(&Opts.Output)->value_name("OUT"),
     "write the result to OUT (an executable unless --emit is given)")
    ("opt-level,O", po::value(&Opts.OptLevel)->value_name("N"),
     "optimization level 0-3 (default 2); -O0 runs no graph pass")
    ("passes", po::value(&Opts.Passes)->value_name("a,b,c"),
     "run exactly these graph passes, in order")
    ("llvm-passes", po::value(&Opts.LLVMPasses)->value_name("PIPELINE"),
     "LLVM's module pass pipeline in opt's -passes syntax, instead of the "
     "-O level's ('default<O2>' for LLVM's own -O2)")
    ("print-after-all",
     "print the graph to stderr after every graph pass")
    ("verify-each", "verify the graph after every graph pass")
    ("stats", "print to stderr what each graph pass changed")
    ("time-report", "print to stderr the wall and CPU time of each stage")
    ("Rpass", po::value(&Opts.Optimizer.RemarkFilters)->composing()
                  ->value_name("REGEX"),
     "remarks from the graph passes whose name matches REGEX "
     "(-Rpass=constfold, -Rpass=.*)")
    ("target-cpu", po::value(&Opts.TargetCpu)->value_name("NAME"),
     "CPU to generate code for (default: the host)")
    ("model", po::value(&Opts.Model)->value_name("NAME"),
     "the model to compile when the file defines several (graph dumps: "
     "print only this one)")
    ("split-input-file",
     "treat '# -----' lines as separators between independent inputs")
    ("check-grad",
     "compare every param's gradient with finite differences, print a "
     "table, and fail if any differs")
    ("check-numerics",
     "the program checks every op's output and stops at the first NaN or "
     "Inf, naming the op and its line (slower; for debugging)")
    ("values",
     "with --emit=grad: every node annotated with its value (train mode) "
     "at the params of --load (default: the initializers) and the inputs "
     "and targets of --inputs")
    ("seed", po::value(&Opts.GradCheck.Options.Seed)->value_name("S"),
     "seed of --check-grad's random params and data (default 0); of "
     "--values', --emit=lib's and --emit=onnx's initializers (default: the "
     "train block's, as EXE init)")
    ("load", po::value(&Opts.GradCheck.Load)->value_name("W.safetensors"),
     "--check-grad or --values at these params; the weights --emit=lib "
     "compiles in and --emit=onnx writes (default: the initializers)")
    ("inputs", po::value(&Opts.GradCheck.Inputs)->value_name("X.safetensors"),
     "--check-grad or --values on these inputs and targets")
    ("out", po::value(&Opts.GradCheck.Out)->value_name("G.safetensors"),
     "--check-grad also writes the reference loss and grad.NAME here, as "
     "the executable's grad command does");
  // clang-format on
  po::options_description Hidden;
  Hidden.add_options()("input", po::value(&Opts.Input));
  po::options_description All;
  All.add(Visible).add(Hidden);
  po::positional_options_description Positional;
  Positional.add("input", 1);

  po::variables_map VM;
  try {
    po::store(po::command_line_parser(Args)
                  .options(All)
                  .positional(Positional)
                  // No guessing: `-o` must not be read as a prefix of
                  // `--opt-level` (long disguise makes `-o` a long name).
                  .style((po::command_line_style::default_style |
                          po::command_line_style::allow_long_disguise) &
                         ~po::command_line_style::allow_guessing)
                  .run(),
              VM);
    po::notify(VM);
  } catch (const po::error &E) {
    llvm::errs() << "nnc: error: " << E.what() << "\n" << Usage;
    ExitCode = 1;
    return std::nullopt;
  }
  if (VM.count("help")) {
    std::cout << "nnc - a neural-network compiler\n\n"
              << Usage << "\n"
              << Visible << "\n";
    ExitCode = 0;
    return std::nullopt;
  }
  if (VM.count("version")) {
    std::cout << "nnc version " << Version << " (LLVM 19)\n";
    ExitCode = 0;
    return std::nullopt;
  }
  Opts.SplitInputFile = VM.count("split-input-file");
  Opts.Argv0 = Argv[0];
  Opts.CheckGrad = VM.count("check-grad");
  Opts.CheckNumerics = VM.count("check-numerics");
  auto Fail = [&](const std::string &Msg) -> std::optional<Options> {
    llvm::errs() << "nnc: error: " << Msg << "\n";
    ExitCode = 1;
    return std::nullopt;
  };
  if (Opts.Input.empty())
    return Fail(std::string("no input file\n") + Usage);
  if (!Opts.Emit.empty() && std::find(EmitStages.begin(), EmitStages.end(),
                                      Opts.Emit) == EmitStages.end())
    return Fail("unknown stage '" + Opts.Emit +
                "' for --emit (expected nn, tokens, ast, graph, grad, opt, "
                "llvm, asm, obj, lib or onnx)");
  if (Opts.Emit == "nn" && !isOnnxPath(Opts.Input))
    return Fail("--emit=nn applies to ONNX models (FILE.onnx)");
  if (Opts.Format != "text" && Opts.Format != "dot")
    return Fail("unknown format '" + Opts.Format + "' (expected text or dot)");
  if (Opts.Format == "dot" && !isGraphStage(Opts.Emit))
    return Fail("--format=dot applies to --emit=graph, grad or opt");
  if (Opts.CheckGrad && !Opts.Emit.empty())
    return Fail("--check-grad cannot be combined with --emit");
  if (Opts.CheckNumerics &&
      (Opts.CheckGrad || (!Opts.Emit.empty() && !isCodeStage(Opts.Emit))))
    return Fail("--check-numerics applies to code: an executable, nnc run, "
                "or --emit=llvm, asm or obj");
  Opts.Values = VM.count("values");
  if (Opts.Values && Opts.Emit != "grad")
    return Fail("--values applies to --emit=grad (the graph whose nodes it "
                "annotates)");
  bool Library = Opts.Emit == "lib" || Opts.Emit == "onnx";
  if (VM.count("load") && !Opts.CheckGrad && !Opts.Values && !Library)
    return Fail("--load applies to --check-grad, --emit=grad --values, "
                "--emit=lib and --emit=onnx");
  // A binary file on a terminal helps no one (llc and opt refuse too).
  if (Opts.Emit == "onnx" && (Opts.Output.empty() || Opts.Output == "-") &&
      llvm::outs().is_displayed())
    return Fail("--emit=onnx writes a binary file: give -o M.onnx, or "
                "redirect standard output");
  if (VM.count("inputs") && !Opts.CheckGrad && !Opts.Values)
    return Fail("--inputs applies to --check-grad and --emit=grad --values");
  if (VM.count("out") && !Opts.CheckGrad)
    return Fail("--out applies to --check-grad");
  Opts.ValuesAt.Input = Opts.Input;
  Opts.ValuesAt.Model = Opts.Model;
  Opts.ValuesAt.Load = Opts.GradCheck.Load;
  Opts.ValuesAt.Inputs = Opts.GradCheck.Inputs;
  if (VM.count("seed")) // else the train block's, as `EXE init`
    Opts.ValuesAt.Seed = Opts.GradCheck.Options.Seed;
  Opts.ValuesAt.Dot = Opts.Format == "dot";
  Opts.Library.Input = Opts.Input;
  Opts.Library.Output = Opts.Output;
  Opts.Library.Model = Opts.Model;
  Opts.Library.Load = Opts.GradCheck.Load;
  Opts.Library.Seed = Opts.ValuesAt.Seed;
  Opts.Library.TargetCpu = Opts.TargetCpu;
  Opts.Onnx.Input = Opts.Input;
  Opts.Onnx.Model = Opts.Model;
  Opts.Onnx.Load = Opts.GradCheck.Load;
  Opts.Onnx.Seed = Opts.ValuesAt.Seed;
  Opts.Onnx.Version = Version;
  if (Opts.OptLevel > 3)
    return Fail("optimization level must be 0, 1, 2 or 3");
  Opts.Optimizer.OptLevel = Opts.OptLevel;
  Opts.Library.OptLevel = Opts.OptLevel;
  if (llvm::Error E = checkLLVMPasses(Opts.LLVMPasses))
    return Fail(llvm::toString(std::move(E)));
  Opts.Library.LLVMPasses = Opts.LLVMPasses;
  if (VM.count("passes"))
    Opts.Optimizer.PassList = Opts.Passes;
  Opts.Optimizer.PrintAfterAll = VM.count("print-after-all");
  Opts.Optimizer.VerifyEach = VM.count("verify-each");
  Opts.Optimizer.Stats = VM.count("stats");
  Opts.TimeReport = VM.count("time-report");
  if (std::string Why = checkPassOptions(Opts.Optimizer); !Why.empty())
    return Fail(Why);
  Opts.Library.Optimizer = Opts.Optimizer;
  return Opts;
}

/// Splits `Text` at lines that are exactly "# -----" (MLIR's
/// --split-input-file). Each chunk is padded with the newlines before it so
/// that diagnostics keep the line numbers of the original file.
std::vector<std::string> splitInput(llvm::StringRef Text) {
  std::vector<std::string> Chunks;
  std::string Current;
  unsigned LinesBefore = 0, Line = 0;
  while (!Text.empty()) {
    auto [L, Rest] = Text.split('\n');
    bool HasNewline = Text.size() > L.size();
    Text = Rest;
    ++Line;
    if (L.rtrim() == "# -----") {
      Chunks.push_back(std::string(LinesBefore, '\n') + Current);
      Current.clear();
      LinesBefore = Line;
      continue;
    }
    Current += L;
    if (HasNewline)
      Current += '\n';
  }
  Chunks.push_back(std::string(LinesBefore, '\n') + Current);
  return Chunks;
}

/// Runs the pipeline on one buffer up to the requested stage. Returns
/// false if any error was reported.
bool compileBuffer(const Options &Opts, DiagEngine &Diags, unsigned BufferId,
                   llvm::raw_ostream &OS, TimeReport *Times) {
  std::optional<TimeReport::Stage> Timed;
  if (Times)
    Timed.emplace(Times, "parse");
  if (Opts.Emit == "tokens") {
    printTokens(Diags, BufferId, OS);
    return !Diags.hadErrors();
  }
  std::unique_ptr<ast::File> File = parseFile(Diags, BufferId);
  if (Diags.hadErrors())
    return false;
  if (Opts.Emit == "ast") {
    printAST(*File, OS);
    return true;
  }
  Timed.reset();
  if (Times)
    Timed.emplace(Times, "check (types, shapes, forward graph)");
  std::string BaseDir = llvm::sys::path::parent_path(Opts.Input).str();
  std::unique_ptr<Module> M = analyze(*File, Diags, BaseDir, Opts.Read);
  Timed.reset();
  if (!M || Diags.hadErrors())
    return false;
  if (Opts.CheckGrad) {
    return runGradCheck(*M, Diags, Opts.GradCheck, OS);
  }
  if (Opts.Emit == "lib") // writes NAME.o and NAME.h itself
    return emitLibrary(Opts.Library, *M, Diags);
  // The forward graph as Sema built it, before any training step.
  if (Opts.Emit == "onnx")
    return emitOnnx(Opts.Onnx, *M, Diags, OS);
  // --emit=grad: forward + backward + update of every model with a loss;
  // --emit=opt: the same, then the graph passes on each model.
  bool Optimize = Opts.Emit == "opt";
  if ((Opts.Emit == "grad" || Optimize) && !buildTrainingSteps(*M, Diags))
    return false;
  // One model's train-mode step with its numbers; its eval-mode graph is
  // left out, since the values are train mode's.
  if (Opts.Values)
    return printGraphValues(*M, Diags, Opts.ValuesAt, OS);
  // Every model of the file (none for a file of fns: an empty dump, as of
  // an empty LLVM module), or only the one `--model` names. A model with
  // batchnorm or dropout is then two graphs, train mode and eval mode
  // (Autodiff/Modes.h); both are optimized and printed.
  std::vector<Graph *> Graphs;
  for (const auto &G : M->Models) {
    if (!Opts.Model.empty() && G->name() != Opts.Model)
      continue;
    Graphs.push_back(G.get());
    if (Graph *Eval = M->findEvalModel(G->name()))
      Graphs.push_back(Eval);
  }
  if (Graphs.empty() && !Opts.Model.empty() && isGraphStage(Opts.Emit))
    return chooseModel(*M, Opts.Model, Opts.Input, Diags) != nullptr;
  for (Graph *G : Graphs)
    if (Optimize && !optimizeGraph(*G, Opts.Optimizer, Diags))
      return false;
  if (isGraphStage(Opts.Emit)) {
    for (Graph *G : Graphs) {
      if (Opts.Format == "dot")
        printGraphDot(*G, OS);
      else
        printGraph(*G, OS);
    }
    return true;
  }
  // llvm, asm, obj, an executable (no --emit), or `nnc run`.
  if (isCodeStage(Opts.Emit) || Opts.Emit.empty()) {
    CodeGenRequest Req{Opts.Emit,      Opts.Output,    Opts.Input,
                       Opts.OptLevel,  Opts.TargetCpu, Opts.Model,
                       Opts.Run,       Opts.RunArgs,   Opts.Argv0,
                       Opts.Optimizer, Opts.LLVMPasses};
    Req.CheckNumerics = Opts.CheckNumerics;
    Req.Times = Times;
    return generateCode(Req, *M, Diags, OS) == 0;
  }
  Diags.error("--emit=" + Opts.Emit + " is not implemented yet");
  return false;
}

} // namespace

int main(int Argc, char **Argv) {
  int ExitCode = 0;
  std::optional<Options> Opts = parseCommandLine(Argc, Argv, ExitCode);
  if (!Opts)
    return ExitCode;

  DiagEngine Diags;
  std::optional<TimeReport> Report;
  if (Opts->TimeReport)
    Report.emplace();
  TimeReport *Times = Report ? &*Report : nullptr;
  auto BufferOrErr = llvm::MemoryBuffer::getFileOrSTDIN(
      Opts->Input, /*IsText=*/false, /*RequiresNullTerminator=*/true);
  if (std::error_code EC = BufferOrErr.getError()) {
    llvm::errs() << "nnc: error: cannot read '" << Opts->Input
                 << "': " << EC.message() << "\n";
    return 1;
  }

  // An executable (no --emit), `nnc run` and a library write no dump; -o
  // names the executable, which the linker creates, or the library's
  // object, which emitLibrary writes with its header.
  bool MakesProgram = Opts->Run || (Opts->Emit.empty() && !Opts->CheckGrad) ||
                      Opts->Emit == "lib";
  std::string OutPath =
      Opts->Output.empty() || MakesProgram ? "-" : Opts->Output;
  // A dump to a file is built in memory and written atomically (temporary
  // file + rename) only when every stage succeeded, so a failed run never
  // leaves a partial file behind nor deletes an existing one.
  std::string Buffer;
  llvm::raw_string_ostream BufferOS(Buffer);
  llvm::raw_ostream &OS = OutPath == "-"
                              ? static_cast<llvm::raw_ostream &>(llvm::outs())
                              : BufferOS;

  bool Ok = true;
  // An ONNX model becomes .nn source, compiled like any other (or, with
  // --emit=nn, written out with its weights).
  Opts->Read = makeTensorReader(nullptr, "");
  if (isOnnxPath(Opts->Input)) {
    std::string Weights =
        weightsPathFor(Opts->Emit == "nn" ? OutPath : "", Opts->Input);
    std::string WeightsFile = llvm::sys::path::filename(Weights).str();
    std::optional<TimeReport::Stage> Timed;
    if (Times)
      Timed.emplace(Times, "import (ONNX to .nn)");
    std::optional<ImportedModel> Imported =
        importModel(Opts->Input, (*BufferOrErr)->getBuffer(), WeightsFile);
    Timed.reset();
    if (!Imported)
      return 1;
    if (Opts->Emit == "nn") {
      if (!writeWeights(*Imported, Weights))
        return 1;
      OS << Imported->Source;
    } else {
      auto Shared = std::make_shared<ImportedModel>(std::move(*Imported));
      Opts->Read = makeTensorReader(Shared, WeightsFile);
      unsigned Id = Diags.addBuffer(llvm::MemoryBuffer::getMemBufferCopy(
          Shared->Source, Opts->Input + ".nn"));
      Ok = compileBuffer(*Opts, Diags, Id, OS, Times);
    }
    if (Times)
      Times->print(llvm::errs());
  } else if (Opts->SplitInputFile) {
    for (const std::string &Chunk : splitInput((*BufferOrErr)->getBuffer())) {
      DiagEngine ChunkDiags;
      unsigned Id = ChunkDiags.addBuffer(
          llvm::MemoryBuffer::getMemBufferCopy(Chunk, Opts->Input));
      Ok &= compileBuffer(*Opts, ChunkDiags, Id, OS, Times);
      OS << "// -----\n";
    }
  } else {
    unsigned Id = Diags.addBuffer(std::move(*BufferOrErr));
    Ok = compileBuffer(*Opts, Diags, Id, OS, Times);
    if (Times)
      Times->print(llvm::errs());
  }
  if (!Ok)
    return 1;
  if (OutPath == "-")
    return 0;
  if (llvm::Error E = llvm::writeToOutput(OutPath, [&](llvm::raw_ostream &F) {
        F << Buffer;
        return llvm::Error::success();
      })) {
    llvm::errs() << "nnc: error: cannot write '" << OutPath
                 << "': " << llvm::toString(std::move(E)) << "\n";
    return 1;
  }
  return 0;
}
