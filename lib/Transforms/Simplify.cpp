//===- Simplify.cpp - Algebraic simplification ----------------------------===//
//
// Rewrites a node into a cheaper node computing the same value, one
// identity at a time. Every rule is a small function below, headed by its
// `before -> after` form, and listed once in the rule table at the bottom.
//
// Algorithm:
//   1. Walk the live nodes in topological order (a snapshot: nodes a rule
//      creates are visited in the next round of the -O fixed point).
//   2. For each node, try the rules registered for its op kind, then those
//      for its op class, in table order; the first that returns a
//      replacement wins.
//   3. A replacement has exactly the node's type (a rule that would change
//      the shape or dtype must not fire; where a smaller operand replaces a
//      broadcasting op, the rule adds the broadcast). Replace every use,
//      keep the node's name on the replacement, count the rule.
//   4. Nodes made dead are left for dce; new nodes are put in order by a
//      final topological sort.
//
// Which identities are allowed (see docs/passes.md):
//   - Values must not change beyond the sign of a zero and the last bits
//     of a rounding: `x + 0 -> x` turns -0 into -0 instead of +0, and
//     `sum(broadcast s) -> s * n` rounds once instead of n times.
//     Reassociating constants (`2 * (0.5 * x)`) fires only when one factor
//     is a power of two, so the result is bit-identical.
//   - NaN and inf propagate as in PyTorch: `x * 0 -> 0` fires only when x
//     is known finite (isKnownFinite: masks, comparisons, i32 values,
//     bounded functions of those); otherwise a remark says why it was kept.
//     `exp(log x) -> x` never fires: log x is NaN for x < 0.
//
//===----------------------------------------------------------------------===//
#include "RewriteUtil.h"

#include "nnc/Transforms/Passes.h"

#include <cmath>

using namespace nnc;
using namespace nnc::transforms;

namespace {

class SimplifyPass;

/// What a rule sees: the graph, the node, and a way to explain a refusal.
struct Match {
  Graph &G;
  Node &N;
  SimplifyPass &P;

  Node *op(unsigned I) const { return N.operand(I); }
  /// A remark saying why a matching rewrite did not fire.
  void refuse(const llvm::Twine &Why);
  /// A new node at N's location and role.
  Node *make(OpKind K, const TensorType &T, llvm::ArrayRef<Node *> Ops,
             Attrs A = {}) {
    return makeNode(G, K, T, Ops, N, A);
  }
};

using RuleFn = Node *(*)(Match &);

class SimplifyPass : public Pass {
public:
  SimplifyPass() : Pass("simplify") {}
  bool run(Graph &G) override;

