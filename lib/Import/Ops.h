//===- Ops.h - The ONNX operator handlers ---------------------------------===//
//
// Each Ops*.cpp file registers the handlers of one group of operators in
// the registry that OpTable.cpp builds once; docs/onnx.md lists every
// operator with its `.nn` translation. Helpers shared by the groups live
// here.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_IMPORT_OPS_H
#define NNC_LIB_IMPORT_OPS_H

#include "Importer.h"

#include <llvm/ADT/StringMap.h>

namespace nnc::onnx_import {

using OpRegistry = llvm::StringMap<OpHandler>;

void registerElementwiseOps(OpRegistry &R);
void registerArithmeticOps(OpRegistry &R);
void registerShapeOps(OpRegistry &R);
void registerTensorOps(OpRegistry &R);
void registerReduceOps(OpRegistry &R);
void registerNNOps(OpRegistry &R);
void registerConvOps(OpRegistry &R);
void registerGatherOps(OpRegistry &R);
void registerConvTransposeOps(OpRegistry &R);

/// Output 0 is `X` cast to `Elem` (Cast, CastLike).
llvm::Error castTo(Importer &I, Value &X, OnnxType Elem);
/// Output 0 is Gather of `X` at indices `Idx` computed at run time, along
/// `Axis` (OpsGather.cpp).
llvm::Error gatherComputedIndices(Importer &I, Value &X, Value &Idx,
                                  int64_t Axis);

/// A reference that may be repeated in an expression as it is: a name or
/// a number, not a compound expression.
bool isSimpleRef(llvm::StringRef Ref);

/// Normalizes `Axis` of a rank-`Rank` tensor (negative counts from the
/// end); an error names the axis and the rank.
llvm::Expected<int64_t> normAxis(Importer &I, int64_t Axis, int64_t Rank);

} // namespace nnc::onnx_import

#endif
