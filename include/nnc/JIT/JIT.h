//===- JIT.h - Running a lowered model in memory --------------------------===//
//
// `nnc run` and the code generator's unit tests compile a lowered module
// with ORC's LLJIT instead of writing files. Symbols the generated code
// calls (libm's expf, the runtime's nnc_main) resolve from the nnc process
// itself, plus any absolute addresses the caller supplies.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_JIT_JIT_H
#define NNC_JIT_JIT_H

#include "nnc/CodeGen/Target.h"
#include "nnc/Runtime/ModelABI.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace nnc {

/// A symbol the JIT'd code may call, by name and address.
using HostSymbol = std::pair<std::string, void *>;

/// One compiled model living in memory.
class ModelJIT {
public:
  /// Optimizes `M` for the host (at `Opts.OptLevel`; `Opts.Cpu` is ignored:
  /// the code runs here) and compiles it. `Extra` adds symbols that are not
  /// exported by the process, e.g. the runtime's callbacks when it is
  /// linked statically (`rt::callbackSymbols()`, Runtime/Callbacks.h).
  static llvm::Expected<std::unique_ptr<ModelJIT>>
  create(std::unique_ptr<llvm::Module> M,
         std::unique_ptr<llvm::LLVMContext> Ctx, const TargetOptions &Opts,
         const std::vector<HostSymbol> &Extra = {});

  /// The model descriptor (`nnc_model_desc`) of the compiled module.
  const nnc_model *model() const { return Model; }

  /// The address of any other symbol of the compiled module.
  llvm::Expected<void *> lookup(llvm::StringRef Name);

private:
  explicit ModelJIT(std::unique_ptr<llvm::orc::LLJIT> J) : J(std::move(J)) {}
  std::unique_ptr<llvm::orc::LLJIT> J;
  const nnc_model *Model = nullptr;
};

} // namespace nnc

#endif