  void refuse(const Node &N, const llvm::Twine &Why) {
    if (remarkOnce(N, Why))
      count("rewrites refused");
  }
};

void Match::refuse(const llvm::Twine &Why) { P.refuse(N, Why); }

/// The scalar value of a scalar Const operand, if it is one.
std::optional<double> scalarOf(const Node *N) {
  if (!N->isScalarConst())
    return std::nullopt;
  return N->scalarValue();
}

//===----------------------------------------------------------------------===//
// Identity elements: x*1, x+0, x-0, x/1, pow(x, 1)
//===----------------------------------------------------------------------===//

/// `op(x, e) -> x` and (if `Commutes`) `op(e, x) -> x`, broadcasting x to
/// the result type when the identity element widened it.
Node *dropIdentity(Match &M, double E, bool Commutes) {
  for (unsigned I : {1u, 0u}) {
    if (I == 0 && !Commutes)
      break;
    if (isSplatOf(M.op(I), E))
      if (Node *R = broadcastTo(M.G, M.op(1 - I), M.N.Type, M.N))
        return R;
  }
  return nullptr;
}

// before: %r = mul %x, 1      (or mul 1, %x; the autodiff seed makes these)
// after:  %x
Node *mulOne(Match &M) { return dropIdentity(M, 1.0, /*Commutes=*/true); }

// before: %r = add %x, 0      (or add 0, %x)
// after:  %x
Node *addZero(Match &M) { return dropIdentity(M, 0.0, /*Commutes=*/true); }

// before: %r = sub %x, 0
// after:  %x
Node *subZero(Match &M) { return dropIdentity(M, 0.0, /*Commutes=*/false); }

// before: %r = div %x, 1
// after:  %x
Node *divOne(Match &M) { return dropIdentity(M, 1.0, /*Commutes=*/false); }

// before: %r = pow %x, 1
// after:  %x
Node *powOne(Match &M) { return dropIdentity(M, 1.0, /*Commutes=*/false); }

//===----------------------------------------------------------------------===//
// Multiplication
//===----------------------------------------------------------------------===//

// before: %r = mul %x, 0      (x known finite)
// after:  %r = broadcast 0
Node *mulZero(Match &M) {
  for (unsigned I : {1u, 0u}) {
    if (!isSplatOf(M.op(I), 0.0))
      continue;
    Node *X = M.op(1 - I);
    if (!isKnownFinite(X)) {
      M.refuse("kept " + describeNode(*X) + "*0: " + describeNode(*X) +
               " may be non-finite (inf*0 and NaN*0 are NaN)");
      return nullptr;
    }
    return makeSplat(M.G, 0.0, M.N.Type, M.N);
  }
  return nullptr;
}

// before: %r = mul %x, -1
// after:  %r = neg %x
Node *mulMinusOne(Match &M) {
  for (unsigned I : {1u, 0u})
    if (isSplatOf(M.op(I), -1.0) && M.op(1 - I)->Type == M.N.Type)
      return M.make(OpKind::Neg, M.N.Type, {M.op(1 - I)});
  return nullptr;
}

// before: %r = mul c1, (mul c2, %x)     scalar constants, one a power of two
// after:  %r = mul (c1*c2), %x
Node *mulConstants(Match &M) {
  if (M.N.dtype() != DType::F32)
    return nullptr;
  for (unsigned I : {0u, 1u}) {
    std::optional<double> C1 = scalarOf(M.op(I));
    Node *Inner = M.op(1 - I);
    if (!C1 || Inner->Kind != OpKind::Mul)
      continue;
    for (unsigned J : {0u, 1u}) {
      std::optional<double> C2 = scalarOf(Inner->operand(J));
      Node *X = Inner->operand(1 - J);
      if (!C2 || X->Type != M.N.Type)
        continue;
      double Product = *C1 * *C2;
      // A power-of-two factor only moves the exponent: (c1*c2)*x is then
      // exactly c1*(c2*x), barring overflow, which the round trip catches.
      if (!(isPowerOfTwo(*C1) || isPowerOfTwo(*C2)) ||
          double(float(Product)) != Product) {
        M.refuse("kept " + describeNode(*M.op(I)) + "*(" +
                 describeNode(*Inner->operand(J)) +
                 "*x): combining the constants would round differently");
        return nullptr;
      }
      Node *C = makeScalar(M.G, Product, DType::F32, M.N);
      return M.make(OpKind::Mul, M.N.Type, {C, X});
    }
  }
  return nullptr;
}

// before: %r = div %x, c      (c a power of two)
// after:  %r = mul %x, 1/c    (exact: 1/c is a power of two too)
Node *divPowerOfTwo(Match &M) {
  std::optional<double> C = scalarOf(M.op(1));
  if (M.N.dtype() != DType::F32 || !C || !isPowerOfTwo(*C) ||
      M.op(0)->Type != M.N.Type || double(float(1 / *C)) != 1 / *C)
    return nullptr;
  return M.make(OpKind::Mul, M.N.Type,
                {M.op(0), makeScalar(M.G, 1 / *C, DType::F32, M.N)});
}

// before: %r = pow %x, 2
// after:  %r = mul %x, %x     (both round the exact square once)
Node *powTwo(Match &M) {
  if (!isSplatOf(M.op(1), 2.0) || M.op(0)->Type != M.N.Type)
    return nullptr;
  return M.make(OpKind::Mul, M.N.Type, {M.op(0), M.op(0)});
}

//===----------------------------------------------------------------------===//
// Negation
//===----------------------------------------------------------------------===//

// before: %r = neg (neg %x)
// after:  %x
Node *negNeg(Match &M) {
  if (M.op(0)->Kind != OpKind::Neg)
    return nullptr;
  return M.op(0)->operand(0);
}

// before: %r = neg (mul c, %x)     (scalar constant c)
// after:  %r = mul -c, %x
Node *negMulConst(Match &M) {
  Node *Inner = M.op(0);
  if (Inner->Kind != OpKind::Mul)
    return nullptr;
  for (unsigned J : {0u, 1u})
    if (std::optional<double> C = scalarOf(Inner->operand(J)))
      if (Inner->operand(1 - J)->Type == M.N.Type)
        return M.make(
            OpKind::Mul, M.N.Type,
            {makeScalar(M.G, -*C, M.N.dtype(), M.N), Inner->operand(1 - J)});
  return nullptr;
}

// before: %r = sub 0, %x
// after:  %r = neg %x
Node *zeroSub(Match &M) {
  if (!isSplatOf(M.op(0), 0.0) || M.op(1)->Type != M.N.Type)
    return nullptr;
  return M.make(OpKind::Neg, M.N.Type, {M.op(1)});
}

// before: %r = add %x, (neg %y)    (or add (neg %y), %x)
// after:  %r = sub %x, %y
Node *addNeg(Match &M) {
  for (unsigned I : {1u, 0u})
    if (M.op(I)->Kind == OpKind::Neg)
      return M.make(OpKind::Sub, M.N.Type, {M.op(1 - I), M.op(I)->operand(0)});
  return nullptr;
}

// before: %r = sub %x, (neg %y)
// after:  %r = add %x, %y
Node *subNeg(Match &M) {
  if (M.op(1)->Kind != OpKind::Neg)
    return nullptr;
  return M.make(OpKind::Add, M.N.Type, {M.op(0), M.op(1)->operand(0)});
}

//===----------------------------------------------------------------------===//
// Exponentials
//===----------------------------------------------------------------------===//

// before: %r = log (exp %x)
// after:  %x                  (also exact where exp would overflow)
Node *logExp(Match &M) {
  if (M.op(0)->Kind != OpKind::Exp)
    return nullptr;
  return M.op(0)->operand(0);
}

// before: %r = exp (log %x)   is NOT x: log x is NaN for x < 0 (kept)
Node *expLog(Match &M) {
  if (M.op(0)->Kind == OpKind::Log)
    M.refuse("kept exp(log x): it is NaN, not x, for x < 0");
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// before: %r = transpose (transpose %x)
// after:  %x
Node *transposeTwice(Match &M) {
  if (M.op(0)->Kind != OpKind::Transpose)
    return nullptr;
  return M.op(0)->operand(0);
}

// before: %r = reshape %x : T       (T the type of %x; also cast, broadcast)
// after:  %x
Node *sameType(Match &M) {
  return M.op(0)->Type == M.N.Type ? M.op(0) : nullptr;
}

// before: %r = reshape (reshape %x)
// after:  %r = reshape %x
Node *reshapeTwice(Match &M) {
  if (M.op(0)->Kind != OpKind::Reshape)
    return nullptr;
  Node *X = M.op(0)->operand(0);
  return X->Type == M.N.Type ? X : M.make(OpKind::Reshape, M.N.Type, {X});
}

// before: %r = broadcast (broadcast %x)
// after:  %r = broadcast %x
Node *broadcastTwice(Match &M) {
  if (M.op(0)->Kind != OpKind::Broadcast)
    return nullptr;
  return broadcastTo(M.G, M.op(0)->operand(0), M.N.Type, M.N);
}

// before: %r = OP (broadcast %a), %b      (OP elementwise, two operands)
// after:  %r = OP %a, %b                  (when a and b still broadcast to r)
Node *implicitBroadcast(Match &M) {
  for (unsigned I : {0u, 1u}) {
    if (M.op(I)->Kind != OpKind::Broadcast)
      continue;
    Node *A = M.op(I)->operand(0), *B = M.op(1 - I);
    std::optional<Shape> S = broadcastShapes(A->dims(), B->dims());
    if (!S || *S != M.N.Type.Dims)
      continue;
    Node *Ops[2];
    Ops[I] = A;
    Ops[1 - I] = B;
    return M.make(M.N.Kind, M.N.Type, Ops, M.N.A);
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

// before: %r = reduce_sum (broadcast %s : [d0, d1, ...])   (s a scalar)
// after:  %r = mul %s, d0*d1*...            (a broadcast of it for one axis)
Node *sumOfSplat(Match &M) {
  Node *B = M.op(0);
  if (B->Kind != OpKind::Broadcast || !B->operand(0)->Type.isScalar())
    return nullptr;
  Node *S = B->operand(0);
  int64_t Count =
      M.N.A.Axis == ALL_AXES ? B->Type.numElements() : B->dims()[M.N.A.Axis];
  // Counts beyond 2^24 are not exact in f32.
  if (Count > (int64_t(1) << 24))
    return nullptr;
  Node *C = makeScalar(M.G, double(Count), S->dtype(), M.N);
  Node *Product = M.make(OpKind::Mul, S->Type, {S, C});
  return broadcastTo(M.G, Product, M.N.Type, M.N);
}

// before: %r = reduce_sum %x {axis = k}   (dimension k of x is 1)
// after:  %r = reshape %x                 (also reduce_max)
Node *reduceUnitAxis(Match &M) {
  Node *X = M.op(0);
  bool Unit = M.N.A.Axis == ALL_AXES ? X->Type.numElements() == 1
                                     : X->dims()[M.N.A.Axis] == 1;
  if (!Unit || X->dtype() != M.N.dtype())
    return nullptr;
  return X->Type == M.N.Type ? X : M.make(OpKind::Reshape, M.N.Type, {X});
}

//===----------------------------------------------------------------------===//
// The rule table
//===----------------------------------------------------------------------===//

struct Rule {
  OpKind Kind;
  const char *Name; ///< Its `before -> after`, for --stats and remarks.
  RuleFn Apply;
};

const Rule KindRules[] = {
    {OpKind::Mul, "x*1 -> x", mulOne},
    {OpKind::Mul, "x*0 -> 0 (x finite)", mulZero},
    {OpKind::Mul, "x*-1 -> neg x", mulMinusOne},
    {OpKind::Mul, "c1*(c2*x) -> (c1*c2)*x", mulConstants},
    {OpKind::Add, "x+0 -> x", addZero},
    {OpKind::Add, "x+neg y -> x-y", addNeg},
    {OpKind::Sub, "x-0 -> x", subZero},
    {OpKind::Sub, "0-x -> neg x", zeroSub},
    {OpKind::Sub, "x-neg y -> x+y", subNeg},
    {OpKind::Div, "x/1 -> x", divOne},
    {OpKind::Div, "x/c -> x*(1/c) (c a power of two)", divPowerOfTwo},
    {OpKind::Pow, "pow(x, 1) -> x", powOne},
    {OpKind::Pow, "pow(x, 2) -> x*x", powTwo},
    {OpKind::Neg, "neg(neg x) -> x", negNeg},
    {OpKind::Neg, "neg(c*x) -> (-c)*x", negMulConst},
    {OpKind::Log, "log(exp x) -> x", logExp},
    {OpKind::Exp, "exp(log x) (never)", expLog},
    {OpKind::Transpose, "transpose(transpose x) -> x", transposeTwice},
    {OpKind::Reshape, "reshape x to its own shape -> x", sameType},
    {OpKind::Reshape, "reshape(reshape x) -> reshape x", reshapeTwice},
    {OpKind::Broadcast, "broadcast x to its own shape -> x", sameType},
    {OpKind::Broadcast, "broadcast(broadcast x) -> broadcast x",
     broadcastTwice},
    {OpKind::Cast, "cast x to its own type -> x", sameType},
    {OpKind::ReduceSum, "sum(broadcast s) -> s*n", sumOfSplat},
    {OpKind::ReduceSum, "sum over a size-1 axis -> reshape", reduceUnitAxis},
    {OpKind::ReduceMax, "max over a size-1 axis -> reshape", reduceUnitAxis},
};

/// Rules for every op of a class.
struct ClassRule {
  OpClass Class;
  const char *Name;
  RuleFn Apply;
};

const ClassRule ClassRules[] = {
    {OpClass::Binary, "op(broadcast a, b) -> op(a, b)", implicitBroadcast},
    {OpClass::Compare, "op(broadcast a, b) -> op(a, b)", implicitBroadcast},
};

} // namespace

bool SimplifyPass::run(Graph &G) {
  llvm::DenseSet<const Node *> Live = liveSet(G);
  bool Changed = false;
  for (Node *N : nodeOrder(G)) {
    if (N->isLeaf() || !Live.count(N))
      continue;
    Match M{G, *N, *this};
    auto Apply = [&](const char *Name, RuleFn Fn) {
      Node *New = Fn(M);
      if (!New)
        return false;
      assert(New->Type == N->Type && "simplify rule changed the type");
      remark(*N, "rewrote " + opSpelling(N->Kind) + ": " + Name);
      replaceNode(G, N, New);
      count(Name);
      Changed = true;
      return true;
    };
    bool Done = false;
    for (const Rule &R : KindRules)
      if (!Done && R.Kind == N->Kind)
        Done = Apply(R.Name, R.Apply);
    for (const ClassRule &R : ClassRules)
      if (!Done && R.Class == opClass(N->Kind))
        Done = Apply(R.Name, R.Apply);
  }
  if (Changed)
    G.topoSort();
  return Changed;
}

std::unique_ptr<Pass> nnc::createSimplifyPass() {
  return std::make_unique<SimplifyPass>();
}
