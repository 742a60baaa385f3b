//===- LibraryDriver.h - `--emit=lib`: a C inference library
//---------------===//
//
// `nnc FILE.nn --emit=lib [--load W.safetensors] [--seed S] -o NAME.o`
// writes NAME.o, the model's eval-mode inference as one C function with the
// weights compiled in, and NAME.h, its header (CodeGen/Library.h,
// docs/embedding.md). The driver supplies what the code generator must not
// know: the weights, read with the runtime's tensor-file code or drawn with
// its `init` (LeafValues.h), and the files.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_LIBRARYDRIVER_H
#define NNC_TOOLS_LIBRARYDRIVER_H

#include "nnc/Graph/Module.h"
#include "nnc/Support/Diagnostics.h"
#include "nnc/Transforms/PassManager.h"

#include <cstdint>
#include <optional>
#include <string>

namespace nnc {

struct LibraryRequest {
  std::string Input;  ///< The `.nn` file, for messages and the header.
  std::string Output; ///< -o NAME.o; the header is NAME.h next to it.
  std::string Model;  ///< --model; empty: chosen as for an executable.
  /// --load W.safetensors: every param and buffer; empty: the initializers.
  std::string Load;
  /// --seed: the initializers' seed; unset: the train block's, else 0.
  std::optional<uint64_t> Seed;
  unsigned OptLevel = 2;
  std::string TargetCpu;  ///< Empty: the host CPU.
  std::string LLVMPasses; ///< --llvm-passes; empty: the -O level's.
  /// The graph passes, as for an executable (the same kernels).
  PassOptions Optimizer;
};

/// Writes the library and its header, both or neither. Returns false after
/// reporting an error.
bool emitLibrary(const LibraryRequest &Req, Module &M, DiagEngine &Diags);

} // namespace nnc

#endif
