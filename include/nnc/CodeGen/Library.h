//===- Library.h - A model as a dependency-free C inference library -------===//
//
// `nnc FILE.nn --emit=lib -o NAME.o` (docs/embedding.md) turns a model's
// eval-mode graph into one object file that defines a single C function,
//
//   int MODEL_predict(const float *in..., float *out...);
//
// with the weights compiled in as constants, and the C header that declares
// it. The object links with `cc app.c NAME.o -lm` and nothing else: it
// holds the `predict` entry point of the executable (the same kernels, so
// the same bits), the weights, its working memory in static storage, and
// a serial definition of the one runtime function its kernels call
// (`nnc_parallel_for`), all with internal linkage. Reading weight files and
// drawing initializers is the driver's job (tools/nnc/LibraryDriver.cpp):
// the code generator takes the weights as bits.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_LIBRARY_H
#define NNC_CODEGEN_LIBRARY_H

#include "nnc/CodeGen/Target.h"
#include "nnc/Graph/Graph.h"

#include <llvm/ADT/StringMap.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nnc {

/// The value of every param and buffer by name, as the elements' f32 or i32
/// bits in row-major order.
using LibraryWeights = llvm::StringMap<std::vector<uint32_t>>;

/// How the library is generated.
struct LibraryOptions {
  /// The vector unit the GEMM tiles are shaped for; unset means the host's.
  std::optional<VectorUnit> Vector;
};

/// A lowered library and what its header says about it.
struct LibraryModule {
  std::unique_ptr<llvm::Module> M;
  /// Bytes of static storage the library keeps: the arena and the copies
  /// of the inputs and outputs (docs/embedding.md, "Memory").
  int64_t StaticBytes = 0;
};

/// `MODEL_predict`: the one global symbol of model `Model`'s library.
std::string librarySymbol(llvm::StringRef Model);

/// An output and a target it reads.
struct OutputTarget {
  const NamedValue *Output = nullptr;
  const Node *Target = nullptr;
};

/// The first output of `G` that needs a target, which an inference library
/// does not have (its arguments are the inputs and the outputs); none when
/// every output needs only inputs, params, buffers and constants.
std::optional<OutputTarget> outputNeedingTarget(const Graph &G);

/// Lowers `G`, the eval-mode graph of model `Model` (its eval-mode graph
/// when its modes differ, else its only graph), to a library module
/// computing every output of `G` with `Weights`. Fails on a model without
/// outputs, on an output that needs a target, and on a param or buffer
/// without weights of its size.
llvm::Expected<LibraryModule> lowerLibrary(llvm::StringRef Model,
                                           const Graph &G,
                                           const LibraryWeights &Weights,
                                           llvm::LLVMContext &Ctx,
                                           const LibraryOptions &Opts = {});

/// What the header says besides the model's interface.
struct LibraryHeaderInfo {
  std::string Model;      ///< The name in `model MODEL {`.
  std::string ObjectName; ///< "mlp.o", for the link line.
  std::string HeaderName; ///< "mlp.h", for the opening line.
  std::string Source;     ///< The `.nn` file, for the opening comment.
  std::string Cpu;        ///< The CPU the code is for (`--target-cpu`).
  int64_t StaticBytes = 0;
};

/// The C header declaring the library of `G` (as lowerLibrary): `MODEL_predict`
/// with one comment per argument, the shape constants, thread and memory rules.
/// Fails when two inputs or outputs would share a constant (`x` and `X`).
llvm::Expected<std::string> libraryHeader(const Graph &G,
                                          const LibraryHeaderInfo &Info);

} // namespace nnc

#endif
