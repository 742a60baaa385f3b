//===- OpsShape.cpp - ONNX operators that move data or make constants -----===//
//
// Identity and inference-mode Dropout pass their input on; Constant,
// ConstantOfShape, Shape and Size make values known at import time;
// Reshape, Flatten, Squeeze and Unsqueeze are `reshape`s (of a constant:
// the same data under new dims); Cast converts between f32 and i32 (and
// to bool as `x != 0`). Shapes and axes that ONNX passes as inputs from
// opset 13 on (Squeeze, Unsqueeze) or always (Reshape) must be known at
// import time.
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

#include <cmath>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

namespace {

constexpr OnnxType Bool = onnx::TensorProto_DataType_BOOL;
constexpr OnnxType Int64 = onnx::TensorProto_DataType_INT64;

/// Output 0 is input 0 with dims `Dims` (a reshape; data kept for a
/// constant).
Error reshapeTo(Importer &I, const Shape &Dims) {
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  int64_t N = 1;
  for (int64_t D : Dims)
    N *= D;
  if (N != (*X)->numel())
    return I.fail("cannot reshape " + dimsText((*X)->Dims) + " (" +
                  llvm::Twine((*X)->numel()) + " elements) to " +
                  dimsText(Dims));
  if ((*X)->isConst())
    return I.defineConst(0, (*X)->Elem, Dims, *(*X)->Data);
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  if (Dims == (*X)->Dims)
    return I.define(0, *XE, (*X)->Elem, Dims);
  return I.define(0, "reshape(" + *XE + ", " + dimsText(Dims) + ")", (*X)->Elem,
                  Dims);
}

Error opIdentity(Importer &I) {
  if (Error E = I.checkAttrs({}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  return I.alias(0, **X);
}

/// At inference Dropout passes x on; its mask output is all true.
Error opDropout(Importer &I) {
  if (Error E = I.checkAttrs({"ratio", "is_test", "seed", "consumed_inputs"}))
    return E;
  // training_mode (opset 12 on) must be false when given.
  if (I.has(2)) {
    Expected<std::vector<double>> Train = I.constIn(2, "training_mode");
    if (!Train)
      return Train.takeError();
    if (!Train->empty() && Train->front() != 0)
      return I.unsupported("training_mode = true (nnc imports the "
                           "inference graph)");
  }
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  if (Error E = I.alias(0, **X))
    return E;
  return I.defineFill(1, Bool, (*X)->Dims, 1.0);
}

Error opConstant(Importer &I) {
  for (const onnx::AttributeProto &A : I.node().attribute()) {
    OnnxType Elem;
    Shape Dims;
    std::vector<double> Data;
    if (A.name() == "value") {
      if (Error E = decodeTensor(A.t(), Elem, Dims, Data))
        return I.fail("its value: " + llvm::toString(std::move(E)));
    } else if (A.name() == "value_float") {
      Elem = onnx::TensorProto_DataType_FLOAT;
      Data = {double(A.f())};
    } else if (A.name() == "value_floats") {
      Elem = onnx::TensorProto_DataType_FLOAT;
      Data.assign(A.floats().begin(), A.floats().end());
      Dims = {int64_t(Data.size())};
    } else if (A.name() == "value_int") {
      Elem = Int64;
      Data = {double(A.i())};
    } else if (A.name() == "value_ints") {
      Elem = Int64;
      for (int64_t V : A.ints())
        Data.push_back(double(V));
      Dims = {int64_t(Data.size())};
    } else {
      return I.unsupported("attribute '" + A.name() + "' is not implemented");
    }
    if (!elemInfo(Elem))
      return I.unsupported("element type " + onnxTypeName(Elem));
    return I.defineConst(0, Elem, Dims, std::move(Data));
  }
  return I.fail("it has no value attribute");
}

Error opConstantOfShape(Importer &I) {
  if (Error E = I.checkAttrs({"value"}))
    return E;
  Expected<std::vector<int64_t>> Dims = I.intsIn(0, "shape");
  if (!Dims)
    return Dims.takeError();
  OnnxType Elem = onnx::TensorProto_DataType_FLOAT;
  double Fill = 0;
  if (const onnx::AttributeProto *A = I.attr("value")) {
    Shape D;
    std::vector<double> Data;
    if (Error E = decodeTensor(A->t(), Elem, D, Data))
      return I.fail("its value: " + llvm::toString(std::move(E)));
    if (Data.size() != 1)
      return I.fail("its value must hold one element");
    Fill = Data[0];
  }
  int64_t N = 1;
  for (int64_t D : *Dims) {
    if (D < 0 || (D > 0 && N > MaxTensorElements / D))
      return I.fail("shape " + dimsText(*Dims) + " is invalid or too large");
    N *= D;
  }
  return I.defineFill(0, Elem, Shape(Dims->begin(), Dims->end()), Fill);
}

/// The input's dims (opset 15: the `start`/`end` range of them).
Error opShape(Importer &I) {
  if (Error E = I.checkAttrs({"start", "end"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  int64_t Rank = int64_t((*X)->Dims.size());
  Expected<int64_t> Start = I.attrInt("start", 0);
  if (!Start)
    return Start.takeError();
  Expected<int64_t> End = I.attrInt("end", Rank);
  if (!End)
    return End.takeError();
  auto Clamp = [&](int64_t V) {
    V = V < 0 ? V + Rank : V;
    return std::max<int64_t>(0, std::min(V, Rank));
  };
  std::vector<double> Dims;
  for (int64_t K = Clamp(*Start); K < Clamp(*End); ++K)
    Dims.push_back(double((*X)->Dims[K]));
  Shape Out = {int64_t(Dims.size())};
  return I.defineConst(0, Int64, Out, std::move(Dims));
}

Error opSize(Importer &I) {
  if (Error E = I.checkAttrs({}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  return I.defineConst(0, Int64, {}, {double((*X)->numel())});
}

/// Reshape's shape: 0 copies the input's dim (unless allowzero), -1 is
/// inferred.
Error opReshape(Importer &I) {
  if (Error E = I.checkAttrs({"allowzero", "shape", "consumed_inputs"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  std::vector<int64_t> Spec;
  if (I.opset() < 5) {
    Expected<std::optional<std::vector<int64_t>>> A = I.attrInts("shape");
    if (!A)
      return A.takeError();
    Spec = A->value_or(std::vector<int64_t>{});
  } else {
    Expected<std::vector<int64_t>> S = I.intsIn(1, "shape");
    if (!S)
      return S.takeError();
    Spec = *S;
  }
  Expected<int64_t> AllowZero = I.attrInt("allowzero", 0);
  if (!AllowZero)
    return AllowZero.takeError();
  Shape Dims;
  int64_t Known = 1, Infer = -1;
  for (size_t K = 0; K < Spec.size(); ++K) {
    int64_t D = Spec[K];
    if (D == 0 && !*AllowZero) {
      if (K >= (*X)->Dims.size())
        return I.fail("shape " + dimsText(Spec) + " copies dimension " +
                      llvm::Twine(K) + " of " + dimsText((*X)->Dims));
      D = (*X)->Dims[K];
    }
    if (D == -1) {
      if (Infer >= 0)
        return I.fail("shape " + dimsText(Spec) + " has two -1s");
      Infer = int64_t(K);
      D = 1;
    } else if (D <= 0) {
      return I.fail("shape " + dimsText(Spec) + " is invalid");
    } else if (D > MaxTensorElements / Known) {
      // Found by fuzzing: the product overflowed int64.
      return I.fail("shape " + dimsText(Spec) +
                    " is too large (more than "
                    "2^40 elements)");
    } else {
      Known *= D;
    }
    Dims.push_back(D);
  }
  if (Infer >= 0) {
    if (Known == 0 || (*X)->numel() % Known)
      return I.fail("cannot reshape " + dimsText((*X)->Dims) + " to " +
                    dimsText(Spec));
    Dims[Infer] = (*X)->numel() / Known;
  }
  return reshapeTo(I, Dims);
}

/// [d0 ... d(axis-1), d(axis) ... d(n-1)] -> [product, product].
Error opFlatten(Importer &I) {
  if (Error E = I.checkAttrs({"axis"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  int64_t Rank = int64_t((*X)->Dims.size());
  Expected<int64_t> Axis = I.attrInt("axis", 1);
  if (!Axis)
    return Axis.takeError();
  int64_t At = *Axis < 0 ? *Axis + Rank : *Axis;
  if (At < 0 || At > Rank)
    return I.fail("axis " + llvm::Twine(*Axis) + " is out of range for rank " +
                  llvm::Twine(Rank));
  int64_t Outer = 1, Inner = 1;
  for (int64_t K = 0; K < Rank; ++K)
    (K < At ? Outer : Inner) *= (*X)->Dims[K];
  return reshapeTo(I, {Outer, Inner});
}

/// Squeeze/Unsqueeze's axes: the attribute before opset 13, the optional
/// input from 13 on.
Expected<std::optional<std::vector<int64_t>>> axesOf(Importer &I) {
  if (I.opset() < 13)
    return I.attrInts("axes");
  if (!I.has(1))
    return std::nullopt;
  Expected<std::vector<int64_t>> A = I.intsIn(1, "axes");
  if (!A)
    return A.takeError();
  return std::optional<std::vector<int64_t>>(*A);
}

Error opSqueeze(Importer &I) {
  if (Error E = I.checkAttrs({"axes"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<std::optional<std::vector<int64_t>>> Axes = axesOf(I);
  if (!Axes)
    return Axes.takeError();
  int64_t Rank = int64_t((*X)->Dims.size());
  std::vector<bool> Drop(Rank, false);
  if (!*Axes) {
    for (int64_t K = 0; K < Rank; ++K)
      Drop[K] = (*X)->Dims[K] == 1;
  } else {
    for (int64_t A : **Axes) {
      Expected<int64_t> K = normAxis(I, A, Rank);
      if (!K)
        return K.takeError();
      if ((*X)->Dims[*K] != 1)
        return I.fail("cannot squeeze axis " + llvm::Twine(A) + " of " +
                      dimsText((*X)->Dims) + ": its size is not 1");
      Drop[*K] = true;
    }
  }
  Shape Dims;
  for (int64_t K = 0; K < Rank; ++K)
    if (!Drop[K])
      Dims.push_back((*X)->Dims[K]);
  return reshapeTo(I, Dims);
}

Error opUnsqueeze(Importer &I) {
  if (Error E = I.checkAttrs({"axes"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<std::optional<std::vector<int64_t>>> Axes = axesOf(I);
  if (!Axes)
    return Axes.takeError();
  if (!*Axes)
    return I.fail("it has no axes");
  int64_t Rank = int64_t((*X)->Dims.size() + (*Axes)->size());
  std::vector<bool> New(Rank, false);
  for (int64_t A : **Axes) {
    Expected<int64_t> K = normAxis(I, A, Rank);
    if (!K)
      return K.takeError();
    if (New[*K])
      return I.fail("axis " + llvm::Twine(A) + " is given twice");
    New[*K] = true;
  }
  Shape Dims;
  size_t From = 0;
  for (int64_t K = 0; K < Rank; ++K)
    Dims.push_back(New[K] ? 1 : (*X)->Dims[From++]);
  return reshapeTo(I, Dims);
}

/// Cast: f32 <-> i32 by `f32(x)`/`i32(x)` (toward zero), to bool by
/// `x != 0`; floats among themselves and integers among themselves are
/// the same computed values.
Error opCast(Importer &I) {
  if (Error E = I.checkAttrs({"to", "saturate"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<int64_t> To = I.attrInt("to", 0);
  if (!To)
    return To.takeError();
  return castTo(I, **X, OnnxType(*To));
}

} // namespace

Error onnx_import::castTo(Importer &I, Value &X, OnnxType Elem) {
  std::optional<ElemInfo> Info = elemInfo(Elem);
  if (!Info)
    return I.unsupported("casts to " + onnxTypeName(Elem));
  if (X.isConst()) {
    std::vector<double> D = *X.Data;
    for (double &V : D)
      V = Elem == Bool                               ? double(V != 0)
          : Info->Computed == DType::I32             ? std::trunc(V)
          : Elem == onnx::TensorProto_DataType_FLOAT ? double(float(V))
                                                     : V;
    return I.defineConst(0, Elem, X.Dims, std::move(D));
  }
  Expected<std::string> XE = I.use(X);
  if (!XE)
    return XE.takeError();
  if (Elem == Bool && X.Elem != Bool)
    return I.define(0, "(" + *XE + " != 0)", Elem, X.Dims);
  if (Info->Computed == X.computed())
    return I.define(0, *XE, Elem, X.Dims);
  return I.define(0,
                  (Info->Computed == DType::F32 ? "f32(" : "i32(") + *XE + ")",
                  Elem, X.Dims);
}

void onnx_import::registerShapeOps(OpRegistry &R) {
  R["Identity"] = opIdentity;
  R["Dropout"] = opDropout;
  R["Constant"] = opConstant;
  R["ConstantOfShape"] = opConstantOfShape;
  R["Shape"] = opShape;
  R["Size"] = opSize;
  R["Reshape"] = opReshape;
  R["Flatten"] = opFlatten;
  R["Squeeze"] = opSqueeze;
  R["Unsqueeze"] = opUnsqueeze;
  R["Cast"] = opCast;
}
