//===- OpTable.cpp - Which handler translates which ONNX operator ---------===//
//
// The registry of every ONNX operator nnc imports, filled once by the
// operator groups (Ops.h), and the helpers they share.
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

#include <llvm/ADT/StringExtras.h>

using namespace nnc;
using namespace nnc::onnx_import;

OpHandler onnx_import::findHandler(llvm::StringRef OpType) {
  static const OpRegistry Registry = [] {
    OpRegistry R;
    registerElementwiseOps(R);
    registerArithmeticOps(R);
    registerShapeOps(R);
    registerTensorOps(R);
    registerReduceOps(R);
    registerNNOps(R);
    registerConvOps(R);
    registerGatherOps(R);
    registerConvTransposeOps(R);
    return R;
  }();
  auto It = Registry.find(OpType);
  return It == Registry.end() ? nullptr : It->second;
}

bool onnx_import::isSimpleRef(llvm::StringRef Ref) {
  if (Ref.empty())
    return false;
  if (Ref.front() == '`')
    return Ref.find('`', 1) == Ref.size() - 1;
  if (Ref.front() == '(') // a negative number, "(-2.5)"
    return Ref.size() > 2 && Ref[1] == '-' &&
           llvm::all_of(Ref.drop_front(2).drop_back(), [](char C) {
             return llvm::isAlnum(C) || C == '.' || C == '+' || C == '-';
           });
  return llvm::all_of(Ref, [](char C) {
    return llvm::isAlnum(C) || C == '_' || C == '.' || C == '+' || C == '-';
  });
}

llvm::Expected<int64_t> onnx_import::normAxis(Importer &I, int64_t Axis,
                                              int64_t Rank) {
  if (Axis < -Rank || Axis >= Rank)
    return I.fail("axis " + llvm::Twine(Axis) + " is out of range for rank " +
                  llvm::Twine(Rank));
  return Axis < 0 ? Axis + Rank : Axis;
}
