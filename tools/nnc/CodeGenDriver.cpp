//===- CodeGenDriver.cpp - The driver's code-generating stages ------------===//
//
// 1. Choose the model (ModelChoice.h): `--model=NAME`, else the one with a
//    `train` block, else the only one.
// 2. Differentiate every model with a loss and add its optimizer update
//    (so `grad`/`train` exist in the executable).
// 3. Lower the model to LLVM IR (CodeGen.h), tag it for the target CPU and
//    run the -O pipeline (Target.h).
// 4. Print it, write machine code, link it with the runtime, or JIT it.
//
//===----------------------------------------------------------------------===//
#include "CodeGenDriver.h"
#include "ModelChoice.h"

#include "nnc/Autodiff/Optimizer.h"
#include "nnc/CodeGen/CodeGen.h"
#include "nnc/CodeGen/Executable.h"
#include "nnc/CodeGen/ParallelCodeGen.h"
#include "nnc/CodeGen/Target.h"
#include "nnc/JIT/JIT.h"
#include "nnc/Runtime/Callbacks.h"

#include "TimeReport.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/FileUtilities.h>
#include <llvm/Support/Format.h>
#include <llvm/Support/FormatVariadic.h>
#include <llvm/Support/Path.h>

#include <optional>

using namespace nnc;

namespace {

/// Prints an llvm::Error as the driver's error line; returns exit status 1.
int fail(llvm::Error E) {
  llvm::errs() << "nnc: error: " << llvm::toString(std::move(E)) << "\n";
  return 1;
}

int linkExecutableFor(const CodeGenRequest &Req, llvm::Module &Mod,
                      const nnc::TargetOptions &TO, const Graph &G) {
  auto Runtime = findRuntimeLibrary(Req.Argv0);
  if (!Runtime)
    return fail(Runtime.takeError());
  std::string Exe = Req.Output;
  if (Exe.empty())
    Exe = llvm::sys::path::stem(Req.Input).str();

  std::optional<TimeReport::Stage> Timed;
  if (Req.Times)
    Timed.emplace(Req.Times, "LLVM: -O pipeline and machine code");
  PartTimes Parts;
  auto Objects = compileToObjects(Mod, TO, &Parts);
  if (!Objects)
    return fail(Objects.takeError());
  if (Timed) {
    // The other threads' CPU time (this one's the stage counts itself).
    Timed->ExtraCpu = Parts.WorkerCpu;
    for (size_t I = 0; I < Parts.PartCpu.size(); ++I)
      Timed->Details.push_back(llvm::formatv("{0,9:f3}  part {1} of {2}",
                                             Parts.PartCpu[I], I,
                                             Parts.PartCpu.size()));
    Timed.reset();
  }
  std::vector<std::string> ObjPaths;
  std::vector<std::unique_ptr<llvm::FileRemover>> RemoveObjs;
  for (const auto &Object : *Objects) {
    llvm::SmallString<128> ObjPath;
    int FD;
    if (std::error_code EC = llvm::sys::fs::createTemporaryFile(
            "nnc-" + G.name(), "o", FD, ObjPath))
      return fail(llvm::createStringError("cannot create a temporary file: %s",
                                          EC.message().c_str()));
    RemoveObjs.push_back(std::make_unique<llvm::FileRemover>(ObjPath));
    llvm::raw_fd_ostream OS(FD, /*shouldClose=*/true);
    OS << Object->getBuffer();
    OS.close();
    if (OS.has_error())
      return fail(llvm::createStringError("cannot write '%s': %s",
                                          ObjPath.c_str(),
                                          OS.error().message().c_str()));
    ObjPaths.push_back(ObjPath.str().str());
  }
  std::optional<TimeReport::Stage> Link;
  double ChildCpu0 = childrenCpuSeconds();
  if (Req.Times)
    Link.emplace(Req.Times, "link (cc, a child process)");
  if (llvm::Error E = linkExecutable(ObjPaths, *Runtime, Exe))
    return fail(std::move(E));
  if (Link)
    Link->ExtraCpu = childrenCpuSeconds() - ChildCpu0;
  return 0;
}

int runInJIT(const CodeGenRequest &Req, std::unique_ptr<llvm::Module> Mod,
             std::unique_ptr<llvm::LLVMContext> Ctx, const Graph &G) {
  nnc::TargetOptions TO;
  TO.OptLevel = Req.OptLevel;
  TO.LLVMPasses = Req.LLVMPasses;
  // The runtime is linked into nnc statically; hand its callbacks to the
  // JIT.
  auto J = ModelJIT::create(std::move(Mod), std::move(Ctx), TO,
                            rt::callbackSymbols());
  if (!J)
    return fail(J.takeError());
  std::vector<std::string> Args{G.name()};
  Args.insert(Args.end(), Req.RunArgs.begin(), Req.RunArgs.end());
  std::vector<char *> Argv;
  for (std::string &A : Args)
    Argv.push_back(A.data());
  Argv.push_back(nullptr);
  llvm::outs().flush();
  return nnc_main((*J)->model(), int(Args.size()), Argv.data());
}

/// `--stats` for the memory plan, in the format of the pass counters.
void printArenaStats(const Graph &G, const ArenaStats &S,
                     llvm::raw_ostream &OS) {
  OS << "# -- memory plan for graph " << G.name() << " --\n";
  auto Line = [&](int64_t V, const char *What) {
    OS << llvm::format("%7lld", (long long)V) << " memplan - " << What << "\n";
  };
  Line(S.BytesBefore, "arena bytes before (one buffer per value)");
  Line(S.BytesAfter, "arena bytes after (shared by liveness, in place)");
  Line(S.InPlace, "values computed in place over a dying operand");
  Line(S.UpdatesInPlace, "param/state updates written in place");
}

} // namespace

