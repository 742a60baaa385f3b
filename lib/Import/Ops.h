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

#include <functional>

namespace nnc::onnx_import {

using OpRegistry = llvm::StringMap<OpHandler>;

void registerElementwiseOps(OpRegistry &R);
void registerArithmeticOps(OpRegistry &R);
void registerShapeOps(OpRegistry &R);
void registerTensorOps(OpRegistry &R);
void registerRepeatOps(OpRegistry &R);
void registerReduceOps(OpRegistry &R);
void registerNNOps(OpRegistry &R);
void registerConvOps(OpRegistry &R);
void registerPoolOps(OpRegistry &R);
void registerPadOps(OpRegistry &R);
void registerGatherOps(OpRegistry &R);
void registerConvTransposeOps(OpRegistry &R);

/// The spatial attributes of a convolution or pool node: per spatial axis
/// the kernel size, stride, dilation and the padding before and after.
struct Window {
  std::vector<int64_t> Kernel, Strides, Dilations, Begin, End;
};
/// The node's strides, dilations and pads (auto_pad resolved) for x of
/// dims `XDims` and a kernel of `Kernel` (OpsConv.cpp).
llvm::Expected<Window> windowOf(Importer &I, const Shape &XDims,
                                const std::vector<int64_t> &Kernel);
/// X (of dims `Dims`) with `Before` and `After` elements of `Fill` joined
/// along `Axis`; updates `Dims`. `Fill` is a number, or "edge"/"reflect"
/// (OpsPad.cpp).
std::string padAxis(Importer &I, const std::string &X, Shape &Dims,
                    int64_t Axis, int64_t Before, int64_t After,
                    const std::string &Fill, bool IsInt);

/// Output 0 is `X` cast to `Elem` (Cast, CastLike).
llvm::Error castTo(Importer &I, Value &X, OnnxType Elem);
/// Output 0 is Gather of `X` at indices `Idx` computed at run time, along
/// `Axis` (OpsGather.cpp).
llvm::Error gatherComputedIndices(Importer &I, Value &X, Value &Idx,
                                  int64_t Axis);

/// A reference that may be repeated in an expression as it is: a name or
/// a number, not a compound expression.
bool isSimpleRef(llvm::StringRef Ref);

/// The data of a constant `X` rearranged: element I of the result (of
/// dims `Out`) is X's element `From(I's coordinates)` (a flat index).
std::vector<double>
remap(const Value &X, const Shape &Out,
      const std::function<int64_t(const std::vector<int64_t> &)> &From);
/// The flat (row-major) index of `Coord` in a tensor of dims `Dims`.
int64_t flatIndex(const Shape &Dims, const std::vector<int64_t> &Coord);

/// Normalizes `Axis` of a rank-`Rank` tensor (negative counts from the
/// end); an error names the axis and the rank.
llvm::Expected<int64_t> normAxis(Importer &I, int64_t Axis, int64_t Rank);

} // namespace nnc::onnx_import

#endif
