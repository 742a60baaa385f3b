//===- JIT.cpp - Running a lowered model in memory ------------------------===//
//
// The module is compiled to object code as for an executable, on several
// threads (ParallelCodeGen.h), and the objects are handed to LLJIT, which
// links them into this process. Unresolved symbols are
// looked up in the current process (libm, and the runtime when nnc exports
// it) after the caller's explicit addresses.
//
//===----------------------------------------------------------------------===//
#include "nnc/JIT/JIT.h"

#include "nnc/CodeGen/CodeGen.h"
#include "nnc/CodeGen/ParallelCodeGen.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>

using namespace llvm;
using namespace llvm::orc;
using namespace nnc;

Expected<std::unique_ptr<ModelJIT>>
ModelJIT::create(std::unique_ptr<Module> M, std::unique_ptr<LLVMContext> Ctx,
                 const nnc::TargetOptions &Opts,
                 const std::vector<HostSymbol> &Extra) {
  // The code runs on this machine: always tune for the host.
  nnc::TargetOptions Host = Opts;
  Host.Cpu.clear();
  auto Objects = compileToObjects(*M, Host);
  M.reset(); // before its context
  Ctx.reset();
  if (!Objects)
    return Objects.takeError();

  auto JTMB = JITTargetMachineBuilder::detectHost();
  if (!JTMB)
    return JTMB.takeError();
  auto J = LLJITBuilder().setJITTargetMachineBuilder(std::move(*JTMB)).create();
  if (!J)
    return J.takeError();

  JITDylib &JD = (*J)->getMainJITDylib();
  if (!Extra.empty()) {
    SymbolMap Symbols;
    for (const auto &[Name, Addr] : Extra)
      Symbols[(*J)->mangleAndIntern(Name)] = ExecutorSymbolDef(
          ExecutorAddr::fromPtr(Addr),
          JITSymbolFlags::Exported | JITSymbolFlags::Callable);
    if (Error E = JD.define(absoluteSymbols(std::move(Symbols))))
      return E;
  }
  auto Gen = DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*J)->getDataLayout().getGlobalPrefix());
  if (!Gen)
    return Gen.takeError();
  JD.addGenerator(std::move(*Gen));

  for (std::unique_ptr<MemoryBuffer> &Object : *Objects)
    if (Error E = (*J)->addObjectFile(std::move(Object)))
      return E;

  std::unique_ptr<ModelJIT> Result(new ModelJIT(std::move(*J)));
  auto Desc = Result->lookup(ModelDescSymbol);
  if (!Desc)
    return Desc.takeError();
  Result->Model = static_cast<const nnc_model *>(*Desc);
  return Result;
}

Expected<void *> ModelJIT::lookup(StringRef Name) {
  auto Addr = J->lookup(Name);
  if (!Addr)
    return Addr.takeError();
  return Addr->toPtr<void *>();
}
