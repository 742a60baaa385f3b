//===- Target.h - Target machine, optimization pipeline, object files -----===//
//
// Everything between a lowered module and machine code that does not depend
// on the model: choosing the CPU (the host by default, so that on an
// AVX-512 machine the vectorizer uses 512-bit registers), running the -O
// level's module pipeline, and writing assembly or object code.
// Both the executable path and the JIT use these, so `--emit=asm` shows the
// code `nnc run` executes.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_TARGET_H
#define NNC_CODEGEN_TARGET_H

#include <llvm/IR/Module.h>
#include <llvm/Support/CodeGen.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>

namespace nnc {

/// How to generate machine code.
struct TargetOptions {
  /// LLVM CPU name (`znver4`, `x86-64`, ...); empty means the host CPU with
  /// the host's features.
  std::string Cpu;
  /// 0..3, as the `-O` flag.
  unsigned OptLevel = 2;
  /// LLVM's module pass pipeline in opt's `-passes` syntax
  /// (`--llvm-passes`); empty means the -O level's.
  std::string LLVMPasses;
  /// Threads that compile an executable's or the JIT's object code
  /// (ParallelCodeGen.h); 0 means one per hardware thread, at most 8.
  unsigned Threads = 0;
};

/// The vector registers the GEMM's register tiles are shaped for
/// (lib/CodeGen/Gemm.cpp): floats per register and how many there are.
struct VectorUnit {
  int64_t Floats = 16;
  int64_t Registers = 32;
};

/// The widest float vector unit `TM`'s CPU has: AVX-512 (16 floats, 32
/// registers), AVX (8, 16) or SSE (4, 16).
VectorUnit vectorUnitOf(const llvm::TargetMachine &TM);

/// The host CPU's vector unit (computed once).
VectorUnit hostVectorUnit();

/// Records in `M` (as module flags `nnc.vector-floats` and
/// `nnc.vector-registers`) the unit its kernels are generated for.
void recordVectorUnit(llvm::Module &M, const VectorUnit &VU);

/// The unit recorded in `M`, or the host's when none is.
VectorUnit moduleVectorUnit(const llvm::Module &M);

/// Registers the native target once per process (idempotent).
void initializeNativeTarget();

/// A TargetMachine for the host triple and `Opts.Cpu`, PIC. Fails when the
/// CPU name is unknown to LLVM.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetOptions &Opts);

/// Sets the module's triple and data layout from `TM` and tags every
/// defined function with the target CPU, features and the preferred vector
/// width, so that the vectorizer uses the widest registers the CPU has.
void configureModule(llvm::Module &M, llvm::TargetMachine &TM);

/// Replaces every function that is identical to an earlier one (same
/// instructions, constants, attributes and callees, names aside) by that
/// one, with LLVM's MergeFunctions: kernels of layers with one shape and
/// one op sequence (a batchnorm per layer, an optimizer update per param)
/// are then optimized and compiled once. Deterministic: of identical
/// functions, the one whose name sorts first stays, so a kernel may be
/// called under the name of another node's (`k15.mul.d.y` for `y * y`).
void mergeIdenticalFunctions(llvm::Module &M);

/// From -O1 on, merges identical functions (mergeIdenticalFunctions) unless
/// `Merged` says that `M` is a part of a module merged before it was cut
/// (nothing is left to merge); then runs `Opts.LLVMPasses` or the -O
/// level's module pipeline: LLVM's default for -O0, -O1 and -O3, nnc's own
/// for -O2 (LLVM's `default<O2>` less the passes that change nothing in
/// nnc's code; Target.cpp). Fails only on a pipeline that does not parse.
llvm::Error optimizeModule(llvm::Module &M, llvm::TargetMachine &TM,
                           const TargetOptions &Opts, bool Merged = false);

/// Whether `Passes` parses as a module pipeline (`--llvm-passes`); the
/// error names what does not.
llvm::Error checkLLVMPasses(llvm::StringRef Passes);

/// Writes `M` as assembly or an object file.
llvm::Error emitMachineCode(llvm::Module &M, llvm::TargetMachine &TM,
                            llvm::raw_pwrite_stream &OS,
                            llvm::CodeGenFileType Kind);

} // namespace nnc

#endif
