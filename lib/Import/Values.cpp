//===- Values.cpp - ONNX values and how .nn source refers to them ---------===//
//
// A node's inputs are read through `in`/`use`/`constIn`, its outputs made
// by `define`/`defineConst`/`alias`. A value known at import time is not
// written anywhere until something uses it as a tensor: then a scalar
// becomes a number in the expression, an initializer a `param` (float) or
// `const` (integer) that loads from the weights file, and any other constant
// a `const` with a literal (small, finite values) or loaded from the weights
// file (large ones, and infinities or NaNs, which `.nn` numbers cannot
// spell).
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include <llvm/ADT/StringExtras.h>

#include <cmath>
#include <cstdio>
#include <functional>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

std::optional<ElemInfo> onnx_import::elemInfo(OnnxType T) {
  switch (T) {
  case onnx::TensorProto_DataType_FLOAT:
    return ElemInfo{DType::F32, "f32"};
  case onnx::TensorProto_DataType_DOUBLE:
    return ElemInfo{DType::F32, "f64"};
  case onnx::TensorProto_DataType_FLOAT16:
    return ElemInfo{DType::F32, "f16"};
  case onnx::TensorProto_DataType_BFLOAT16:
    return ElemInfo{DType::F32, "bf16"};
  case onnx::TensorProto_DataType_BOOL:
    return ElemInfo{DType::F32, "bool"};
  case onnx::TensorProto_DataType_INT32:
    return ElemInfo{DType::I32, "i32"};
  case onnx::TensorProto_DataType_INT64:
    return ElemInfo{DType::I32, "i64"};
  case onnx::TensorProto_DataType_INT16:
    return ElemInfo{DType::I32, "i16"};
  case onnx::TensorProto_DataType_INT8:
    return ElemInfo{DType::I32, "i8"};
  case onnx::TensorProto_DataType_UINT8:
    return ElemInfo{DType::I32, "u8"};
  case onnx::TensorProto_DataType_UINT16:
    return ElemInfo{DType::I32, "u16"};
  case onnx::TensorProto_DataType_UINT32:
    return ElemInfo{DType::I32, "u32"};
  case onnx::TensorProto_DataType_UINT64:
    return ElemInfo{DType::I32, "u64"};
  default:
    return std::nullopt;
  }
}

std::string onnx_import::onnxTypeName(OnnxType T) {
  if (onnx::TensorProto_DataType_IsValid(T))
    return onnx::TensorProto_DataType_Name(onnx::TensorProto_DataType(T));
  return "type " + std::to_string(T);
}

bool onnx_import::isFloatType(OnnxType T) {
  return T == onnx::TensorProto_DataType_FLOAT ||
         T == onnx::TensorProto_DataType_DOUBLE ||
         T == onnx::TensorProto_DataType_FLOAT16 ||
         T == onnx::TensorProto_DataType_BFLOAT16;
}

DType Value::computed() const {
  std::optional<ElemInfo> I = elemInfo(Elem);
  return I ? I->Computed : DType::F32;
}

bool onnx_import::foldable(llvm::ArrayRef<int64_t> Dims) {
  int64_t N = 1;
  for (int64_t D : Dims) {
    if (D < 0 || (D > 0 && N > MaxFolded / D))
      return false;
    N *= D;
  }
  return N <= MaxFolded;
}

int64_t Value::numel() const {
  int64_t N = 1;
  for (int64_t D : Dims)
    N *= D;
  return N;
}

std::string onnx_import::numberText(double V, bool Integer) {
  char Buf[40];
  if (Integer)
    std::snprintf(Buf, sizeof(Buf), "%lld", (long long)V);
  else
    std::snprintf(Buf, sizeof(Buf), "%.9g", V);
  std::string S = Buf;
  // A float keeps a '.' or an exponent, so it stays a float literal.
  if (!Integer && S.find_first_of(".e") == std::string::npos)
    S += ".0";
  return V < 0 ? "(" + S + ")" : S;
}

std::string onnx_import::dimsText(llvm::ArrayRef<int64_t> Dims) {
  std::string S = "[";
  for (size_t K = 0; K < Dims.size(); ++K)
    S += (K ? ", " : "") + std::to_string(Dims[K]);
  return S + "]";
}

