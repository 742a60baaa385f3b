//===- Protos.cpp - Element types, tensors, value infos, attributes -------===//
//
// The small builders of ONNX protobuf messages the exporter's files share.
// Tensor data goes into `raw_data`, which ONNX defines as little-endian —
// the byte order of every host nnc generates code for (x86-64), so the
// bits of a slot are copied as they are.
//
//===----------------------------------------------------------------------===//
#include "Exporter.h"

#include <bit>
#include <cstring>

using namespace nnc;
using namespace nnc::onnx_export;

static_assert(std::endian::native == std::endian::little,
              "raw_data is little-endian; a big-endian host must swap bytes");

OnnxType onnx_export::onnxType(DType T) {
  switch (T) {
  case DType::F32:
    return onnx::TensorProto_DataType_FLOAT;
  case DType::I32:
    return onnx::TensorProto_DataType_INT32;
  }
  return onnx::TensorProto_DataType_UNDEFINED;
}

OnnxType onnx_export::onnxType(FileType Stored, DType Native) {
  using TP = onnx::TensorProto;
  switch (Stored) {
  case FileType::Native:
    return onnxType(Native);
  case FileType::F64:
    return TP::DOUBLE;
  case FileType::F16:
    return TP::FLOAT16;
  case FileType::BF16:
    return TP::BFLOAT16;
  case FileType::I64:
    return TP::INT64;
  case FileType::I16:
    return TP::INT16;
  case FileType::I8:
    return TP::INT8;
  case FileType::U8:
    return TP::UINT8;
  case FileType::U16:
    return TP::UINT16;
  case FileType::U32:
    return TP::UINT32;
  case FileType::U64:
    return TP::UINT64;
  case FileType::Bool:
    return TP::BOOL;
  }
  return TP::UNDEFINED;
}

void onnx_export::fillTensor(onnx::TensorProto &T, OnnxType Elem,
                             llvm::ArrayRef<int64_t> Dims,
                             llvm::StringRef Bytes) {
  T.set_data_type(Elem);
  for (int64_t D : Dims)
    T.add_dims(D);
  T.set_raw_data(Bytes.data(), Bytes.size());
}

void onnx_export::fillTensor(onnx::TensorProto &T, const Tensor &V) {
  bool IsF32 = V.Type.Elem == DType::F32;
  const char *Data = IsF32 ? reinterpret_cast<const char *>(V.F.data())
                           : reinterpret_cast<const char *>(V.I.data());
  fillTensor(T, onnxType(V.Type.Elem), V.Type.Dims,
             llvm::StringRef(Data, size_t(V.numElements()) * 4));
}

void onnx_export::setValueInfo(onnx::ValueInfoProto &Info,
                               const std::string &Name, OnnxType Elem,
                               llvm::ArrayRef<int64_t> Dims) {
  Info.set_name(Name);
  onnx::TypeProto_Tensor *T = Info.mutable_type()->mutable_tensor_type();
  T->set_elem_type(Elem);
  onnx::TensorShapeProto *S = T->mutable_shape();
  for (int64_t D : Dims)
    S->add_dim()->set_dim_value(D);
}

void onnx_export::setInt(onnx::NodeProto &N, llvm::StringRef Name, int64_t V) {
  onnx::AttributeProto *A = N.add_attribute();
  A->set_name(Name.str());
  A->set_type(onnx::AttributeProto::INT);
  A->set_i(V);
}

void onnx_export::setFloat(onnx::NodeProto &N, llvm::StringRef Name, float V) {
  onnx::AttributeProto *A = N.add_attribute();
  A->set_name(Name.str());
  A->set_type(onnx::AttributeProto::FLOAT);
  A->set_f(V);
}

void onnx_export::setInts(onnx::NodeProto &N, llvm::StringRef Name,
                          llvm::ArrayRef<int64_t> V) {
  onnx::AttributeProto *A = N.add_attribute();
  A->set_name(Name.str());
  A->set_type(onnx::AttributeProto::INTS);
  for (int64_t X : V)
    A->add_ints(X);
}
