//===- ExportDriver.h - `--emit=onnx`: the inference graph as ONNX --------===//
//
// `nnc FILE.nn --emit=onnx [--load W.safetensors] [--seed S] -o M.onnx`
// writes one model's eval-mode forward graph as an ONNX model
// (Export/Onnx.h, docs/onnx.md "ONNX out"). The driver supplies what the
// exporter must not know: which model, and the weights — read with the
// runtime's tensor-file code or drawn with its `init`, exactly as
// `--emit=lib` takes them (LeafValues.h).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_EXPORTDRIVER_H
#define NNC_TOOLS_EXPORTDRIVER_H

#include "nnc/Graph/Module.h"
#include "nnc/Support/Diagnostics.h"

#include <llvm/Support/raw_ostream.h>

#include <cstdint>
#include <optional>
#include <string>

namespace nnc {

struct OnnxRequest {
  std::string Input; ///< The `.nn` (or `.onnx`) file, for messages.
  std::string Model; ///< --model; empty: chosen as for an executable.
  /// --load W.safetensors: every param and buffer; empty: the initializers.
  std::string Load;
  /// --seed: the initializers' seed; unset: the train block's, else 0.
  std::optional<uint64_t> Seed;
  std::string Version; ///< nnc's, the model's producer_version.
};

/// Writes the serialized ONNX model of `M`'s chosen model to `OS`. Returns
/// false after reporting an error.
bool emitOnnx(const OnnxRequest &Req, Module &M, DiagEngine &Diags,
              llvm::raw_ostream &OS);

} // namespace nnc

#endif
