//===- OpsRepeat.cpp - ONNX operators that repeat or rearrange ------------===//
//
// Expand is `broadcast`; Tile joins copies along each axis; DepthToSpace
// and SpaceToDepth are a reshape, a permute and a reshape; OneHot scales
// `one_hot` to its two values; EyeLike is a constant. Each folds when its
// operand is a constant.
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

#include <functional>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

namespace {

Error opExpand(Importer &I) {
  if (Error E = I.checkAttrs({}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<std::vector<int64_t>> S = I.intsIn(1, "shape");
  if (!S)
    return S.takeError();
  // ONNX broadcasts both ways: a 1 in the shape keeps x's dimension.
  std::optional<Shape> Out =
      broadcastShapes((*X)->Dims, Shape(S->begin(), S->end()));
  if (!Out)
    return I.fail("cannot expand " + dimsText((*X)->Dims) + " to " +
                  dimsText(*S));
  if ((*X)->isConst() && foldable(*Out)) {
    Value Xc = **X;
    Shape In = Xc.Dims;
    size_t Lead = Out->size() - In.size();
    return I.defineConst(0, Xc.Elem, *Out,
                         remap(Xc, *Out, [&](const std::vector<int64_t> &C) {
                           std::vector<int64_t> Src;
                           for (size_t K = 0; K < In.size(); ++K)
                             Src.push_back(In[K] == 1 ? 0 : C[K + Lead]);
                           return flatIndex(In, Src);
                         }));
  }
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  if (*Out == (*X)->Dims)
    return I.define(0, *XE, (*X)->Elem, *Out);
  return I.define(0, "broadcast(" + *XE + ", " + dimsText(*Out) + ")",
                  (*X)->Elem, *Out);
}

/// Tile: each axis joined with itself `repeats` times.
Error opTile(Importer &I) {
  if (Error E = I.checkAttrs({}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<std::vector<int64_t>> R = I.intsIn(1, "repeats");
  if (!R)
    return R.takeError();
  if (R->size() != (*X)->Dims.size())
    return I.fail("repeats " + dimsText(*R) + " do not match rank " +
                  llvm::Twine((*X)->Dims.size()));
  Shape Out = (*X)->Dims;
  for (size_t K = 0; K < R->size(); ++K) {
    if ((*R)[K] < 1)
      return I.fail("repeats " + dimsText(*R) + " must be positive");
    if (Out[K] > 0 && (*R)[K] > MaxTensorElements / Out[K])
      return I.fail("repeats " + dimsText(*R) + " of " + dimsText(Out) +
                    " make more than 2^40 elements");
    Out[K] *= (*R)[K];
  }
  if ((*X)->isConst() && foldable(Out)) {
    Shape In = (*X)->Dims;
    return I.defineConst(0, (*X)->Elem, Out,
                         remap(**X, Out, [&](const std::vector<int64_t> &C) {
                           std::vector<int64_t> Src = C;
                           for (size_t K = 0; K < In.size(); ++K)
                             Src[K] %= In[K];
                           return flatIndex(In, Src);
                         }));
  }
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  std::string Expr = *XE;
  for (size_t K = 0; K < R->size(); ++K) {
    if ((*R)[K] == 1)
      continue;
    if ((*R)[K] > 256)
      return I.unsupported("more than 256 repeats along an axis");
    std::string Part = isSimpleRef(Expr) ? Expr : I.temp(Expr, "tile");
    Expr = "concat(";
    for (int64_t T = 0; T < (*R)[K]; ++T)
      Expr += Part + ", ";
    Expr += "axis = " + std::to_string(K) + ")";
  }
  return I.define(0, Expr, (*X)->Elem, Out);
}

/// DepthToSpace ([N, C, H, W] -> [N, C/b^2, H b, W b]) and SpaceToDepth:
/// a reshape, a permute and a reshape (DCR or CRD channel order).
Error depthSpace(Importer &I, bool ToSpace) {
  if (Error E = I.checkAttrs({"blocksize", "mode"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  const Shape &D = (*X)->Dims;
  if (D.size() != 4)
    return I.fail("x " + dimsText(D) + " must be [N, C, H, W]");
  Expected<int64_t> B = I.attrInt("blocksize", 0);
  if (!B)
    return B.takeError();
  Expected<std::string> Mode = I.attrString("mode", "DCR");
  if (!Mode)
    return Mode.takeError();
  int64_t N = D[0], C = D[1], H = D[2], W = D[3], S = *B;
  if (S < 1 || (ToSpace && C % (S * S)) || (!ToSpace && (H % S || W % S)))
    return I.fail("blocksize " + llvm::Twine(S) + " does not fit " +
                  dimsText(D));
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  Shape Mid, Out;
  std::vector<int64_t> Perm;
  if (ToSpace) {
    bool Crd = *Mode == "CRD";
    Mid = Crd ? Shape{N, C / (S * S), S, S, H, W}
              : Shape{N, S, S, C / (S * S), H, W};
    Perm = Crd ? std::vector<int64_t>{0, 1, 4, 2, 5, 3}
               : std::vector<int64_t>{0, 3, 4, 1, 5, 2};
    Out = {N, C / (S * S), H * S, W * S};
  } else {
    Mid = {N, C, H / S, S, W / S, S};
    Perm = {0, 3, 5, 1, 2, 4};
    Out = {N, C * S * S, H / S, W / S};
  }
  return I.define(0,
                  "reshape(permute(reshape(" + *XE + ", " + dimsText(Mid) +
                      "), " + dimsText(Perm) + "), " + dimsText(Out) + ")",
                  (*X)->Elem, Out);
}

Error opDepthToSpace(Importer &I) { return depthSpace(I, true); }
Error opSpaceToDepth(Importer &I) { return depthSpace(I, false); }

/// OneHot(indices, depth, [off, on]): one_hot of the (wrapped) indices,
/// scaled to the two values, its class axis moved to `axis`.
Error opOneHot(Importer &I) {
  if (Error E = I.checkAttrs({"axis"}))
    return E;
  Expected<Value *> Idx = I.in(0);
  if (!Idx)
    return Idx.takeError();
  Expected<std::vector<double>> Depth = I.constIn(1, "depth");
  if (!Depth)
    return Depth.takeError();
  Expected<Value *> Vals = I.in(2);
  if (!Vals)
    return Vals.takeError();
  Expected<std::vector<double>> VD = I.constIn(2, "values");
  if (!VD)
    return VD.takeError();
  if (Depth->size() != 1 || VD->size() != 2)
    return I.fail("depth must be one number and values two");
  int64_t N = int64_t(Depth->front());
  if (N < 1)
    return I.fail("depth " + llvm::Twine(N) + " must be positive");
  Shape Out = (*Idx)->Dims;
  int64_t Rank = int64_t(Out.size()) + 1;
  Expected<int64_t> AxisAttr = I.attrInt("axis", -1);
  if (!AxisAttr)
    return AxisAttr.takeError();
  Expected<int64_t> Axis = normAxis(I, *AxisAttr, Rank);
  if (!Axis)
    return Axis.takeError();
  Expected<std::string> IE = I.use(**Idx);
  if (!IE)
    return IE.takeError();
  std::string Ix = (*Idx)->computed() == DType::F32 ? "i32(" + *IE + ")" : *IE;
  Ix = isSimpleRef(Ix) ? Ix : I.temp(Ix, "indices");
  // Negative indices count from the end of the depth.
  std::string Hot = "one_hot((" + Ix + " + " + std::to_string(N) + " * i32(" +
                    Ix + " < 0)), " + std::to_string(N) + ")";
  double Off = (*VD)[0], On = (*VD)[1];
  bool IsInt = (*Vals)->computed() == DType::I32;
  std::string Expr = "(" + Hot + " * " + numberText(On - Off, false) + " + " +
                     numberText(Off, false) + ")";
  if (*Axis != Rank - 1) {
    std::vector<int64_t> P;
    for (int64_t K = 0; K < Rank; ++K)
      P.push_back(K < *Axis ? K : K == *Axis ? Rank - 1 : K - 1);
    Expr = "permute(" + Expr + ", " + dimsText(P) + ")";
  }
  if (IsInt)
    Expr = "i32(" + Expr + ")";
  Out.insert(Out.begin() + *Axis, N);
  return I.define(0, Expr, (*Vals)->Elem, Out);
}

/// EyeLike: ones on the diagonal shifted by k, of the input's shape.
Error opEyeLike(Importer &I) {
  if (Error E = I.checkAttrs({"dtype", "k"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  const Shape &D = (*X)->Dims;
  if (D.size() != 2)
    return I.fail("x " + dimsText(D) + " is no matrix");
  Expected<int64_t> K = I.attrInt("k", 0),
                    Type = I.attrInt("dtype", (*X)->Elem);
  if (!K)
    return K.takeError();
  if (!Type)
    return Type.takeError();
  if (!elemInfo(OnnxType(*Type)))
    return I.unsupported("element type " + onnxTypeName(OnnxType(*Type)));
  if (!foldable(D))
    return I.unsupported("identity matrices of more than 2^24 elements");
  std::vector<double> Eye;
  for (int64_t R = 0; R < D[0]; ++R)
    for (int64_t C = 0; C < D[1]; ++C)
      Eye.push_back(C - R == *K);
  return I.defineConst(0, OnnxType(*Type), D, std::move(Eye));
}

} // namespace

void onnx_import::registerRepeatOps(OpRegistry &R) {
  R["Expand"] = opExpand;
  R["Tile"] = opTile;
  R["DepthToSpace"] = opDepthToSpace;
  R["SpaceToDepth"] = opSpaceToDepth;
  R["OneHot"] = opOneHot;
  R["EyeLike"] = opEyeLike;
}
