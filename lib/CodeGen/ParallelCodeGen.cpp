//===- ParallelCodeGen.cpp - Object code on several threads ---------------===//
#include "nnc/CodeGen/ParallelCodeGen.h"

#include "nnc/CodeGen/ModuleSplit.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/Support/SmallVectorMemoryBuffer.h>

#include <algorithm>
#include <atomic>
#include <mutex>
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

/// Parts per thread: more, smaller parts, each taken by the next thread
/// that is free, even out what the plan's estimate of their cost gets
/// wrong; each part costs a read of the module's declarations, a pass
/// pipeline and an object file more.
constexpr unsigned PartsPerThread = 3;

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
/// `Straight`: the module is the entries' part (SplitPlan::StraightPart).
Expected<std::unique_ptr<MemoryBuffer>>
compileOne(Module &M, const nnc::TargetOptions &Opts, bool Straight = false) {
  auto TM = createTargetMachine(Opts);
  if (!TM)
    return TM.takeError();
  // The entries are `optnone` straight lines of calls that run once a
  // step: the back end's lowest level (fast instruction selection and
  // register allocation) compiles resnet.nn's in a third of the time, and
  // they are not measurably slower.
  if (Straight)
    (*TM)->setOptLevel(CodeGenOptLevel::None);
  configureModule(M, **TM);
  // compileToObjects merged the functions of the whole module.
  if (Error E = optimizeModule(M, **TM, Opts, /*Merged=*/true))
    return E;
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
                                            const nnc::TargetOptions &Opts,
                                            PartTimes *Times) {
  unsigned Threads =
      Opts.Threads ? Opts.Threads
                   : std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  // One message for a pipeline that does not parse, not one per part.
  if (Error E = checkLLVMPasses(Opts.LLVMPasses))
    return E;
  // Before the cut, so that copies in different parts merge too.
  if (Opts.OptLevel > 0)
    mergeIdenticalFunctions(M);
  SplitPlan Plan;
  if (Threads > 1 && instructionCount(M) >= MinInstructionsToSplit)
    Plan = planModuleSplit(M, Threads * PartsPerThread);
  ObjectFiles Objects;
  if (Plan.NumParts <= 1) {
    double Cpu0 = threadCpuSeconds();
    auto Object = compileOne(M, Opts);
    if (!Object)
      return Object.takeError();
    Objects.push_back(std::move(*Object));
    if (Times)
      *Times = {{threadCpuSeconds() - Cpu0}, 0};
    return Objects;
  }

  // The whole module crosses into the other threads' contexts as bitcode,
  // written once; each part reads back only its own bodies.
  prepareSplit(M, Plan);
  std::vector<PartOfGlobal> PartOf = partOfEachGlobal(M, Plan);
  SmallVector<char, 0> Bitcode;
  {
    raw_svector_ostream OS(Bitcode);
    WriteBitcodeToFile(M, OS);
  }
  initializeNativeTarget(); // once, before the threads race for it

  // Largest part first, each to the next thread that is free.
  std::vector<unsigned> Order(Plan.NumParts);
  for (unsigned I = 0; I < Plan.NumParts; ++I)
    Order[I] = I;
  std::stable_sort(Order.begin(), Order.end(), [&](unsigned A, unsigned B) {
    return Plan.Weight[A] > Plan.Weight[B];
  });
  Objects.resize(Plan.NumParts);
  std::vector<double> Cpu(Plan.NumParts, 0.0);
  std::vector<Error> Errors;
  for (unsigned I = 0; I < Plan.NumParts; ++I)
    Errors.push_back(Error::success());

  // One part in a context of its own, read from the bitcode.
  auto CompileCopy =
      [&](unsigned P) -> Expected<std::unique_ptr<MemoryBuffer>> {
    LLVMContext Ctx;
    // The reference keeps only a view of the name: keep the name alive.
    std::string Name = M.getModuleIdentifier() + "." + std::to_string(P);
    MemoryBufferRef Ref(StringRef(Bitcode.data(), Bitcode.size()), Name);
    auto Part = getLazyBitcodeModule(Ref, Ctx);
    if (!Part)
      return Part.takeError();
    if (Error E = keepPart(**Part, PartOf, P))
      return std::move(E);
    if (Error E = (*Part)->materializeAll())
      return std::move(E);
    (*Part)->setModuleIdentifier(Name);
    return compileOne(**Part, Opts, P == Plan.StraightPart);
  };
  std::atomic<unsigned> Next = 1;
  std::mutex WorkerCpuLock;
  double WorkerCpu = 0;
  auto Work = [&](bool Worker) {
    double Start = threadCpuSeconds();
    for (unsigned I; (I = Next++) < Plan.NumParts;) {
      unsigned P = Order[I];
      double Cpu0 = threadCpuSeconds();
      auto Object = CompileCopy(P);
      Cpu[P] = threadCpuSeconds() - Cpu0;
      if (!Object)
        Errors[P] = Object.takeError();
      else
        Objects[P] = std::move(*Object);
    }
    if (Worker) {
      std::lock_guard<std::mutex> Lock(WorkerCpuLock);
      WorkerCpu += threadCpuSeconds() - Start;
    }
  };
  std::vector<std::thread> Workers;
  for (unsigned T = 1; T < std::min(Threads, Plan.NumParts); ++T)
    Workers.emplace_back(Work, /*Worker=*/true);
  // This thread compiles the largest part in `M` itself (no bitcode to
  // read: it is cut in place), then helps with the rest.
  {
    unsigned P = Order[0];
    double Cpu0 = threadCpuSeconds();
    Error E = keepPart(M, PartOf, P);
    auto Object = E ? Expected<std::unique_ptr<MemoryBuffer>>(std::move(E))
                    : compileOne(M, Opts, P == Plan.StraightPart);
    Cpu[P] = threadCpuSeconds() - Cpu0;
    if (!Object)
      Errors[P] = Object.takeError();
    else
      Objects[P] = std::move(*Object);
  }
  Work(/*Worker=*/false);
  for (std::thread &T : Workers)
    T.join();
  if (Times)
    *Times = {Cpu, WorkerCpu};
  Error All = Error::success();
  for (Error &E : Errors)
    All = joinErrors(std::move(All), std::move(E));
  if (All)
    return std::move(All);
  return Objects;
}
