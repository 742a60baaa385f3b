//===- Onnx.h - A model's inference graph as an ONNX model ----------------===//
//
// `nnc FILE.nn --emit=onnx --load W.safetensors -o M.onnx` writes the
// forward graph of one model in eval mode (dropout off, batchnorm with its
// running statistics) as an ONNX ModelProto, built with the ONNX project's
// own protobuf classes (Debian's libonnx-dev) — docs/onnx.md, "ONNX out".
// The graph's inputs are the model's `input`s and its outputs the model's
// `output`s, by name and at their static shapes; the params and buffers the
// outputs read are its initializers, under their names; everything else
// (targets, loss, metrics) is left out. Only standard ai.onnx operators of
// opset 17 are used: every op of the table (Ops.def) that can occur in a
// forward graph has a translation, the others are a diagnostic naming the
// op at its source line.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_EXPORT_ONNX_H
#define NNC_EXPORT_ONNX_H

#include "nnc/Graph/Graph.h"
#include "nnc/Support/Diagnostics.h"

#include <llvm/ADT/DenseMap.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nnc {

/// The ai.onnx opset of every exported model.
constexpr int64_t OnnxExportOpset = 17;
/// The ONNX IR version that goes with it.
constexpr int64_t OnnxExportIrVersion = 8;

/// The values of params and buffers: the f32 (or i32) bits of each
/// element, row-major, as an executable's slots hold them.
using WeightBits = llvm::DenseMap<const Node *, std::vector<uint32_t>>;

struct OnnxExportOptions {
  /// The input file, for the model's doc string (each node's names the
  /// buffer its source location points into, `FILE:LINE:COL`).
  std::string Source;
  /// nnc's version, the model's producer_version.
  std::string ProducerVersion;
};

/// Translates the forward graph `G` — as Sema builds it, with its
/// mode-dependent ops, exported in eval mode — into a serialized ONNX
/// ModelProto whose initializers are the `Weights` of the params and
/// buffers the outputs read (each must be there). Returns nullopt after
/// reporting every problem: a model without outputs, an output that reads
/// a target, an op without an ONNX translation (at its source line).
std::optional<std::string> exportOnnx(const Graph &G, const WeightBits &Weights,
                                      const OnnxExportOptions &Options,
                                      DiagEngine &Diags);

} // namespace nnc

#endif
