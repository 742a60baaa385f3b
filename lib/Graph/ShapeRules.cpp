//===- ShapeRules.cpp - Result types of graph ops -------------------------===//
//
// One rule per entry of Ops.def's Shape column: the elementwise classes
// share `Unary`, `Binary` and `Compare`, the reductions `Reduce`, and each
// compound op (matmul, conv2d, pools, softmax, one_hot, backward kernels)
// has its own. The dispatch is generated from the table, so a row naming a
// rule that does not exist here is a compile error. Rules of TRAIT_TYPED
// ops check the type the node gives instead of computing one.
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

/// What a rule sees. `Given` is the node's own type for TRAIT_TYPED ops
/// (whose rules check it) and null otherwise.
struct Query {
  OpKind K;
  Types Ops;
  const Attrs &A;
  const TensorType *Given;
  Failer Fail;
};
using Result = std::optional<TensorType>;

Result ruleUnary(const Query &Q) { return checkFloat(Q.K, Q.Ops[0], Q.Fail); }

/// The broadcast shape of two operands of one element type.
Result broadcastOperands(const Query &Q) {
  const TensorType &L = Q.Ops[0], &R = Q.Ops[1];
  if (L.Elem != R.Elem)
    return Q.Fail(spell(Q.K) + " of " + ty(L) + " and " + ty(R) +
                  ": element types differ");
  auto S = broadcastShapes(L.Dims, R.Dims);
  if (!S)
    return Q.Fail(spell(Q.K) + " of " + ty(L) + " and " + ty(R) +
                  ": shapes do not broadcast");
  return TensorType(L.Elem, *S);
}

Result ruleBinary(const Query &Q) {
  Result T = broadcastOperands(Q);
  if (!T)
    return std::nullopt;
  return checkFloat(Q.K, *T, Q.Fail);
}

/// Comparisons of either element type give f32 0/1.
Result ruleCompare(const Query &Q) {
  Result T = broadcastOperands(Q);
  if (!T)
    return std::nullopt;
  return TensorType(DType::F32, T->Dims);
}

Result ruleReduce(const Query &Q) {
  const TensorType &X = Q.Ops[0];
  const Attrs &A = Q.A;
  if (!axisInRange(A.Axis, X.rank(), /*AllowAll=*/true))
    return Q.Fail(spell(Q.K) + " over axis " + axisText(A.Axis) + " of " +
                  ty(X) + ": axis out of range");
  DType Elem = Q.K == OpKind::ArgMax ? DType::I32 : X.Elem;
  Shape Out;
  for (unsigned I = 0; I < X.rank(); ++I) {
    bool Reduced = A.Axis == ALL_AXES || int64_t(I) == A.Axis;
    if (!Reduced)
      Out.push_back(X.Dims[I]);
    else if (A.KeepDims)
      Out.push_back(1);
  }
  if (X.numElements() == 0 && Q.K != OpKind::ReduceSum)
    return Q.Fail(spell(Q.K) + " of the empty tensor " + ty(X));
  return TensorType(Elem, Out);
}

Result ruleTranspose(const Query &Q) {
  const TensorType &X = Q.Ops[0];
  if (X.rank() != 2)
    return Q.Fail("transpose of " + ty(X) + ": needs a 2-D tensor");
  return TensorType(X.Elem, {X.Dims[1], X.Dims[0]});
}

Result rulePermute(const Query &Q) {
  const TensorType &X = Q.Ops[0];
  unsigned Rank = X.rank();
  if (Rank > MaxPermRank || (Rank < MaxPermRank && Q.A.Perm >> (4 * Rank)))
    return Q.Fail("permute of " + ty(X) +
                  ": the permutation has another "
                  "rank");
  Shape Out;
  unsigned Seen = 0;
  for (unsigned K = 0; K < Rank; ++K) {
    unsigned From = permAxis(Q.A.Perm, K);
    if (From >= Rank || (Seen & (1u << From)))
      return Q.Fail("permute of " + ty(X) + ": not a permutation");
    Seen |= 1u << From;
    Out.push_back(X.Dims[From]);
  }
  return TensorType(X.Elem, Out);
}

