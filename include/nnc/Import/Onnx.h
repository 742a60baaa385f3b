//===- Onnx.h - ONNX models as .nn source ---------------------------------===//
//
// `nnc M.onnx ...` reads an ONNX model with the ONNX project's own protobuf
// classes and translates it into `.nn` source plus the tensors of its
// initializers (docs/onnx.md). The source then takes the normal path —
// parse, Sema, autodiff, passes, code generation — so an imported model is
// exactly the `.nn` file `--emit=nn` writes, and every later stage stays
// the same. Graph inputs and outputs keep their ONNX names (as `quoted`
// names) and element types (`input x : i64[3]`); initializers become
// params (or, for integer data, consts) that `load(...)` their values from
// the weights file, so an executable has them compiled in.
//
// Errors (a file that is not ONNX, an operator, opset or domain nnc does not
// support, dynamic dimensions, dangling inputs, contradictory shapes) are one
// message each, without the file name, which the driver adds.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IMPORT_ONNX_H
#define NNC_IMPORT_ONNX_H

#include "nnc/Graph/Tensor.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include <string>
#include <utility>
#include <vector>

namespace nnc {

/// An ONNX model as `.nn` source and the tensors its `load(...)`
/// initializers read.
struct ImportedModel {
  /// The whole `.nn` file.
  std::string Source;
  /// The tensors of the weights file, by param or const name, in the order
  /// they are declared.
  std::vector<std::pair<std::string, Tensor>> Weights;
};

/// Reads the ONNX model in `Bytes` and translates it. `WeightsFile` is the
/// name the source's `load("...")` initializers give the weights file
/// (`M.safetensors`); `ModelName` names the model when the graph has no
/// usable name.
llvm::Expected<ImportedModel> importOnnx(llvm::StringRef Bytes,
                                         llvm::StringRef WeightsFile,
                                         llvm::StringRef ModelName);

/// Whether `Path` names an ONNX model (by its `.onnx` extension).
bool isOnnxPath(llvm::StringRef Path);

} // namespace nnc

#endif
