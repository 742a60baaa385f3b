//===- OpsTensor.cpp - ONNX operators that select parts of tensors --------===//
//
// Transpose is `permute`; Concat `concat`; Split and Slice (step 1) are
// `slice`s; Gather with indices known at import time is slices joined by
// `concat` (computed indices: OpsGather.cpp). Each folds when its operands
// are constants.
//
//===----------------------------------------------------------------------===//
#include "Ops.h"

#include <functional>
#include <numeric>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

namespace {

Error opTranspose(Importer &I) {
  if (Error E = I.checkAttrs({"perm"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  int64_t Rank = int64_t((*X)->Dims.size());
  Expected<std::optional<std::vector<int64_t>>> P = I.attrInts("perm");
  if (!P)
    return P.takeError();
  std::vector<int64_t> Perm(Rank);
  for (int64_t K = 0; K < Rank; ++K)
    Perm[K] = Rank - 1 - K; // default: reverse the axes
  if (*P)
    Perm = **P;
  std::vector<bool> Seen(Rank, false);
  if (int64_t(Perm.size()) != Rank)
    return I.fail("perm " + dimsText(Perm) + " does not permute the " +
                  llvm::Twine(Rank) + " axes");
  Shape Out;
  for (int64_t &A : Perm) {
    if (A < 0)
      A += Rank;
    if (A < 0 || A >= Rank || Seen[A])
      return I.fail("perm is not a permutation of the axes");
    Seen[A] = true;
    Out.push_back((*X)->Dims[A]);
  }
  if ((*X)->isConst() && foldable(Out)) {
    Shape In = (*X)->Dims;
    return I.defineConst(0, (*X)->Elem, Out,
                         remap(**X, Out, [&](const std::vector<int64_t> &C) {
                           std::vector<int64_t> Src(Rank);
                           for (int64_t K = 0; K < Rank; ++K)
                             Src[Perm[K]] = C[K];
                           return flatIndex(In, Src);
                         }));
  }
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  return I.define(0, "permute(" + *XE + ", " + dimsText(Perm) + ")", (*X)->Elem,
                  Out);
}

Error opConcat(Importer &I) {
  if (Error E = I.checkAttrs({"axis"}))
    return E;
  if (I.numInputs() == 0)
    return I.fail("it has no inputs");
  Expected<Value *> First = I.in(0);
  if (!First)
    return First.takeError();
  int64_t Rank = int64_t((*First)->Dims.size());
  // Opsets before 4 default to axis 1.
  Expected<int64_t> AxisAttr = I.attrInt("axis", I.opset() < 4 ? 1 : 0);
  if (!AxisAttr)
    return AxisAttr.takeError();
  Expected<int64_t> Axis = normAxis(I, *AxisAttr, Rank);
  if (!Axis)
    return Axis.takeError();
  std::vector<Value *> Parts;
  Shape Out = (*First)->Dims;
  Out[*Axis] = 0;
  bool AllConst = true;
  for (unsigned K = 0; K < I.numInputs(); ++K) {
    Expected<Value *> V = I.in(K);
    if (!V)
      return V.takeError();
    const Shape &D = (*V)->Dims;
    bool Fits = int64_t(D.size()) == Rank;
    for (int64_t A = 0; Fits && A < Rank; ++A)
      Fits = A == *Axis || D[A] == (*First)->Dims[A];
    if (!Fits)
      return I.fail("cannot join " + dimsText((*First)->Dims) + " and " +
                    dimsText(D) + " along axis " + llvm::Twine(*Axis));
    Out[*Axis] += D[*Axis];
    AllConst &= (*V)->isConst();
    Parts.push_back(*V);
  }
  if (Parts.size() == 1)
    return I.alias(0, *Parts[0]);
  if (AllConst && foldable(Out)) {
    // Outer blocks, each the parts' blocks in turn.
    int64_t Outer = std::accumulate(Out.begin(), Out.begin() + *Axis,
                                    int64_t(1), std::multiplies<int64_t>());
    std::vector<double> D;
    for (int64_t O = 0; O < Outer; ++O)
      for (Value *P : Parts) {
        int64_t Block = P->numel() / Outer;
        D.insert(D.end(), P->Data->begin() + O * Block,
                 P->Data->begin() + (O + 1) * Block);
      }
    return I.defineConst(0, (*First)->Elem, Out, std::move(D));
  }
  std::string Expr = "concat(";
  for (Value *P : Parts) {
    Expected<std::string> E = I.use(*P);
    if (!E)
      return E.takeError();
    Expr += *E + ", ";
  }
  return I.define(0, Expr + "axis = " + std::to_string(*Axis) + ")",
                  (*First)->Elem, Out);
}

/// `x[..., Start:Start+Len, ...]` along Axis, as an expression (or a
/// folded constant through `Data`).
std::string sliceExpr(const std::string &X, int64_t Axis, int64_t Start,
                      int64_t End, int64_t Dim) {
  if (Start == 0 && End == Dim)
    return X;
  return "slice(" + X + ", " + std::to_string(Axis) + ", " +
         std::to_string(Start) + ", " + std::to_string(End) + ")";
}

/// Output K = input 0's [Start, End) along Axis.
Error defineSlice(Importer &I, unsigned K, Value &X, int64_t Axis,
                  int64_t Start, int64_t End) {
  Shape Out = X.Dims;
  Out[Axis] = End - Start;
  if (X.isConst() && foldable(Out)) {
    Shape In = X.Dims;
    return I.defineConst(K, X.Elem, Out,
                         remap(X, Out, [&](const std::vector<int64_t> &C) {
                           std::vector<int64_t> Src = C;
                           Src[Axis] += Start;
                           return flatIndex(In, Src);
                         }));
  }
  Expected<std::string> XE = I.use(X);
  if (!XE)
    return XE.takeError();
  return I.define(K, sliceExpr(*XE, Axis, Start, End, X.Dims[Axis]), X.Elem,
                  Out);
}

Error opSplit(Importer &I) {
  if (Error E = I.checkAttrs({"axis", "split", "num_outputs"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<int64_t> AxisAttr = I.attrInt("axis", 0);
  if (!AxisAttr)
    return AxisAttr.takeError();
  Expected<int64_t> Axis = normAxis(I, *AxisAttr, int64_t((*X)->Dims.size()));
  if (!Axis)
    return Axis.takeError();
  int64_t Dim = (*X)->Dims[*Axis];
  std::vector<int64_t> Sizes;
  if (I.opset() >= 13 && I.has(1)) {
    Expected<std::vector<int64_t>> S = I.intsIn(1, "split");
    if (!S)
      return S.takeError();
    Sizes = *S;
  } else if (I.opset() < 13) {
    Expected<std::optional<std::vector<int64_t>>> S = I.attrInts("split");
    if (!S)
      return S.takeError();
    if (*S)
      Sizes = **S;
    else if (I.opset() < 2 && I.has(1)) {
      Expected<std::vector<int64_t>> In = I.intsIn(1, "split");
      if (!In)
        return In.takeError();
      Sizes = *In;
    }
  }
  unsigned N = unsigned(I.node().output_size());
  if (Sizes.empty()) {
    if (N == 0 || Dim % N)
      return I.fail("cannot split " + llvm::Twine(Dim) + " into " +
                    llvm::Twine(N) + " equal parts");
    Sizes.assign(N, Dim / N);
  }
  if (Sizes.size() != N ||
      std::accumulate(Sizes.begin(), Sizes.end(), int64_t(0)) != Dim)
    return I.fail("split sizes " + dimsText(Sizes) + " do not divide " +
                  llvm::Twine(Dim) + " among " + llvm::Twine(N) + " outputs");
  int64_t Start = 0;
  for (unsigned K = 0; K < N; ++K) {
    if (Sizes[K] <= 0)
      return I.fail("split sizes " + dimsText(Sizes) + " hold an empty part");
    if (Error E = defineSlice(I, K, **X, *Axis, Start, Start + Sizes[K]))
      return E;
    Start += Sizes[K];
  }
  return Error::success();
}

/// Slice: starts/ends/axes/steps (attributes before opset 10, inputs
/// after), clamped as ONNX says; a step other than 1 is not supported.
Error opSlice(Importer &I) {
  if (Error E = I.checkAttrs({"starts", "ends", "axes"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  int64_t Rank = int64_t((*X)->Dims.size());
  std::vector<int64_t> Starts, Ends, Axes, Steps;
  if (I.opset() < 10) {
    for (auto [Name, Into] :
         {std::pair<const char *, std::vector<int64_t> *>{"starts", &Starts},
          {"ends", &Ends},
          {"axes", &Axes}}) {
      Expected<std::optional<std::vector<int64_t>>> A = I.attrInts(Name);
      if (!A)
        return A.takeError();
      if (*A)
        *Into = **A;
    }
  } else {
    Expected<std::vector<int64_t>> S = I.intsIn(1, "starts");
    if (!S)
      return S.takeError();
    Expected<std::vector<int64_t>> E = I.intsIn(2, "ends");
    if (!E)
      return E.takeError();
    Starts = *S;
    Ends = *E;
    if (I.has(3)) {
      Expected<std::vector<int64_t>> A = I.intsIn(3, "axes");
      if (!A)
        return A.takeError();
      Axes = *A;
    }
    if (I.has(4)) {
      Expected<std::vector<int64_t>> St = I.intsIn(4, "steps");
      if (!St)
        return St.takeError();
      Steps = *St;
    }
  }
  if (Axes.empty())
    for (size_t K = 0; K < Starts.size(); ++K)
      Axes.push_back(int64_t(K));
  if (Steps.empty())
    Steps.assign(Starts.size(), 1);
  if (Ends.size() != Starts.size() || Axes.size() != Starts.size() ||
      Steps.size() != Starts.size())
    return I.fail("starts, ends, axes and steps differ in length");
  // One slice per axis, applied in turn.
  std::vector<std::tuple<int64_t, int64_t, int64_t>> Cuts;
  for (size_t K = 0; K < Starts.size(); ++K) {
    Expected<int64_t> A = normAxis(I, Axes[K], Rank);
    if (!A)
      return A.takeError();
    if (Steps[K] != 1)
      return I.unsupported("steps other than 1");
    int64_t Dim = (*X)->Dims[*A];
    auto Clamp = [&](int64_t V) {
      if (V < 0)
        V += Dim;
      return std::max<int64_t>(0, std::min(V, Dim));
    };
    int64_t S = Clamp(Starts[K]), E = Clamp(Ends[K]);
    if (S >= E)
      return I.fail("its slice " + llvm::Twine(Starts[K]) + ":" +
                    llvm::Twine(Ends[K]) + " of axis " + llvm::Twine(*A) +
                    " is empty; nnc needs sizes of at least 1");
    Cuts.emplace_back(*A, S, E);
  }
  Shape Out = (*X)->Dims;
  for (auto [A, S, E] : Cuts)
    Out[A] = E - S;
  if ((*X)->isConst() && foldable(Out)) {
    Shape In = (*X)->Dims;
    return I.defineConst(0, (*X)->Elem, Out,
                         remap(**X, Out, [&](const std::vector<int64_t> &C) {
                           std::vector<int64_t> Src = C;
                           for (auto [A, S, E] : Cuts)
                             Src[A] += S;
                           return flatIndex(In, Src);
                         }));
  }
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  std::string Expr = *XE;
  for (auto [A, S, E] : Cuts)
    Expr = sliceExpr(Expr, A, S, E, (*X)->Dims[A]);
  return I.define(0, Expr, (*X)->Elem, Out);
}

/// Gather with indices known at import time: the selected slices joined
/// along the axis, then the axis replaced by the indices' dims.
Error opGather(Importer &I) {
  if (Error E = I.checkAttrs({"axis"}))
    return E;
  Expected<Value *> X = I.in(0);
  if (!X)
    return X.takeError();
  Expected<Value *> Idx = I.in(1);
  if (!Idx)
    return Idx.takeError();
  int64_t Rank = int64_t((*X)->Dims.size());
  Expected<int64_t> AxisAttr = I.attrInt("axis", 0);
  if (!AxisAttr)
    return AxisAttr.takeError();
  Expected<int64_t> Axis = normAxis(I, *AxisAttr, Rank);
  if (!Axis)
    return Axis.takeError();
  if (!(*Idx)->isConst())
    return gatherComputedIndices(I, **X, **Idx, *Axis);
  Expected<std::vector<int64_t>> Ix = I.intsIn(1, "indices");
  if (!Ix)
    return Ix.takeError();
  int64_t Dim = (*X)->Dims[*Axis];
  for (int64_t &K : *Ix) {
    if (K < -Dim || K >= Dim)
      return I.fail("index " + llvm::Twine(K) + " is out of range for axis " +
                    llvm::Twine(*Axis) + " of " + dimsText((*X)->Dims));
    if (K < 0)
      K += Dim;
  }
  Shape Out((*X)->Dims.begin(), (*X)->Dims.begin() + *Axis);
  Out.append((*Idx)->Dims.begin(), (*Idx)->Dims.end());
  Out.append((*X)->Dims.begin() + *Axis + 1, (*X)->Dims.end());
  if ((*X)->isConst() && foldable(Out)) {
    Shape In = (*X)->Dims;
    size_t IRank = (*Idx)->Dims.size();
    return I.defineConst(
        0, (*X)->Elem, Out, remap(**X, Out, [&](const std::vector<int64_t> &C) {
          std::vector<int64_t> Src(C.begin(), C.begin() + *Axis);
          std::vector<int64_t> At(C.begin() + *Axis, C.begin() + *Axis + IRank);
          Src.push_back((*Ix)[flatIndex((*Idx)->Dims, At)]);
          Src.insert(Src.end(), C.begin() + *Axis + IRank, C.end());
          return flatIndex(In, Src);
        }));
  }
  if (Ix->size() > 4096)
    return I.unsupported("more than 4096 indices into a computed tensor");
  Expected<std::string> XE = I.use(**X);
  if (!XE)
    return XE.takeError();
  std::string Src = isSimpleRef(*XE) ? *XE : I.temp(*XE, "x");
  // Runs of consecutive indices become one slice each.
  std::vector<std::string> Parts;
  for (size_t K = 0; K < Ix->size();) {
    size_t E = K + 1;
    while (E < Ix->size() && (*Ix)[E] == (*Ix)[E - 1] + 1)
      ++E;
    Parts.push_back(sliceExpr(Src, *Axis, (*Ix)[K], (*Ix)[E - 1] + 1, Dim));
    K = E;
  }
  std::string Joined = Parts.size() == 1 ? Parts[0] : "concat(";
  if (Parts.size() > 1) {
    for (const std::string &P : Parts)
      Joined += P + ", ";
    Joined += "axis = " + std::to_string(*Axis) + ")";
  }
  Shape Gathered = (*X)->Dims;
  Gathered[*Axis] = int64_t(Ix->size());
  if (Gathered != Out)
    Joined = "reshape(" + Joined + ", " + dimsText(Out) + ")";
  return I.define(0, Joined, (*X)->Elem, Out);
}

} // namespace

void onnx_import::registerTensorOps(OpRegistry &R) {
  R["Transpose"] = opTranspose;
  R["Concat"] = opConcat;
  R["Split"] = opSplit;
  R["Slice"] = opSlice;
  R["Gather"] = opGather;
}