Result ruleSlice(const Query &Q) {
  const TensorType &X = Q.Ops[0];
  const Attrs &A = Q.A;
  if (!axisInRange(A.Axis, X.rank(), /*AllowAll=*/false))
    return Q.Fail("slice along axis " + axisText(A.Axis) + " of " + ty(X) +
                  ": axis out of range");
  int64_t Len = X.Dims[A.Axis];
  if (A.Offset < 0 || A.Size < 0 || A.Offset > Len || A.Size > Len - A.Offset)
    return Q.Fail("slice of " + std::to_string(A.Size) + " from " +
                  std::to_string(A.Offset) + " along axis " +
                  std::to_string(A.Axis) + " of " + ty(X) + ": out of range");
  Shape Out(X.Dims);
  Out[A.Axis] = A.Size;
  return TensorType(X.Elem, Out);
}

/// concat: one element type and rank, equal dims but along Axis, whose
/// sizes add up.
Result ruleConcat(const Query &Q) {
  if (Q.Ops.size() < 2)
    return Q.Fail("concat takes at least 2 operands, got " +
                  std::to_string(Q.Ops.size()));
  const TensorType &First = Q.Ops[0];
  if (!axisInRange(Q.A.Axis, First.rank(), /*AllowAll=*/false))
    return Q.Fail("concat along axis " + axisText(Q.A.Axis) + " of " +
                  ty(First) + ": axis out of range");
  Shape Out(First.Dims);
  for (const TensorType &T : Q.Ops.drop_front()) {
    std::string What = "concat of " + ty(First) + " and " + ty(T);
    if (T.Elem != First.Elem)
      return Q.Fail(What + ": element types differ");
    if (T.rank() != First.rank())
      return Q.Fail(What + ": ranks differ");
    for (unsigned I = 0; I < T.rank(); ++I)
      if (int64_t(I) != Q.A.Axis && T.Dims[I] != First.Dims[I])
        return Q.Fail(What + " along axis " + std::to_string(Q.A.Axis) +
                      ": sizes differ on axis " + std::to_string(I));
    Out[Q.A.Axis] += T.Dims[Q.A.Axis];
  }
  return TensorType(First.Elem, Out);
}

Result ruleMatMul(const Query &Q) {
  const TensorType &L = Q.Ops[0], &R = Q.Ops[1];
  std::string What = "matmul of " + ty(L) + " and " + ty(R);
  if (L.rank() != 2 || R.rank() != 2)
    return Q.Fail(What + ": needs 2-D tensors");
  if (L.Elem != DType::F32 || R.Elem != DType::F32)
    return Q.Fail(What + ": needs f32 operands");
  if (L.Dims[1] != R.Dims[0])
    return Q.Fail(What + ": inner dimensions " + std::to_string(L.Dims[1]) +
                  " and " + std::to_string(R.Dims[0]) + " differ");
  return TensorType(DType::F32, {L.Dims[0], R.Dims[1]});
}

