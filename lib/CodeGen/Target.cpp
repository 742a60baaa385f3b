//===- Target.cpp - Target machine, optimization pipeline, object files ---===//
//
// The host CPU is the default target so that `nnc` on an AVX-512 machine
// emits 512-bit vector code. LLVM's X86 tuning prefers 256-bit vectors on
// several AVX-512 CPUs (to avoid frequency drops on older Intel parts); our
// kernels are long, regular loops where the wider registers win, so every
// function is tagged `"prefer-vector-width"="512"` — a CPU without AVX-512
// simply ignores it.
//
//===----------------------------------------------------------------------===//
#include "nnc/CodeGen/Target.h"

#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Metadata.h>
#include <llvm/IR/PassManager.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/SubtargetFeature.h>
#include <llvm/TargetParser/Triple.h>
#include <llvm/Transforms/IPO/MergeFunctions.h>

#include <mutex>

using namespace llvm;
using namespace nnc;

void nnc::initializeNativeTarget() {
  static std::once_flag Once;
  std::call_once(Once, [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
    InitializeNativeTargetAsmParser();
  });
}

/// The back end's level. -O2 takes the back end's -O1 (`Less`): its
/// `Default` made the same machine code for every example (resnet.nn,
/// lenet.nn, mlp.nn: identical objects) and cost 5-8 % more back-end time
/// (docs/codegen.md, "Compile time").
static CodeGenOptLevel codeGenLevel(unsigned OptLevel) {
  switch (OptLevel) {
  case 0:
    return CodeGenOptLevel::None;
  case 1:
  case 2:
    return CodeGenOptLevel::Less;
  default:
    return CodeGenOptLevel::Aggressive;
  }
}

Expected<std::unique_ptr<TargetMachine>>
nnc::createTargetMachine(const nnc::TargetOptions &Opts) {
  initializeNativeTarget();
  std::string TripleName = sys::getProcessTriple();
  std::string Error;
  const Target *T = TargetRegistry::lookupTarget(TripleName, Error);
  if (!T)
    return createStringError("cannot generate code for '%s': %s",
                             TripleName.c_str(), Error.c_str());
  std::string Cpu = Opts.Cpu, Features;
  if (Cpu.empty()) {
    Cpu = sys::getHostCPUName().str();
    SubtargetFeatures F;
    for (const auto &[Name, On] : sys::getHostCPUFeatures())
      F.AddFeature(Name, On);
    Features = F.getString();
  } else {
    // Reject names LLVM does not know rather than silently generating
    // generic code for a typo.
    std::unique_ptr<MCSubtargetInfo> STI(
        T->createMCSubtargetInfo(TripleName, "", ""));
    if (!STI || !STI->isCPUStringValid(Cpu))
      return createStringError("unknown target CPU '%s' (try `llc "
                               "-mcpu=help` for the list)",
                               Cpu.c_str());
  }
  llvm::TargetOptions TO;
  std::unique_ptr<TargetMachine> TM(
      T->createTargetMachine(TripleName, Cpu, Features, TO, Reloc::PIC_,
                             std::nullopt, codeGenLevel(Opts.OptLevel)));
  if (!TM)
    return createStringError("cannot create a target machine for '%s'",
                             Cpu.c_str());
  return TM;
}

VectorUnit nnc::vectorUnitOf(const TargetMachine &TM) {
  const MCSubtargetInfo *STI = TM.getMCSubtargetInfo();
  if (STI->checkFeatures("+avx512f"))
    return {16, 32};
  if (STI->checkFeatures("+avx"))
    return {8, 16};
  return {4, 16};
}

VectorUnit nnc::hostVectorUnit() {
  static const VectorUnit Host = [] {
    auto TM = createTargetMachine({});
    if (!TM) { // no native target: the GEMM still works, just not tuned
      consumeError(TM.takeError());
      return VectorUnit{};
    }
    return vectorUnitOf(**TM);
  }();
  return Host;
}

void nnc::recordVectorUnit(Module &M, const VectorUnit &VU) {
  M.addModuleFlag(Module::Error, "nnc.vector-floats", VU.Floats);
  M.addModuleFlag(Module::Error, "nnc.vector-registers", VU.Registers);
}

VectorUnit nnc::moduleVectorUnit(const Module &M) {
  auto *Floats = mdconst::extract_or_null<ConstantInt>(
      M.getModuleFlag("nnc.vector-floats"));
  auto *Regs = mdconst::extract_or_null<ConstantInt>(
      M.getModuleFlag("nnc.vector-registers"));
  if (!Floats || !Regs)
    return hostVectorUnit();
  return {Floats->getSExtValue(), Regs->getSExtValue()};
}

void nnc::configureModule(Module &M, TargetMachine &TM) {
  M.setTargetTriple(TM.getTargetTriple().str());
  M.setDataLayout(TM.createDataLayout());
  std::string Cpu = TM.getTargetCPU().str();
  std::string Features = TM.getTargetFeatureString().str();
  for (Function &F : M) {
    if (F.isDeclaration())
      continue;
    F.addFnAttr("target-cpu", Cpu);
    if (!Features.empty())
      F.addFnAttr("target-features", Features);
    F.addFnAttr("prefer-vector-width", "512");
  }
}

void nnc::mergeIdenticalFunctions(Module &M) {
  ModuleAnalysisManager MAM; // the pass asks for no analysis
  MergeFunctionsPass().run(M, MAM);
}

void nnc::optimizeModule(Module &M, TargetMachine &TM, unsigned OptLevel,
                         bool Merged) {
  if (OptLevel > 0 && !Merged)
    mergeIdenticalFunctions(M);
  LoopAnalysisManager LAM;
  FunctionAnalysisManager FAM;
  CGSCCAnalysisManager CGAM;
  ModuleAnalysisManager MAM;
  PipelineTuningOptions PTO;
  PTO.LoopVectorization = OptLevel >= 2;
  PTO.SLPVectorization = OptLevel >= 2;
  PassBuilder PB(&TM, PTO);
  // The target's library info lets LLVM treat expf/logf as known calls.
  FAM.registerPass([&] {
    return TargetLibraryAnalysis(TargetLibraryInfoImpl(TM.getTargetTriple()));
  });
  PB.registerModuleAnalyses(MAM);
  PB.registerCGSCCAnalyses(CGAM);
  PB.registerFunctionAnalyses(FAM);
  PB.registerLoopAnalyses(LAM);
  PB.crossRegisterProxies(LAM, FAM, CGAM, MAM);

  ModulePassManager MPM;
  switch (OptLevel) {
  case 0:
    MPM = PB.buildO0DefaultPipeline(OptimizationLevel::O0);
    break;
  case 1:
    MPM = PB.buildPerModuleDefaultPipeline(OptimizationLevel::O1);
    break;
  case 2:
    MPM = PB.buildPerModuleDefaultPipeline(OptimizationLevel::O2);
    break;
  default:
    MPM = PB.buildPerModuleDefaultPipeline(OptimizationLevel::O3);
    break;
  }
  MPM.run(M, MAM);
}

Error nnc::emitMachineCode(Module &M, TargetMachine &TM, raw_pwrite_stream &OS,
                           CodeGenFileType Kind) {
  legacy::PassManager PM;
  if (TM.addPassesToEmitFile(PM, OS, nullptr, Kind))
    return createStringError("the target cannot emit this kind of file");
  PM.run(M);
  return Error::success();
}
