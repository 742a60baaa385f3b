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
    registerRepeatOps(R);
    registerReduceOps(R);
    registerNNOps(R);
    registerConvOps(R);
    registerPoolOps(R);
    registerPadOps(R);
    registerGatherOps(R);
    registerConvTransposeOps(R);
    return R;
  }();
  auto It = Registry.find(OpType);
  return It == Registry.end() ? nullptr : It->second;
}

std::vector<double> onnx_import::remap(
    const Value &X, const Shape &Out,
    const std::function<int64_t(const std::vector<int64_t> &)> &From) {
  int64_t N = 1;
  for (int64_t D : Out)
    N *= D;
  std::vector<double> D(N);
  std::vector<int64_t> Coord(Out.size(), 0);
  for (size_t I = 0; I < D.size(); ++I) {
    D[I] = (*X.Data)[From(Coord)];
    for (size_t K = Out.size(); K-- > 0;) {
      if (++Coord[K] < Out[K])
        break;
      Coord[K] = 0;
    }
  }
  return D;
}

int64_t onnx_import::flatIndex(const Shape &Dims,
                               const std::vector<int64_t> &Coord) {
  int64_t F = 0;
  for (size_t K = 0; K < Dims.size(); ++K)
    F = F * Dims[K] + Coord[K];
  return F;
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
