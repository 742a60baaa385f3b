//===- ShapeRules.cpp - Result types of graph ops -------------------------===//
//
// One function per op class (unary, binary, compare, reduce, ...) and per
// compound op (matmul, conv2d, pools, softmax, one_hot, backward kernels).
// `inferResultType` dispatches by OpKind with no `default`, so an op added to
// Ops.def without a rule is a compile error here.
//
//===----------------------------------------------------------------------===//
#include "nnc/Graph/ShapeRules.h"

#include <llvm/ADT/Twine.h>

using namespace nnc;

using Types = llvm::ArrayRef<TensorType>;

namespace {

/// Records a failure reason; returns nullopt so rules can `return fail(...)`.
struct Failer {
  std::string &Why;
  std::nullopt_t operator()(const llvm::Twine &Msg) const {
    Why = Msg.str();
    return std::nullopt;
  }
  /// For predicates: records the reason and returns false.
  bool reject(const llvm::Twine &Msg) const {
    Why = Msg.str();
    return false;
  }
};

std::string ty(const TensorType &T) { return formatType(T); }
std::string spell(OpKind K) { return opSpelling(K).str(); }

/// Ops that also make sense on i32 values; every other op is f32 only.
bool acceptsInt(OpKind K) {
  OpClass C = opClass(K);
  return C == OpClass::Shape || K == OpKind::Neg || K == OpKind::Abs ||
         K == OpKind::Cast || K == OpKind::Add || K == OpKind::Sub ||
         K == OpKind::Mul || K == OpKind::Max || K == OpKind::Min ||
         K == OpKind::ReduceSum || K == OpKind::ReduceMax ||
         K == OpKind::ArgMax || K == OpKind::OneHot;
}

std::optional<TensorType> checkFloat(OpKind K, const TensorType &T,
                                     Failer Fail) {
  if (T.Elem == DType::F32 || acceptsInt(K))
    return T;
  return Fail(spell(K) + " needs f32 operands, got " + ty(T));
}

/// Accepts Axis in [0, Rank) (and ALL_AXES when `AllowAll`).
bool axisInRange(int64_t Axis, unsigned Rank, bool AllowAll) {
  if (Axis == ALL_AXES)
    return AllowAll;
  return Axis >= 0 && Axis < int64_t(Rank);
}

std::string axisText(int64_t Axis) {
  return Axis == ALL_AXES ? "all" : std::to_string(Axis);
}

std::optional<TensorType> inferUnary(OpKind K, Types Ops, Failer Fail) {
  return checkFloat(K, Ops[0], Fail);
}

std::optional<TensorType> inferBinary(OpKind K, Types Ops, Failer Fail) {
  if (Ops[0].Elem != Ops[1].Elem)
    return Fail(spell(K) + " of " + ty(Ops[0]) + " and " + ty(Ops[1]) +
                ": element types differ");
  auto S = broadcastShapes(Ops[0].Dims, Ops[1].Dims);
  if (!S)
    return Fail(spell(K) + " of " + ty(Ops[0]) + " and " + ty(Ops[1]) +
                ": shapes do not broadcast");
  return checkFloat(K, TensorType(Ops[0].Elem, *S), Fail);
}

std::optional<TensorType> inferCompare(OpKind K, Types Ops, Failer Fail) {
  if (Ops[0].Elem != Ops[1].Elem)
    return Fail(spell(K) + " of " + ty(Ops[0]) + " and " + ty(Ops[1]) +
                ": element types differ");
  auto S = broadcastShapes(Ops[0].Dims, Ops[1].Dims);
  if (!S)
    return Fail(spell(K) + " of " + ty(Ops[0]) + " and " + ty(Ops[1]) +
                ": shapes do not broadcast");
  return TensorType(DType::F32, *S);
}

std::optional<TensorType> inferReduce(OpKind K, Types Ops, const Attrs &A,
                                      Failer Fail) {
  const TensorType &X = Ops[0];
  if (!axisInRange(A.Axis, X.rank(), /*AllowAll=*/true))
    return Fail(spell(K) + " over axis " + axisText(A.Axis) + " of " + ty(X) +
                ": axis out of range");
  DType Elem = K == OpKind::ArgMax ? DType::I32 : X.Elem;
  Shape Out;
  for (unsigned I = 0; I < X.rank(); ++I) {
    bool Reduced = A.Axis == ALL_AXES || int64_t(I) == A.Axis;
    if (!Reduced)
      Out.push_back(X.Dims[I]);
    else if (A.KeepDims)
      Out.push_back(1);
  }
  if (X.numElements() == 0 && K != OpKind::ReduceSum)
    return Fail(spell(K) + " of the empty tensor " + ty(X));
  return TensorType(Elem, Out);
}

std::optional<TensorType> inferTranspose(Types Ops, Failer Fail) {
  if (Ops[0].rank() != 2)
    return Fail("transpose of " + ty(Ops[0]) + ": needs a 2-D tensor");
  return TensorType(Ops[0].Elem, {Ops[0].Dims[1], Ops[0].Dims[0]});
}

std::optional<TensorType> inferMatMul(Types Ops, Failer Fail) {
  const TensorType &L = Ops[0], &R = Ops[1];
  std::string What = "matmul of " + ty(L) + " and " + ty(R);
  if (L.rank() != 2 || R.rank() != 2)
    return Fail(What + ": needs 2-D tensors");
  if (L.Elem != DType::F32 || R.Elem != DType::F32)
    return Fail(What + ": needs f32 operands");
  if (L.Dims[1] != R.Dims[0])
    return Fail(What + ": inner dimensions " + std::to_string(L.Dims[1]) +
                " and " + std::to_string(R.Dims[0]) + " differ");
  return TensorType(DType::F32, {L.Dims[0], R.Dims[1]});
}

/// Shape of conv2d(x : [N,C,H,W], w : [K,C,R,S]).
std::optional<TensorType> conv2dShape(const TensorType &X, const TensorType &W,
                                      const Attrs &A, const std::string &What,
                                      Failer Fail) {
  if (X.rank() != 4 || W.rank() != 4)
    return Fail(What + ": needs a 4-D input [N, C, H, W] and a 4-D weight "
                       "[K, C, R, S]");
  if (X.Elem != DType::F32 || W.Elem != DType::F32)
    return Fail(What + ": needs f32 operands");
  if (X.Dims[1] != W.Dims[1])
    return Fail(What + ": input has " + std::to_string(X.Dims[1]) +
                " channels but the weight expects " +
                std::to_string(W.Dims[1]));
  if (A.Stride < 1 || A.Padding < 0)
    return Fail(What + ": stride must be >= 1 and padding >= 0");
  auto OH = windowOutputSize(X.Dims[2], W.Dims[2], A.Stride, A.Padding);
  auto OW = windowOutputSize(X.Dims[3], W.Dims[3], A.Stride, A.Padding);
  if (!OH || !OW)
    return Fail(What + ": the " + std::to_string(W.Dims[2]) + "x" +
                std::to_string(W.Dims[3]) +
                " kernel does not fit the padded input");
  return TensorType(DType::F32, {X.Dims[0], W.Dims[0], *OH, *OW});
}

/// Shape of maxpool2d/avgpool2d(x : [N,C,H,W]).
std::optional<TensorType> poolShape(const TensorType &X, const Attrs &A,
                                    const std::string &What, Failer Fail) {
  if (X.rank() != 4)
    return Fail(What + ": needs a 4-D input [N, C, H, W]");
  if (X.Elem != DType::F32)
    return Fail(What + ": needs an f32 operand");
  if (A.Size < 1 || A.Stride < 1)
    return Fail(What + ": size and stride must be >= 1");
  auto OH = windowOutputSize(X.Dims[2], A.Size, A.Stride, 0);
  auto OW = windowOutputSize(X.Dims[3], A.Size, A.Stride, 0);
  if (!OH || !OW)
    return Fail(What + ": the window of size " + std::to_string(A.Size) +
                " does not fit the input");
  return TensorType(DType::F32, {X.Dims[0], X.Dims[1], *OH, *OW});
}

std::optional<TensorType> inferSoftmax(OpKind K, Types Ops, const Attrs &A,
                                       Failer Fail) {
  const TensorType &X = Ops[0];
  if (!axisInRange(A.Axis, X.rank(), /*AllowAll=*/false))
    return Fail(spell(K) + " over axis " + axisText(A.Axis) + " of " + ty(X) +
                ": axis out of range");
  return checkFloat(K, X, Fail);
}

std::optional<TensorType> inferOneHot(Types Ops, const Attrs &A, Failer Fail) {
  const TensorType &X = Ops[0];
  if (X.Elem != DType::I32)
    return Fail("one_hot of " + ty(X) + ": labels must be i32");
  if (A.Size < 1)
    return Fail("one_hot needs at least one class, got " +
                std::to_string(A.Size));
  Shape Out(X.Dims);
  Out.push_back(A.Size);
  return TensorType(DType::F32, Out);
}

std::optional<TensorType> inferArgMaxMask(Types Ops, const Attrs &A,
                                          Failer Fail) {
  const TensorType &X = Ops[0];
  if (!axisInRange(A.Axis, X.rank(), /*AllowAll=*/true))
    return Fail("argmax_mask over axis " + axisText(A.Axis) + " of " + ty(X) +
                ": axis out of range");
  return checkFloat(OpKind::ArgMaxMask, X, Fail);
}

std::optional<TensorType> inferMaxPoolGrad(Types Ops, const Attrs &A,
                                           Failer Fail) {
  // (x, dy) -> dx: dy must be what the forward pool produced from x.
  std::string What = "maxpool2d_grad of " + ty(Ops[0]);
  auto Y = poolShape(Ops[0], A, What, Fail);
  if (!Y)
    return std::nullopt;
  if (*Y != Ops[1])
    return Fail(What + ": output gradient " + ty(Ops[1]) + " should be " +
                ty(*Y));
  return Ops[0];
}

/// A gradient kernel's operand `Given` must be what the forward op would
/// produce (`Expected`) from the kernel's result.
bool sameAsForward(const std::optional<TensorType> &Expected,
                   const TensorType &Given, const std::string &What,
                   Failer Fail) {
  if (!Expected)
    return false;
  if (*Expected != Given)
    return Fail.reject(What + ": output gradient " + ty(Given) + " should be " +
                       ty(*Expected));
  return true;
}

/// Legality of the ops whose result type comes from the node (those for
/// which resultTypeFromNode holds; leaves other than hyper take any type).
bool checkNodeTyped(OpKind K, Types Ops, const Attrs &A, const TensorType &R,
                    Failer Fail) {
  if (K == OpKind::Reshape) {
    if (Ops[0].Elem != R.Elem)
      return Fail.reject("reshape cannot change the element type (" +
                         ty(Ops[0]) + " to " + ty(R) + ")");
    if (Ops[0].numElements() != R.numElements())
      return Fail.reject("reshape of " + ty(Ops[0]) + " to " + ty(R) +
                         ": element counts differ");
    return true;
  }
  if (K == OpKind::Broadcast) {
    auto S = broadcastShapes(Ops[0].Dims, R.Dims);
    if (Ops[0].Elem != R.Elem || !S || *S != R.Dims)
      return Fail.reject("cannot broadcast " + ty(Ops[0]) + " to " + ty(R));
    return true;
  }
  if (K == OpKind::Cast) {
    if (Ops[0].Dims != R.Dims)
      return Fail.reject("cast of " + ty(Ops[0]) + " to " + ty(R) +
                         ": only the element type may change");
    return true;
  }
  if (K == OpKind::Conv2dGradInput) {
    // (dy, w) -> dx: conv2d(dx, w) must have dy's shape.
    std::string What = "conv2d_grad_input to " + ty(R);
    return sameAsForward(conv2dShape(R, Ops[1], A, What, Fail), Ops[0], What,
                         Fail);
  }
  if (K == OpKind::Conv2dGradWeight) {
    // (x, dy) -> dw: conv2d(x, dw) must have dy's shape.
    std::string What = "conv2d_grad_weight to " + ty(R);
    return sameAsForward(conv2dShape(Ops[0], R, A, What, Fail), Ops[1], What,
                         Fail);
  }
  if (K == OpKind::AvgPool2dGrad) {
    // dy -> dx: avgpool2d(dx) must have dy's shape.
    std::string What = "avgpool2d_grad to " + ty(R);
    return sameAsForward(poolShape(R, A, What, Fail), Ops[0], What, Fail);
  }
  if (K == OpKind::Hyper && (!R.isScalar() || R.Elem != DType::F32))
    return Fail.reject("a hyper value must be an f32 scalar, got " + ty(R));
  return true;
}

} // namespace

