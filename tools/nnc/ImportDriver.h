//===- ImportDriver.h - ONNX models and weight files in the driver --------===//
//
// `nnc M.onnx ...` imports the model as `.nn` source plus weights
// (Import/Onnx.h) and compiles that source like any other; `--emit=nn`
// writes the two files instead. The `load(FILE)` initializers of the source
// read the imported weights from memory, and those of any `.nn` file from
// disk with the runtime's safetensors reader: the driver joins the two
// libraries, which do not know each other (docs/design.md, "Layering").
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_IMPORTDRIVER_H
#define NNC_TOOLS_IMPORTDRIVER_H

#include "nnc/Import/Onnx.h"
#include "nnc/Sema/Sema.h"

#include <memory>
#include <optional>
#include <string>

namespace nnc {

/// The name of the weights file that goes with `--emit=nn -o OUT` (or, to
/// stdout, with the input `Input`): OUT's name with `.safetensors` for its
/// extension, next to it.
std::string weightsPathFor(const std::string &Output, const std::string &Input);

/// Imports the ONNX model in `Bytes` (read from `Input`), its source
/// naming the weights file `WeightsFile`. Prints `Input: error: ...` and
/// returns nullopt on failure.
std::optional<ImportedModel> importModel(const std::string &Input,
                                         llvm::StringRef Bytes,
                                         const std::string &WeightsFile);

/// Writes the weights of `M` to `Path` (nothing when it has none). Prints
/// the error and returns false on failure.
bool writeWeights(const ImportedModel &M, const std::string &Path);

/// A reader for `load(FILE)`: FILE read once from disk (F32 and I32
/// tensors) and cached; with `Imported`, a FILE named `WeightsFile` is the
/// imported model's weights in memory.
TensorReader makeTensorReader(std::shared_ptr<const ImportedModel> Imported,
                              const std::string &WeightsFile);

} // namespace nnc

#endif