std::string onnx_import::literalText(const std::vector<double> &Data,
                                     const Shape &Dims, bool Integer) {
  if (Dims.empty())
    return numberText(Data.at(0), Integer);
  std::string S;
  size_t Next = 0;
  std::function<void(size_t)> Emit = [&](size_t Depth) {
    S += '[';
    for (int64_t K = 0; K < Dims[Depth]; ++K) {
      if (K)
        S += ", ";
      if (Depth + 1 == Dims.size()) {
        std::string N = numberText(Data[Next++], Integer);
        // Inside a list a negative number needs no parentheses.
        if (N.front() == '(')
          N = N.substr(1, N.size() - 2);
        S += N;
      } else {
        Emit(Depth + 1);
      }
    }
    S += ']';
  };
  Emit(0);
  return S;
}

bool Importer::has(unsigned K) const {
  return K < unsigned(Node->input_size()) && !Node->input(int(K)).empty();
}

bool Importer::hasOutput(unsigned K) const {
  return K < unsigned(Node->output_size()) && !Node->output(int(K)).empty();
}

Expected<Value *> Importer::in(unsigned K) {
  if (!has(K))
    return fail("input " + llvm::Twine(K) + " is missing");
  return &Values.at(Node->input(int(K)));
}

Expected<std::vector<double>> Importer::constIn(unsigned K,
                                                llvm::StringRef What) {
  Expected<Value *> V = in(K);
  if (!V)
    return V.takeError();
  if (!(*V)->isConst())
    return fail("its " + What + " ('" + (*V)->OnnxName +
                "') must be known when the model is compiled (an "
                "initializer, a Constant or computed from those)");
  return *(*V)->Data;
}

Expected<std::vector<int64_t>> Importer::intsIn(unsigned K,
                                                llvm::StringRef What) {
  Expected<std::vector<double>> D = constIn(K, What);
  if (!D)
    return D.takeError();
  std::vector<int64_t> Out;
  for (double X : *D) {
    if (X != std::floor(X) || std::fabs(X) > 9.2e18)
      return fail("its " + What + " holds " + numberText(X, false) +
                  ", which is not an integer");
    Out.push_back(int64_t(X));
  }
  return Out;
}

Error Importer::declareConst(Value &V) {
  std::optional<ElemInfo> Info = elemInfo(V.Elem);
  if (!Info)
    return fail("value '" + V.OnnxName + "' has element type " +
                onnxTypeName(V.Elem) + ", which nnc does not support");
  for (int64_t D : V.Dims)
    if (D <= 0)
      return fail("value '" + V.OnnxName + "' is an empty tensor " +
                  dimsText(V.Dims) + "; nnc needs sizes of at least 1");
  bool IsInt = Info->Computed == DType::I32;
  const std::vector<double> &Data = *V.Data;
  bool Finite = true;
  for (double X : Data) {
    Finite &= std::isfinite(X);
    if (IsInt && (X < INT32_MIN || X > INT32_MAX))
      return fail("value '" + V.OnnxName + "' holds " + numberText(X, true) +
                  ", which does not fit nnc's i32");
  }
  std::string Type = std::string(IsInt ? "i32" : "f32") + dimsText(V.Dims);
  V.Ref = V.NnName;
  // Small finite non-weights read best as literals.
  if (!V.Initializer && Finite && Data.size() <= 16) {
    line("const " + V.NnName + " : " + Type + " = " +
         literalText(Data, V.Dims, IsInt));
    return Error::success();
  }
  // The weights file is keyed by the unquoted name, as Sema names leaves.
  std::string Key = V.NnName.front() == '`'
                        ? V.NnName.substr(1, V.NnName.size() - 2)
                        : V.NnName;
  Tensor T(TensorType(Info->Computed, V.Dims));
  for (size_t K = 0; K < Data.size(); ++K)
    T.set(int64_t(K), Data[K]);
  Result.Weights.emplace_back(Key, std::move(T));
  bool Param = V.Initializer && !IsInt;
  line(std::string(Param ? "param " : "const ") + V.NnName + " : " + Type +
       " = load(\"" + WeightsFile + "\")");
  return Error::success();
}