bool nnc::resultTypeFromNode(OpKind K) {
  return opClass(K) == OpClass::Leaf || K == OpKind::Reshape ||
         K == OpKind::Broadcast || K == OpKind::Cast ||
         K == OpKind::Conv2dGradInput || K == OpKind::Conv2dGradWeight ||
         K == OpKind::AvgPool2dGrad;
}

std::optional<int64_t> nnc::windowOutputSize(int64_t In, int64_t Window,
                                             int64_t Stride, int64_t Padding) {
  if (Window < 1 || Stride < 1 || Padding < 0 || In < 0)
    return std::nullopt;
  int64_t Padded = In + 2 * Padding;
  if (Padded < Window)
    return std::nullopt;
  return (Padded - Window) / Stride + 1;
}

std::optional<TensorType>
nnc::inferResultType(OpKind K, Types Ops, const Attrs &A, std::string &Why) {
  Failer Fail{Why};
  int Arity = opNumOperands(K);
  if (Arity >= 0 && int(Ops.size()) != Arity)
    return Fail(spell(K) + " takes " + std::to_string(Arity) +
                " operands, got " + std::to_string(Ops.size()));
  if (resultTypeFromNode(K))
    return Fail(spell(K) + " takes its result type from the node");
  switch (K) {
  case OpKind::Input:
  case OpKind::Target:
  case OpKind::Param:
  case OpKind::Const:
  case OpKind::State:
  case OpKind::Hyper:
  case OpKind::Reshape:
  case OpKind::Broadcast:
  case OpKind::Cast:
  case OpKind::Conv2dGradInput:
  case OpKind::Conv2dGradWeight:
  case OpKind::AvgPool2dGrad:
    break; // Handled by resultTypeFromNode above.
  case OpKind::Neg:
  case OpKind::Exp:
  case OpKind::Log:
  case OpKind::Sqrt:
  case OpKind::Abs:
  case OpKind::Sin:
  case OpKind::Cos:
  case OpKind::Tanh:
  case OpKind::Sigmoid:
  case OpKind::Relu:
  case OpKind::Softplus:
  case OpKind::LeakyRelu:
  case OpKind::Elu:
  case OpKind::Step:
  case OpKind::Sign:
    return inferUnary(K, Ops, Fail);
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
  case OpKind::Pow:
  case OpKind::Max:
  case OpKind::Min:
    return inferBinary(K, Ops, Fail);
  case OpKind::CmpEq:
  case OpKind::CmpNe:
  case OpKind::CmpLt:
  case OpKind::CmpLe:
  case OpKind::CmpGt:
  case OpKind::CmpGe:
    return inferCompare(K, Ops, Fail);
  case OpKind::ReduceSum:
  case OpKind::ReduceMax:
  case OpKind::ArgMax:
    return inferReduce(K, Ops, A, Fail);
  case OpKind::Transpose:
    return inferTranspose(Ops, Fail);
  case OpKind::MatMul:
    return inferMatMul(Ops, Fail);
  case OpKind::Conv2d:
    return conv2dShape(Ops[0], Ops[1], A,
                       "conv2d of " + ty(Ops[0]) + " and " + ty(Ops[1]), Fail);
  case OpKind::MaxPool2d:
  case OpKind::AvgPool2d:
    return poolShape(Ops[0], A, spell(K) + " of " + ty(Ops[0]), Fail);
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
    return inferSoftmax(K, Ops, A, Fail);
  case OpKind::OneHot:
    return inferOneHot(Ops, A, Fail);
  case OpKind::ArgMaxMask:
    return inferArgMaxMask(Ops, A, Fail);
  case OpKind::MaxPool2dGrad:
    return inferMaxPoolGrad(Ops, A, Fail);
  }
  return Fail("unknown op");
}

bool nnc::checkResultType(OpKind K, Types Ops, const Attrs &A,
                          const TensorType &Result, std::string &Why) {
  Failer Fail{Why};
  int Arity = opNumOperands(K);
  if (Arity >= 0 && int(Ops.size()) != Arity)
    return Fail.reject(spell(K) + " takes " + std::to_string(Arity) +
                       " operands, got " + std::to_string(Ops.size()));
  for (int64_t D : Result.Dims)
    if (D < 0)
      return Fail.reject("negative dimension in " + ty(Result));
  if (resultTypeFromNode(K))
    return checkNodeTyped(K, Ops, A, Result, Fail);
  auto Expected = inferResultType(K, Ops, A, Why);
  if (!Expected)
    return false;
  if (*Expected != Result)
    return Fail.reject(spell(K) + " should give " + ty(*Expected) + ", not " +
                       ty(Result));
  return true;
}