/// Shape of conv2d(x : [N,C,H,W], w : [K,C,R,S]).
Result conv2dShape(const TensorType &X, const TensorType &W, const Attrs &A,
                   const std::string &What, Failer Fail) {
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

Result ruleConv2d(const Query &Q) {
  return conv2dShape(Q.Ops[0], Q.Ops[1], Q.A,
                     "conv2d of " + ty(Q.Ops[0]) + " and " + ty(Q.Ops[1]),
                     Q.Fail);
}

/// Shape of maxpool2d/avgpool2d(x : [N,C,H,W]).
Result poolShape(const TensorType &X, const Attrs &A, const std::string &What,
                 Failer Fail) {
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

Result rulePool2d(const Query &Q) {
  return poolShape(Q.Ops[0], Q.A, spell(Q.K) + " of " + ty(Q.Ops[0]), Q.Fail);
}

Result ruleSoftmax(const Query &Q) {
  const TensorType &X = Q.Ops[0];
  if (!axisInRange(Q.A.Axis, X.rank(), /*AllowAll=*/false))
    return Q.Fail(spell(Q.K) + " over axis " + axisText(Q.A.Axis) + " of " +
                  ty(X) + ": axis out of range");
  return checkFloat(Q.K, X, Q.Fail);
}

Result ruleOneHot(const Query &Q) {
  const TensorType &X = Q.Ops[0];
  if (X.Elem != DType::I32)
    return Q.Fail("one_hot of " + ty(X) + ": labels must be i32");
  if (Q.A.Size < 1)
    return Q.Fail("one_hot needs at least one class, got " +
                  std::to_string(Q.A.Size));
  Shape Out(X.Dims);
  Out.push_back(Q.A.Size);
  return TensorType(DType::F32, Out);
}

Result ruleArgMaxMask(const Query &Q) {
  const TensorType &X = Q.Ops[0];
  if (!axisInRange(Q.A.Axis, X.rank(), /*AllowAll=*/true))
    return Q.Fail("argmax_mask over axis " + axisText(Q.A.Axis) + " of " +
                  ty(X) + ": axis out of range");
  return checkFloat(Q.K, X, Q.Fail);
}

Result ruleMaxPool2dGrad(const Query &Q) {
  // (x, dy) -> dx: dy must be what the forward pool produced from x.
  std::string What = "maxpool2d_grad of " + ty(Q.Ops[0]);
  auto Y = poolShape(Q.Ops[0], Q.A, What, Q.Fail);
  if (!Y)
    return std::nullopt;
  if (*Y != Q.Ops[1])
    return Q.Fail(What + ": output gradient " + ty(Q.Ops[1]) + " should be " +
                  ty(*Y));
  return Q.Ops[0];
}

//===----------------------------------------------------------------------===//
// Rules of TRAIT_TYPED ops: legality of the type the node gives.
//===----------------------------------------------------------------------===//

Result ruleLeaf(const Query &Q) { return *Q.Given; }

Result ruleHyper(const Query &Q) {
  const TensorType &R = *Q.Given;
  if (!R.isScalar())
    return Q.Fail("a hyper value must be a scalar, got " + ty(R));
  return R;
}

/// channel_sum(x): [N, C, ...] -> [C].
Result ruleChannelSum(const Query &Q) {
  const TensorType &X = Q.Ops[0];
  if (X.rank() < 2)
    return Q.Fail("channel_sum sums every axis but 1 of a tensor [N, C, ...], "
                  "got " +
                  ty(X));
  return TensorType(X.Elem, {X.Dims[1]});
}

/// batchnorm(x, gamma, beta, running_mean, running_var): x is [N, C, ...]
/// and the other four are [C].
Result ruleBatchNorm(const Query &Q) {
  const TensorType &X = Q.Ops[0];
  if (X.Elem != DType::F32 || X.rank() < 2)
    return Q.Fail("batchnorm normalizes an f32 tensor [N, C] or [N, C, H, W], "
                  "got " +
                  ty(X));
  static const char *const Names[] = {"gamma", "beta", "running_mean",
                                      "running_var"};
  TensorType Channels(DType::F32, {X.Dims[1]});
  for (unsigned I = 1; I < 5; ++I)
    if (Q.Ops[I] != Channels)
      return Q.Fail(std::string("batchnorm of ") + ty(X) + ": " + Names[I - 1] +
                    " is " + ty(Q.Ops[I]) +
                    ", but axis 1 (the channels) needs " + ty(Channels));
  if (Q.A.Rate < 0 || Q.A.Rate > 1 || Q.A.Eps < 0)
    return Q.Fail("batchnorm needs momentum in [0, 1] and eps >= 0");
  return X;
}

/// dropout_mask(key): an i32 scalar key; the mask's shape is the node's.
Result ruleDropoutMask(const Query &Q) {
  const TensorType &Key = Q.Ops[0], &R = *Q.Given;
  if (Key != TensorType::scalar(DType::I32))
    return Q.Fail("dropout_mask takes an i32 scalar key, got " + ty(Key));
  if (R.Elem != DType::F32)
    return Q.Fail("a dropout mask is f32, got " + ty(R));
  if (Q.A.Rate < 0 || Q.A.Rate >= 1)
    return Q.Fail("a dropout rate must be in [0, 1)");
  return R;
}

Result ruleReshape(const Query &Q) {
  const TensorType &X = Q.Ops[0], &R = *Q.Given;
  if (X.Elem != R.Elem)
    return Q.Fail("reshape cannot change the element type (" + ty(X) + " to " +
                  ty(R) + ")");
  if (X.numElements() != R.numElements())
    return Q.Fail("reshape of " + ty(X) + " to " + ty(R) +
                  ": element counts differ");
  return R;
}

Result ruleBroadcast(const Query &Q) {
  const TensorType &X = Q.Ops[0], &R = *Q.Given;
  auto S = broadcastShapes(X.Dims, R.Dims);
  if (X.Elem != R.Elem || !S || *S != R.Dims)
    return Q.Fail("cannot broadcast " + ty(X) + " to " + ty(R));
  return R;
}

Result ruleCast(const Query &Q) {
  const TensorType &X = Q.Ops[0], &R = *Q.Given;
  if (X.Dims != R.Dims)
    return Q.Fail("cast of " + ty(X) + " to " + ty(R) +
                  ": only the element type may change");
  return R;
}

/// A gradient kernel's operand `Given` must be what the forward op would
/// produce (`Expected`) from the kernel's result.
Result sameAsForward(const Query &Q, const Result &Expected,
                     const TensorType &Given, const std::string &What) {
  if (!Expected)
    return std::nullopt;
  if (*Expected != Given)
    return Q.Fail(What + ": output gradient " + ty(Given) + " should be " +
                  ty(*Expected));
  return *Q.Given;
}

Result ruleConv2dGradInput(const Query &Q) {
  // (dy, w) -> dx: conv2d(dx, w) must have dy's shape.
  std::string What = "conv2d_grad_input to " + ty(*Q.Given);
  return sameAsForward(Q, conv2dShape(*Q.Given, Q.Ops[1], Q.A, What, Q.Fail),
                       Q.Ops[0], What);
}

Result ruleConv2dGradWeight(const Query &Q) {
  // (x, dy) -> dw: conv2d(x, dw) must have dy's shape.
  std::string What = "conv2d_grad_weight to " + ty(*Q.Given);
  return sameAsForward(Q, conv2dShape(Q.Ops[0], *Q.Given, Q.A, What, Q.Fail),
                       Q.Ops[1], What);
}

Result ruleAvgPool2dGrad(const Query &Q) {
  // dy -> dx: avgpool2d(dx) must have dy's shape.
  std::string What = "avgpool2d_grad to " + ty(*Q.Given);
  return sameAsForward(Q, poolShape(*Q.Given, Q.A, What, Q.Fail), Q.Ops[0],
                       What);
}

/// The rule of the op's row (arity checked by the caller).
Result applyRule(const Query &Q) {
  switch (Q.K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  case OpKind::Name:                                                           \
    return rule##Shape(Q);
#include "nnc/Graph/Ops.def"
  }
  return Q.Fail("unknown op");
}

/// The operand count the op's row fixes; false (with a reason) if `Ops`
/// has another.
bool checkArity(OpKind K, Types Ops, Failer Fail) {
  int Arity = opNumOperands(K);
  if (Arity < 0 || int(Ops.size()) == Arity)
    return true;
  return Fail.reject(spell(K) + " takes " + std::to_string(Arity) +
                     " operands, got " + std::to_string(Ops.size()));
}

} // namespace

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
  if (!checkArity(K, Ops, Fail))
    return std::nullopt;
  if (resultTypeFromNode(K))
    return Fail(spell(K) + " takes its result type from the node");
  return applyRule({K, Ops, A, nullptr, Fail});
}

bool nnc::checkResultType(OpKind K, Types Ops, const Attrs &A,
                          const TensorType &Result, std::string &Why) {
  Failer Fail{Why};
  if (!checkArity(K, Ops, Fail))
    return false;
  for (int64_t D : Result.Dims)
    if (D < 0)
      return Fail.reject("negative dimension in " + ty(Result));
  if (resultTypeFromNode(K))
    return applyRule({K, Ops, A, &Result, Fail}).has_value();
  auto Expected = inferResultType(K, Ops, A, Why);
  if (!Expected)
    return false;
  if (*Expected != Result)
    return Fail.reject(spell(K) + " should give " + ty(*Expected) + ", not " +
                       ty(Result));
  return true;
}
