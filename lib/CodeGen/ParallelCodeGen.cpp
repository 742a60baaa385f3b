//===- ParallelCodeGen.cpp - Object code on several threads ---------------===//
#include "nnc/CodeGen/ParallelCodeGen.h"

#include "nnc/CodeGen/ModuleSplit.h"

#include <llvm/ADT/ScopeExit.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/Support/SmallVectorMemoryBuffer.h>

#include <algorithm>
#include <thread>
#include <time.h>

using namespace llvm;
using namespace nnc;

namespace {

/// Below this many instructions (before optimization), the threads and
/// the bitcode round trip cost more than they save: xor.nn compiles whole
/// in 0.06 s of CPU; mlp.nn (0.43 s whole) is cut, as is lenet.nn
/// (~12,000 instructions).
constexpr size_t MinInstructionsToSplit = 2000;

size_t instructionCount(const Module &M) {
  size_t N = 0;
  for (const Function &F : M)
    N += F.getInstructionCount();
  return N;
}

double threadCpuSeconds() {
  timespec T;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &T);
  return double(T.tv_sec) + 1e-9 * double(T.tv_nsec);
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

Expected<ObjectFiles>
nnc::compileToObjects(Module &M, const nnc::TargetOptions &Opts,
                      std::vector<double> *PartCpuSeconds) {
  unsigned Threads =
      Opts.Threads ? Opts.Threads
                   : std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  // Before the cut, so that copies in different parts merge too.
  if (Opts.OptLevel > 0)
    mergeIdenticalFunctions(M);
  SplitPlan Plan;
  if (Threads > 1 && instructionCount(M) >= MinInstructionsToSplit)
    Plan = planModuleSplit(M, Threads);
  ObjectFiles Objects;
  std::vector<double> Cpu(std::max(1u, Plan.NumParts), 0.0);
  if (PartCpuSeconds)
    *PartCpuSeconds = Cpu;
  if (Plan.NumParts <= 1) {
    double Cpu0 = threadCpuSeconds();
    auto Object = compileOne(M, Opts);
    if (!Object)
      return Object.takeError();
    Objects.push_back(std::move(*Object));
    if (PartCpuSeconds)
      (*PartCpuSeconds)[0] = threadCpuSeconds() - Cpu0;
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
      double Cpu0 = threadCpuSeconds();
      auto Done = make_scope_exit([&] { Cpu[I] = threadCpuSeconds() - Cpu0; });
      LLVMContext Ctx;
      // The reference keeps only a view of the name: keep the name alive.
      std::string Name = M.getModuleIdentifier() + "." + std::to_string(I);
      MemoryBufferRef Ref(StringRef(Bitcode[I].data(), Bitcode[I].size()),
                          Name);
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
  if (PartCpuSeconds)
    *PartCpuSeconds = Cpu;
  Error All = Error::success();
  for (Error &E : Errors)
    All = joinErrors(std::move(All), std::move(E));
  if (All)
    return All;
  return Objects;
}
