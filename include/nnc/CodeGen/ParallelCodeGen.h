//===- ParallelCodeGen.h - Object code on several threads -----------------===//
//
// The executable path and the JIT turn a lowered module into object code
// here. A module big enough to be worth it is cut into a few parts per
// thread (ModuleSplit.h), and each part is optimized (Target.h's -O
// pipeline) and compiled by the next thread that is free, largest part
// first, in an LLVMContext of its own (LLVM contexts are not thread-safe):
// the module is written to bitcode once, and each part reads back only its
// own function bodies. The calling thread compiles the largest part in the
// module itself, cut in place, then joins the others. The parts are linked
// together like the objects of any C program.
//
// `--emit=llvm|asm|obj` do not come here: they show the module whole, as
// one optimized unit (the same code, except that a kernel compiled in
// another part than its caller is called rather than inlined).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_PARALLELCODEGEN_H
#define NNC_CODEGEN_PARALLELCODEGEN_H

#include "nnc/CodeGen/Target.h"

#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>

#include <memory>
#include <vector>

namespace nnc {

/// Relocatable object files, in a fixed order.
using ObjectFiles = std::vector<std::unique_ptr<llvm::MemoryBuffer>>;

/// Where the CPU time of compileToObjects went (--time-report).
struct PartTimes {
  std::vector<double> PartCpu; ///< CPU seconds of each part
  /// All CPU seconds of the threads other than the calling one.
  double WorkerCpu = 0;
};

/// Optimizes `M` for `Opts` and compiles it to object code, on up to
/// `Opts.Threads` threads. `M` is consumed: it is optimized in place or cut
/// up. The result does not depend on the timing of the threads. With
/// `Times`, where the CPU time went is stored there.
llvm::Expected<ObjectFiles> compileToObjects(llvm::Module &M,
                                             const TargetOptions &Opts,
                                             PartTimes *Times = nullptr);

} // namespace nnc

#endif