Expected<std::string> Importer::use(Value &V) {
  if (!V.Ref.empty())
    return V.Ref;
  if (!V.isConst())
    return fail("value '" + V.OnnxName + "' was never computed");
  // A finite scalar constant is a number in the expression.
  if (V.Dims.empty() && !V.Initializer && std::isfinite(V.Data->at(0)) &&
      elemInfo(V.Elem)) {
    bool IsInt = V.computed() == DType::I32;
    if (!IsInt || std::fabs(V.Data->at(0)) <= INT32_MAX) {
      V.Ref = numberText(V.Data->at(0), IsInt);
      return V.Ref;
    }
  }
  if (Error E = declareConst(V))
    return std::move(E);
  return V.Ref;
}

Expected<std::string> Importer::constant(OnnxType Elem, const Shape &Dims,
                                         std::vector<double> Data,
                                         llvm::StringRef Hint) {
  auto V = std::make_unique<Value>();
  V->Elem = Elem;
  V->Dims = Dims;
  V->Data = std::move(Data);
  std::string Base = Node->output_size() && !Node->output(0).empty()
                         ? Node->output(0)
                         : "t" + std::to_string(NodeIndex);
  V->OnnxName = Base + "." + Hint.str();
  V->NnName = uniqueName(V->OnnxName);
  Made.push_back(std::move(V));
  return use(*Made.back());
}

Expected<std::string> Importer::useIn(unsigned K) {
  Expected<Value *> V = in(K);
  if (!V)
    return V.takeError();
  return use(**V);
}

Value &Importer::output(unsigned K, OnnxType Elem, const Shape &Dims) {
  Value &V = Values.at(Node->output(int(K)));
  V.Elem = Elem;
  V.Dims = Dims;
  return V;
}

Error Importer::define(unsigned K, const std::string &Expr, OnnxType Elem,
                       const Shape &Dims) {
  if (!hasOutput(K))
    return Error::success();
  for (int64_t D : Dims)
    if (D <= 0)
      return fail("its output would be an empty tensor " + dimsText(Dims) +
                  "; nnc needs sizes of at least 1");
  Value &V = output(K, Elem, Dims);
  line(V.NnName + " = " + Expr);
  V.Ref = V.NnName;
  return Error::success();
}

Error Importer::defineConst(unsigned K, OnnxType Elem, const Shape &Dims,
                            std::vector<double> Data) {
  if (!hasOutput(K))
    return Error::success();
  Value &V = output(K, Elem, Dims);
  V.Data = std::move(Data);
  return Error::success();
}

Error Importer::defineFill(unsigned K, OnnxType Elem, const Shape &Dims,
                           double Fill) {
  if (!hasOutput(K))
    return Error::success();
  if (foldable(Dims)) {
    int64_t N = 1;
    for (int64_t D : Dims)
      N *= D;
    return defineConst(K, Elem, Dims, std::vector<double>(N, Fill));
  }
  if (!std::isfinite(Fill))
    return unsupported("a fill with NaN or an infinity of more than 2^24 "
                       "elements (the source has no literal for it)");
  std::optional<ElemInfo> Info = elemInfo(Elem);
  if (!Info)
    return unsupported("element type " + onnxTypeName(Elem));
  std::string Full =
      "full(" + dimsText(Dims) + ", " + numberText(Fill, false) + ")";
  return define(K, Info->Computed == DType::I32 ? "i32(" + Full + ")" : Full,
                Elem, Dims);
}

Error Importer::alias(unsigned K, const Value &From) {
  if (!hasOutput(K))
    return Error::success();
  Value &V = output(K, From.Elem, From.Dims);
  V.Ref = From.Ref;
  V.Data = From.Data;
  V.Initializer = From.Ref.empty() && From.Initializer;
  if (V.Ref.empty() && !V.Data)
    return fail("value '" + From.OnnxName + "' was never computed");
  // An alias of a not yet declared initializer or constant is a constant
  // of its own (declared under its own name at its first use).
  return Error::success();
}
