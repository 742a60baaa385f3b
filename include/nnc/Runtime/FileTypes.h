//===- FileTypes.h - Inputs and outputs in their files' element types -----===//
//
// A model computes in f32 and i32, but the inputs and outputs of a model
// imported from ONNX keep ONNX's element types in tensor files (I64, BOOL,
// F64, ...; nnc_slot.file_dtype, docs/runtime.md "Tensor files"). These
// conversions sit between a file and a slot: floating types and BOOL become
// f32 (BOOL as 0/1), integer types i32, and back. An integer that does not
// fit an i32 is an error naming the tensor and the element, never a silent
// wrap; on the way out, values are converted as a C cast would (integers
// wrap to the narrower type, f32 rounds to F16/BF16 to nearest even, a
// BOOL is true where the value is not 0).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_FILETYPES_H
#define NNC_RUNTIME_FILETYPES_H

#include "nnc/Runtime/ModelABI.h"
#include "nnc/Runtime/Status.h"
#include "nnc/Runtime/TensorFile.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnc::rt {

/// How tensor files store slot `S`: its file_dtype, or its dtype when that
/// is NNC_FILE_NATIVE (or out of range: the descriptor check reports it).
DType fileType(const nnc_slot &S);

/// The computed type (F32 or I32) a file's element type converts to.
DType computeType(DType Stored);

/// Converts `T`'s data to `To` (F32 or I32) into `Out` (numel * 4 bytes).
/// `What` names the tensor in errors ("x.st: tensor 'x'").
Status toComputeType(const std::string &What, const StoredTensor &T, DType To,
                     std::vector<char> &Out);

/// Converts `Numel` values of computed type `From` at `Data` to the file
/// type `To`.
std::vector<char> toFileType(const void *Data, int64_t Numel, DType From,
                             DType To);

/// IEEE half and bfloat16 from and to f32 (round to nearest even).
float halfToFloat(uint16_t H);
uint16_t floatToHalf(float F);
float bfloat16ToFloat(uint16_t B);
uint16_t floatToBfloat16(float F);

} // namespace nnc::rt

#endif
