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

/// nnc's -O2 pipeline: LLVM's `default<O2>` (108 passes) less the 66 that
/// change nothing in the code nnc lowers, found by leaving LLVM's passes
/// out one at a time, the costliest first, and keeping out each whose
/// absence changed no instruction of any function of 23 models (examples/,
/// bench/models and 12 test models). A few cheap ones stay so that
/// `--emit=llvm` reads as LLVM's -O2 (inferred attributes, no LCSSA
/// leftovers). resnet.nn's middle end costs a quarter less
/// (docs/codegen.md, "Compile time"); test/CodeGen/llvm-pipeline.test
/// holds the two to the same assembly. `--llvm-passes='default<O2>'` runs
/// LLVM's own.
static const char NncO2Pipeline[] =
    // Clean up the lowering's scalars; constants into the kernels.
    "inferattrs,function(sroa,early-cse),ipsccp,globalopt,"
    "function(instcombine<no-verify-fixpoint>,"
    "simplifycfg<switch-range-to-icmp>),require<globals-aa>,"
    // Inline the small kernels and tasks; simplify each function with its
    // loops: invariants out, induction variables canonical (for the back
    // end's strength reduction), redundant loads and stores gone.
    "cgscc(devirt<4>(inline,function(early-cse<memssa>,jump-threading,"
    "correlated-propagation,instcombine<no-verify-fixpoint>,"
    "simplifycfg<switch-range-to-icmp>,reassociate,loop-mssa(licm),"
    "loop(loop-idiom,indvars,loop-deletion,loop-unroll-full),gvn,"
    "instcombine<no-verify-fixpoint>,dse,loop-mssa(licm),"
    "simplifycfg<switch-range-to-icmp;hoist-common-insts;"
    "sink-common-insts>),function-attrs)),deadargelim,globalopt,"
    "recompute-globalsaa,"
    // Vectorize the scalar loops and straight-line copies, then tidy up;
    // drop the constants nothing uses any more.
    "function(loop-vectorize,instcombine<no-verify-fixpoint>,"
    "simplifycfg<forward-switch-cond;switch-range-to-icmp;switch-to-lookup;"
    "no-keep-loops;hoist-common-insts;sink-common-insts>,slp-vectorizer,"
    "vector-combine,loop-unroll<O2>,infer-alignment,"
    "instcombine<no-verify-fixpoint>,loop-mssa(licm),instsimplify,"
    "tailcallelim,"
    "simplifycfg<switch-range-to-icmp;speculate-unpredictables>),"
    "globaldce";

namespace {
/// A pass builder for `TM` with its analyses registered.
struct Pipeline {
  LoopAnalysisManager LAM;
  FunctionAnalysisManager FAM;
  CGSCCAnalysisManager CGAM;
  ModuleAnalysisManager MAM;
  PassBuilder PB;

  Pipeline(TargetMachine *TM, unsigned OptLevel) : PB(TM, tuning(OptLevel)) {
    // The target's library info lets LLVM treat expf/logf as known calls.
    if (TM)
      FAM.registerPass([TM] {
        return TargetLibraryAnalysis(
            TargetLibraryInfoImpl(TM->getTargetTriple()));
      });
    PB.registerModuleAnalyses(MAM);
    PB.registerCGSCCAnalyses(CGAM);
    PB.registerFunctionAnalyses(FAM);
    PB.registerLoopAnalyses(LAM);
    PB.crossRegisterProxies(LAM, FAM, CGAM, MAM);
  }

  static PipelineTuningOptions tuning(unsigned OptLevel) {
    PipelineTuningOptions PTO;
    PTO.LoopVectorization = OptLevel >= 2;
    PTO.SLPVectorization = OptLevel >= 2;
    return PTO;
  }

  /// The module pipeline `Passes` names (opt's -passes syntax), or the
  /// -O level's when it is empty.
  Expected<ModulePassManager> build(StringRef Passes, unsigned OptLevel) {
    ModulePassManager MPM;
    if (!Passes.empty()) {
      if (Error E = PB.parsePassPipeline(MPM, Passes))
        return createStringError("--llvm-passes: " + toString(std::move(E)));
      return MPM;
    }
    switch (OptLevel) {
    case 0:
      return PB.buildO0DefaultPipeline(OptimizationLevel::O0);
    case 1:
      return PB.buildPerModuleDefaultPipeline(OptimizationLevel::O1);
    case 2:
      // A constant: llvm-pipeline.test and every -O2 compile parse it.
      cantFail(PB.parsePassPipeline(MPM, NncO2Pipeline));
      return MPM;
    default:
      return PB.buildPerModuleDefaultPipeline(OptimizationLevel::O3);
    }
  }
};
} // namespace

Error nnc::checkLLVMPasses(StringRef Passes) {
  if (Passes.empty()) // the -O level's
    return Error::success();
  return Pipeline(nullptr, 2).build(Passes, 2).takeError();
}

Error nnc::optimizeModule(Module &M, TargetMachine &TM,
                          const nnc::TargetOptions &Opts, bool Merged) {
  if (Opts.OptLevel > 0 && !Merged)
    mergeIdenticalFunctions(M);
  Pipeline P(&TM, Opts.OptLevel);
  auto MPM = P.build(Opts.LLVMPasses, Opts.OptLevel);
  if (!MPM)
    return MPM.takeError();
  MPM->run(M, P.MAM);
  return Error::success();
}

Error nnc::emitMachineCode(Module &M, TargetMachine &TM, raw_pwrite_stream &OS,
                           CodeGenFileType Kind) {
  legacy::PassManager PM;
  // The lowering verified the module (Lowering.cpp, Library.cpp); LLVM's
  // back end would verify it twice more, 3 % of its time on resnet.nn.
  if (TM.addPassesToEmitFile(PM, OS, nullptr, Kind, /*DisableVerify=*/true))
    return createStringError("the target cannot emit this kind of file");
  PM.run(M);
  return Error::success();
}
