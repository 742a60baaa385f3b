//===- ParallelCodeGen.cpp - Object code on several threads ---------------===//
#include "nnc/CodeGen/ParallelCodeGen.h"

#include "nnc/CodeGen/ModuleSplit.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/Support/SmallVectorMemoryBuffer.h>

#include <algorithm>
#include <thread>

using namespace llvm;
using namespace nnc;

namespace {

/// Below this many instructions, the threads and the bitcode round trip
/// cost more than they save (xor.nn has ~3k, lenet.nn ~30k).
constexpr size_t MinInstructionsToSplit = 8000;

size_t instructionCount(const Module &M) {
  size_t N = 0;
  for (const Function &F : M)
    N += F.getInstructionCount();
  return N;
}

/// The whole back end for one module: CPU tags, -O pipeline, object file.
Expected<std::unique_ptr<MemoryBuffer>>
compileOne(Module &M, const nnc::TargetOptions &Opts) {
  auto TM = createTargetMachine(Opts);
  if (!TM)
    return TM.takeError();
  configureModule(M, **TM);
  optimizeModule(M, **TM, Opts.OptLevel);
  SmallVector<char, 0> Object;
  raw_svector_ostream OS(Object);
  if (Error E = emitMachineCode(M, **TM, OS, CodeGenFileType::ObjectFile))
    return E;
  return std::make_unique<SmallVectorMemoryBuffer>(
      std::move(Object), M.getModuleIdentifier(),
      /*RequiresNullTerminator=*/false);
}

} // namespace

Expected<ObjectFiles> nnc::compileToObjects(Module &M,
                                            const nnc::TargetOptions &Opts) {
  unsigned Threads =
      Opts.Threads ? Opts.Threads
                   : std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  SplitPlan Plan;
  if (Threads > 1 && instructionCount(M) >= MinInstructionsToSplit)
    Plan = planModuleSplit(M, Threads);
  ObjectFiles Objects;
  if (Plan.NumParts <= 1) {
    auto Object = compileOne(M, Opts);
    if (!Object)
      return Object.takeError();
    Objects.push_back(std::move(*Object));
    return Objects;
  }

  // Each part crosses into its thread's own context as bitcode.
  std::vector<SmallVector<char, 0>> Bitcode;
  for (std::unique_ptr<Module> &Part : splitModule(M, Plan)) {
    raw_svector_ostream OS(Bitcode.emplace_back());
    WriteBitcodeToFile(*Part, OS);
  }
  initializeNativeTarget(); // once, before the threads race for it
  Objects.resize(Bitcode.size());
  std::vector<Error> Errors;
  for (size_t I = 0; I < Bitcode.size(); ++I)
    Errors.push_back(Error::success());
  std::vector<std::thread> Workers;
  for (size_t I = 0; I < Bitcode.size(); ++I)
    Workers.emplace_back([&, I] {
      LLVMContext Ctx;
      MemoryBufferRef Ref(StringRef(Bitcode[I].data(), Bitcode[I].size()),
                          M.getModuleIdentifier() + "." + std::to_string(I));
      auto Part = parseBitcodeFile(Ref, Ctx);
      if (!Part) {
        Errors[I] = Part.takeError();
        return;
      }
      auto Object = compileOne(**Part, Opts);
      if (!Object) {
        Errors[I] = Object.takeError();
        return;
      }
      Objects[I] = std::move(*Object);
    });
  for (std::thread &T : Workers)
    T.join();
  Error All = Error::success();
  for (Error &E : Errors)
    All = joinErrors(std::move(All), std::move(E));
  if (All)
    return All;
  return Objects;
}
