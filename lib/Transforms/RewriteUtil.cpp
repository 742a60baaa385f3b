//===- RewriteUtil.cpp - Helpers the graph passes share -------------------===//
//
// The shared vocabulary of the rewriting passes (see RewriteUtil.h). Kept
// apart from any one pass so that simplify, constfold and cse agree on what
// a splat is, how a replacement inherits a name, and what counts as finite.
//
//===----------------------------------------------------------------------===//
#include "RewriteUtil.h"

#include <cmath>

using namespace nnc;
using namespace nnc::transforms;

std::optional<double> transforms::splatValue(const Node *N) {
  // A broadcast of a splat is a splat; its operand may itself be a const.
  while (N->Kind == OpKind::Broadcast)
    N = N->operand(0);
  if (N->Kind != OpKind::Const || N->Type.numElements() == 0)
    return std::nullopt;
  const Tensor &T = N->Value;
  double First = T.at(0);
  for (int64_t I = 1; I < T.numElements(); ++I)
    // Bitwise equality of the doubles: +0 and -0 differ, and NaN is never
    // a splat (x * NaN is no identity worth knowing).
    if (T.at(I) != First || std::signbit(T.at(I)) != std::signbit(First))
      return std::nullopt;
  if (std::isnan(First))
    return std::nullopt;
  return First;
}

Node *transforms::makeNode(Graph &G, OpKind K, const TensorType &T,
                           llvm::ArrayRef<Node *> Operands, const Node &Like,
                           Attrs A) {
  Node *N = G.create(K, T, Operands, Like.Loc, A);
  N->Role = Like.Role;
  return N;
}

Node *transforms::makeScalar(Graph &G, double V, DType Elem, const Node &Like) {
  Tensor T(TensorType::scalar(Elem));
  T.set(0, V);
  Node *C = G.constant(std::move(T), Like.Loc);
  C->Role = Like.Role;
  return C;
}

Node *transforms::makeSplat(Graph &G, double V, const TensorType &T,
                            const Node &Like) {
  Node *S = makeScalar(G, V, T.Elem, Like);
  if (T.isScalar())
    return S;
  return makeNode(G, OpKind::Broadcast, T, {S}, Like);
}

Node *transforms::broadcastTo(Graph &G, Node *X, const TensorType &T,
                              const Node &Like) {
  if (X->Type == T)
    return X;
  if (X->Type.Elem != T.Elem)
    return nullptr;
  std::optional<Shape> S = broadcastShapes(X->dims(), T.Dims);
  if (!S || *S != T.Dims)
    return nullptr;
  return makeNode(G, OpKind::Broadcast, T, {X}, Like);
}

void transforms::replaceNode(Graph &G, Node *Old, Node *New) {
  assert(Old != New && "replacing a node with itself");
  assert(Old->Type == New->Type && "a rewrite changed a value's type");
  G.replaceAllUsesWith(Old, New);
  bool Renamable = New->Kind == OpKind::Const || !New->isLeaf();
  if (New->Name.empty() && !Old->Name.empty() && Renamable &&
      New->Role == Old->Role) {
    New->Name = Old->Name;
    Old->Name.clear();
  }
}

llvm::DenseSet<const Node *> transforms::liveSet(const Graph &G) {
  std::vector<Node *> Live = G.liveNodes();
  return llvm::DenseSet<const Node *>(Live.begin(), Live.end());
}

std::vector<Node *> transforms::nodeOrder(const Graph &G) {
  std::vector<Node *> Order;
  Order.reserve(G.size());
  for (const auto &N : G.nodes())
    Order.push_back(N.get());
  return Order;
}

/// `Depth` bounds the walk: a long chain of finite-preserving ops is rare,
/// and answering "maybe not finite" is always safe.
static bool knownFinite(const Node *N, unsigned Depth) {
  if (N->dtype() == DType::I32)
    return true;
  if (Depth == 0)
    return false;
  OpKind K = N->Kind;
  if (K == OpKind::Const) {
    for (int64_t I = 0; I < N->Value.numElements(); ++I)
      if (!std::isfinite(N->Value.at(I)))
        return false;
    return true;
  }
  if (alwaysFinite(K))
    return true;
  if (keepsFinite(K))
    return llvm::all_of(N->Operands, [&](const Node *Op) {
      return knownFinite(Op, Depth - 1);
    });
  // Sums, products, exp, log, ... of finite values can overflow or leave
  // their domain; leaves other than constants are unknown at compile time.
  return false;
}

bool transforms::isKnownFinite(const Node *N) { return knownFinite(N, 16); }

bool transforms::isPowerOfTwo(double V) {
  if (V == 0 || !std::isfinite(V))
    return false;
  int Exp;
  return std::frexp(std::fabs(V), &Exp) == 0.5;
}
