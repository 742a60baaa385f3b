//===- TensorFile.h - safetensors files: read, validate, write -*- C++ -*-===//
//
// Weights, inputs, outputs and gradients all travel as safetensors files
// (docs/runtime.md, "Tensor files"): an 8-byte little-endian header length, a
// JSON header mapping each name to {dtype, shape, data_offsets} (plus an
// optional "__metadata__" of strings), then the raw little-endian data. The
// model computes in F32 and I32; the other element types are those of
// models imported from ONNX, whose inputs and outputs files keep (converted
// to and from F32/I32 by FileTypes.h). Reading validates everything before any
// value is used; writing is atomic (temp file in the same folder, fsync,
// rename), so a killed process never leaves a half-written file under the final
// name.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_TENSORFILE_H
#define NNC_RUNTIME_TENSORFILE_H

#include "nnc/Runtime/Status.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace nnc::rt {

/// Element types of tensor files; F32 and I32 match enum nnc_dtype, the
/// others are only ever stored (docs/runtime.md, "Tensor files").
enum class DType : int32_t {
  F32 = 0,
  I32 = 1,
  F64,
  F16,
  BF16,
  I64,
  I16,
  I8,
  U8,
  U16,
  U32,
  U64,
  Bool,
};

/// "F32", "I32", "I64", "BOOL", ..., as in the header.
const char *dtypeName(DType T);
/// Bytes per element.
uint64_t dtypeSize(DType T);

/// "[2, 3]"; "[]" for a scalar.
std::string shapeString(const std::vector<int64_t> &Shape);

/// One tensor read from a file; `Data` holds numel * dtypeSize(Type) bytes
/// in host order.
struct StoredTensor {
  std::string Name;
  DType Type = DType::F32;
  std::vector<int64_t> Shape;
  std::vector<char> Data;

  int64_t numel() const;
};

/// A whole tensor file, tensors in file order.
struct TensorFile {
  std::string Path;
  std::vector<StoredTensor> Tensors;
  std::map<std::string, std::string> Metadata;

  /// The tensor named `Name`, or null.
  const StoredTensor *find(std::string_view Name) const;
};

/// Reads and validates `Path`. Every error names the file and the reason:
/// too short, header length beyond the file, JSON syntax (with offset),
/// missing key, unsupported dtype, bad shape, data offsets out of range, of
/// the wrong size or overlapping.
Expected<TensorFile> readTensorFile(const std::string &Path);

/// A tensor to write: `Data` points at numel * dtypeSize(Type) bytes.
struct TensorRef {
  std::string Name;
  DType Type;
  std::vector<int64_t> Shape;
  const void *Data;
};

/// The bytes of a safetensors file holding `Tensors` in the given order.
std::string encodeTensorFile(const std::vector<TensorRef> &Tensors,
                             const std::map<std::string, std::string> &Meta);

/// Writes `Tensors` to `Path` atomically.
Status writeTensorFile(const std::string &Path,
                       const std::vector<TensorRef> &Tensors,
                       const std::map<std::string, std::string> &Meta = {});

/// Writes `Bytes` to `Path` atomically: `PATH.tmp.XXXXXX` in the same
/// folder, fsync, rename over `Path`. On failure the temp file is removed
/// and any old file at `Path` is left untouched.
Status writeFileAtomically(const std::string &Path, std::string_view Bytes);

} // namespace nnc::rt

#endif