int nnc::generateCode(const CodeGenRequest &Req, Module &M, DiagEngine &Diags,
                      llvm::raw_ostream &OS) {
  Graph *G = chooseModel(M, Req.Model, Req.Input, Diags); // step 1
  if (!G)
    return 1;
  // Step 2: the training step of every model with a loss.
  std::optional<TimeReport::Stage> Timed;
  auto Time = [&](const char *Stage) {
    Timed.reset();
    if (Req.Times)
      Timed.emplace(Req.Times, Stage);
  };
  Time("differentiate, optimizer update");
  if (!buildTrainingSteps(M, Diags))
    return 1;
  Time("graph passes");
  if (!optimizeGraph(*G, Req.Optimizer, Diags)) // the -O graph passes
    return 1;
  // A model with batchnorm or dropout has an eval-mode graph of its own,
  // optimized on its own (eval-mode batchnorm folds into a conv, say).
  Graph *EvalG = M.findEvalModel(G->name());
  if (EvalG && !optimizeGraph(*EvalG, Req.Optimizer, Diags))
    return 1;
  Time("lower to LLVM IR");

  // Step 3.
  nnc::TargetOptions TO;
  TO.Cpu = Req.Run ? "" : Req.TargetCpu;
  TO.OptLevel = Req.OptLevel;
  TO.LLVMPasses = Req.LLVMPasses;
  auto TM = createTargetMachine(TO);
  if (!TM)
    return fail(TM.takeError());
  auto Ctx = std::make_unique<llvm::LLVMContext>();
  LoweringOptions LO;
  LO.EmitMain = !Req.Run;
  LO.CheckNumerics = Req.CheckNumerics;
  LO.SourceName = Req.Input;
  LO.Vector = vectorUnitOf(**TM);
  ArenaStats Arena;
  LO.Stats = &Arena;
  LO.EvalGraph = EvalG;
  auto Mod = lowerGraph(*G, M.findTrain(G->name()), *Ctx, LO);
  if (!Mod)
    return fail(Mod.takeError());
  Timed.reset();
  if (Req.Optimizer.Stats) // after the graph passes' own --stats lines
    printArenaStats(*G, Arena, llvm::errs());
  if (Req.Run) // the JIT optimizes for the host itself
    return runInJIT(Req, std::move(*Mod), std::move(Ctx), *G);
  if (Req.Emit.empty()) // step 4: compiled in parts, linked
    return linkExecutableFor(Req, **Mod, TO, *G);

  // Step 4 for the dumps: the module whole.
  Time("LLVM: -O pipeline");
  configureModule(**Mod, **TM);
  if (llvm::Error E = optimizeModule(**Mod, **TM, TO))
    return fail(std::move(E));
  Time("print or machine code");
  if (Req.Emit == "llvm") {
    (*Mod)->print(OS, nullptr);
    return 0;
  }
  if (Req.Emit == "asm" || Req.Emit == "obj") {
    llvm::SmallString<0> Buffer;
    llvm::raw_svector_ostream BOS(Buffer);
    if (llvm::Error E = emitMachineCode(
            **Mod, **TM, BOS,
            Req.Emit == "asm" ? llvm::CodeGenFileType::AssemblyFile
                              : llvm::CodeGenFileType::ObjectFile))
      return fail(std::move(E));
    OS << Buffer;
    return 0;
  }
  llvm_unreachable("a code stage that generateCode does not know");
}
