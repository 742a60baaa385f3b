//===- LibraryDriver.cpp - `--emit=lib`: a C inference library
//-------------===//
//
// 1. `-o` names the object, NAME.o; the header is NAME.h beside it.
// 2. Choose the model (ModelChoice.h) and build its graphs exactly as for
//    an executable (training step, eval-mode graph, graph passes), so that
//    the library's `predict` is the executable's, kernel for kernel.
// 3. Check what inference needs: an output, and no output reading a
//    target (located at the `output` statement).
// 4. The weights: every param and buffer from `--load`, else drawn as
//    `EXE init` draws them with the train block's seed (LeafValues.h).
// 5. Lower (CodeGen/Library.h), write the header text, compile the module
//    whole into one object for the target CPU.
// 6. Write both files under temporary names next to NAME.o, then rename
//    them: a failure leaves neither new file behind.
//
//===----------------------------------------------------------------------===//
#include "LibraryDriver.h"
#include "LeafValues.h"
#include "ModelChoice.h"

#include "nnc/Autodiff/Optimizer.h"
#include "nnc/CodeGen/Library.h"
#include "nnc/CodeGen/Target.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/FileUtilities.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>

using namespace nnc;

namespace {

/// A file written under a temporary name next to `Path`, removed unless
/// renamed to `Path`.
struct PendingFile {
  std::string Final;
  llvm::SmallString<256> Temp;
  std::unique_ptr<llvm::FileRemover> Remover;
};

/// Writes `Contents` to a new temporary file next to `Path`.
bool writePending(const std::string &Path, llvm::StringRef Contents,
                  PendingFile &Out, DiagEngine &Diags) {
  Out.Final = Path;
  std::string Pattern = Path + ".tmp-%%%%%%";
  int FD;
  if (std::error_code EC =
          llvm::sys::fs::createUniqueFile(Pattern, FD, Out.Temp)) {
    Diags.error("cannot create '" + Pattern + "': " + EC.message());
    return false;
  }
  Out.Remover = std::make_unique<llvm::FileRemover>(Out.Temp);
  llvm::raw_fd_ostream OS(FD, /*shouldClose=*/true);
  OS << Contents;
  OS.close();
  if (OS.has_error()) {
    Diags.error("cannot write '" + Out.Temp + "': " + OS.error().message());
    OS.clear_error();
    return false;
  }
  return true;
}

/// Renames the pending files to their final names, in order. If one fails,
/// the files already renamed are removed: both or neither.
bool commit(llvm::MutableArrayRef<PendingFile> Files, DiagEngine &Diags) {
  for (size_t I = 0; I < Files.size(); ++I) {
    if (std::error_code EC =
            llvm::sys::fs::rename(Files[I].Temp, Files[I].Final)) {
      Diags.error("cannot write '" + Files[I].Final + "': " + EC.message());
      for (size_t J = 0; J < I; ++J)
        llvm::sys::fs::remove(Files[J].Final);
      return false;
    }
    Files[I].Remover->releaseFile();
  }
  return true;
}

/// Step 3.
bool checkInterface(const Graph &G, DiagEngine &Diags) {
  if (G.Outputs.empty()) {
    Diags.error("model '" + G.name() +
                "' has no outputs: an inference library (--emit=lib) "
                "computes the model's `output`s");
    return false;
  }
  if (std::optional<OutputTarget> T = outputNeedingTarget(G)) {
    Diags.error(T->Output->Loc, "output '" + T->Output->Name +
                                    "' needs target '" + T->Target->Name +
                                    "', but an inference library "
                                    "(--emit=lib) takes only the inputs");
    return false;
  }
  return true;
}

/// Step 4: the weights of every param and buffer of `G`, by name.
bool gatherWeights(const LibraryRequest &Req, const Graph &G,
                   const TrainConfig *Train, LibraryWeights &Weights,
                   DiagEngine &Diags) {
  LeafBits Bits;
  if (!modelWeights(G, Req.Load, Req.Seed, Train, Bits, Diags))
    return false;
  for (auto &[N, B] : Bits)
    Weights[N->Name] = std::move(B);
  return true;
}

} // namespace

bool nnc::emitLibrary(const LibraryRequest &Req, Module &M, DiagEngine &Diags) {
  // Step 1.
  llvm::StringRef Obj = Req.Output;
  if (Obj.empty()) {
    Diags.error("--emit=lib needs -o NAME.o (the object; its header NAME.h "
                "is written next to it)");
    return false;
  }
  if (!Obj.ends_with(".o") || llvm::sys::path::filename(Obj) == ".o") {
    Diags.error("--emit=lib writes an object file and its header: -o must "
                "name a file NAME.o, not '" +
                Obj + "'");
    return false;
  }
  std::string Header = Obj.drop_back(2).str() + ".h";

  // Step 2.
  Graph *G = chooseModel(M, Req.Model, Req.Input, Diags);
  if (!G || !buildTrainingSteps(M, Diags) ||
      !optimizeGraph(*G, Req.Optimizer, Diags))
    return false;
  Graph *EvalG = M.findEvalModel(G->name());
  if (EvalG && !optimizeGraph(*EvalG, Req.Optimizer, Diags))
    return false;
  const Graph &Eval = EvalG ? *EvalG : *G;

  // Steps 3-4.
  LibraryWeights Weights;
  if (!checkInterface(Eval, Diags) ||
      !gatherWeights(Req, *G, M.findTrain(G->name()), Weights, Diags))
    return false;

  // Step 5.
  nnc::TargetOptions TO;
  TO.Cpu = Req.TargetCpu;
  TO.OptLevel = Req.OptLevel;
  TO.LLVMPasses = Req.LLVMPasses;
  auto TM = createTargetMachine(TO);
  if (!TM) {
    Diags.error(llvm::toString(TM.takeError()));
    return false;
  }
  llvm::LLVMContext Ctx;
  LibraryOptions LO;
  LO.Vector = vectorUnitOf(**TM);
  auto Lib = lowerLibrary(G->name(), Eval, Weights, Ctx, LO);
  if (!Lib) {
    Diags.error(llvm::toString(Lib.takeError()));
    return false;
  }
  LibraryHeaderInfo Info;
  Info.Model = G->name();
  Info.ObjectName = llvm::sys::path::filename(Obj).str();
  Info.HeaderName = llvm::sys::path::filename(Header).str();
  Info.Source = Req.Input;
  Info.Cpu = (*TM)->getTargetCPU().str();
  Info.StaticBytes = Lib->StaticBytes;
  auto Text = libraryHeader(Eval, Info);
  if (!Text) {
    Diags.error(llvm::toString(Text.takeError()));
    return false;
  }
  llvm::Module &Mod = *Lib->M;
  configureModule(Mod, **TM);
  if (llvm::Error E = optimizeModule(Mod, **TM, TO)) {
    Diags.error(llvm::toString(std::move(E)));
    return false;
  }
  llvm::SmallString<0> Object;
  llvm::raw_svector_ostream OS(Object);
  if (llvm::Error E =
          emitMachineCode(Mod, **TM, OS, llvm::CodeGenFileType::ObjectFile)) {
    Diags.error(llvm::toString(std::move(E)));
    return false;
  }

  // Step 6: the object is renamed last, so that a build tool that checks
  // NAME.o's time sees the header already in place.
  PendingFile Files[2];
  return writePending(Header, *Text, Files[0], Diags) &&
         writePending(Obj.str(), Object, Files[1], Diags) &&
         commit(Files, Diags);
}
