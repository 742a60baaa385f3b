//===- SoftmaxCE.cpp - softmax + cross-entropy gradient rewrite -----------===//
//
// Sema lowers `cross_entropy(s, y)` (y i32 labels) to
// `-mean_rows(sum_j one_hot(y, C) * log_softmax(s))`, and autodiff turns the
// log_softmax into its general backward:
//
//   before:  G = c * one_hot(y)                      c: scalar adjoint, -1/B
//            D = G - softmax(s) * reduce_sum(G, axis = 1, keepdims)
//   after:   H = eq(reshape(y, [B, 1]), [0, 1, ..., C-1])   (one_hot,
//   elementwise)
//            V = (y >= 0) * (y < C)                 per element, broadcast row
//            D = (exp(log_softmax(s)) * V - H) * (-c)
//
// Why it is exact: a row of one_hot sums to 1 for a label in [0, C) and to 0
// otherwise (the reference one_hot gives a zero row), so
// reduce_sum(G) = c * V and D = c*H - P*c*V = (P*V - H) * (-c) with
// P = softmax(s). For a valid row that is the textbook softmax - one_hot;
// for an out-of-range label it is 0 (NaN when P is, as before) — dropping V
// would give P/B instead. exp(log_softmax(s)) equals softmax(s) up to a few
// ulps and reuses the forward's log_softmax, so no second softmax over the
// logits is needed; the rounding differs only at that level (the tolerance
// of the O2KeepsValues and Fusion differential tests).
//
// The fuse partition that follows then puts the forward product
// `H * log_softmax(s)` and the whole gradient into the epilogue of the one
// log_softmax kernel (one pass over the logits rows, then one loop over the
// row block while it is hot); before, one_hot, the row sums and the backward
// softmax were three further anchors.
//
// Algorithm:
//   1. For each live `sub` matching D above (in either operand order of the
//      product), check: logits [B, C] normalized over the last axis; G a
//      scalar (or a broadcast scalar) times a one_hot of the same shape; a
//      live forward log_softmax of the same logits to share. A failed check
//      is remarked with its reason and the node is kept.
//   2. Build H, V, exp and the new D; H replaces the one_hot everywhere
//      (same values), the new D replaces the old one.
//   3. If anything fired: restore topological order, drop the dead nodes.
//
//===----------------------------------------------------------------------===//
#include "SoftmaxCE.h"

#include "RewriteUtil.h"

#include <optional>

using namespace nnc;
using namespace nnc::transforms;

namespace {

/// The scalar `c` when `N` is a scalar or a broadcast of one.
Node *scalarFactor(Node *N) {
  if (N->Type.isScalar())
    return N;
  if (N->Kind == OpKind::Broadcast && N->operand(0)->Type.isScalar())
    return N->operand(0);
  return nullptr;
}

/// A matched log_softmax backward `D = G - softmax(S) * reduce_sum(G)`.
struct Candidate {
  Node *G;
  Node *S;
};

std::optional<Candidate> matchBackward(Node *D) {
  if (D->Kind != OpKind::Sub || D->operand(1)->Kind != OpKind::Mul)
    return std::nullopt;
  Node *G = D->operand(0), *T = D->operand(1);
  for (unsigned I = 0; I < 2; ++I) {
    Node *P = T->operand(I), *R = T->operand(1 - I);
    if (P->Kind == OpKind::Softmax && R->Kind == OpKind::ReduceSum &&
        R->A.KeepDims && R->operand(0) == G && R->A.Axis == P->A.Axis &&
        P->Type == D->Type && G->Type == D->Type)
      return Candidate{G, P->operand(0)};
  }
  return std::nullopt;
}

class Rewriter {
public:
  Rewriter(Graph &G, SoftmaxCERemark Remark) : G(G), Remark(Remark) {}

  unsigned run() {
    llvm::DenseSet<const Node *> Live = liveSet(G);
    std::vector<Node *> Order = nodeOrder(G);
    unsigned Fired = 0;
    for (Node *D : Order) {
      if (!Live.count(D))
        continue;
      std::optional<Candidate> C = matchBackward(D);
      if (!C)
        continue;
      std::string Why = tryRewrite(D, *C, Order, Live);
      if (!Why.empty()) {
        Remark(*D,
               "kept the log_softmax gradient " + describeNode(*D) + ": " + Why,
               /*Refused=*/true);
        continue;
      }
      ++Fired;
    }
    if (Fired) {
      G.topoSort();
      G.eraseDeadNodes();
    }
    return Fired;
  }

private:
  Graph &G;
  SoftmaxCERemark Remark;

  /// Rewrites `D` and returns "", or returns why not.
  std::string tryRewrite(Node *D, const Candidate &C,
                         llvm::ArrayRef<Node *> Order,
                         const llvm::DenseSet<const Node *> &Live) {
    Node *S = C.S;
    const Node *Prod = D->operand(1);
    const Node *P = Prod->operand(0)->Kind == OpKind::Softmax
                        ? Prod->operand(0)
                        : Prod->operand(1);
    if (S->Type.rank() != 2 || P->A.Axis != 1)
      return "only [rows, classes] logits normalized over the classes are "
             "rewritten";
    // G = c * one_hot(y): its rows sum to c or 0, which the rewrite needs.
    Node *OH = nullptr, *Scale = nullptr;
    if (C.G->Kind == OpKind::Mul)
      for (unsigned I = 0; I < 2 && !OH; ++I)
        if (C.G->operand(I)->Kind == OpKind::OneHot &&
            (Scale = scalarFactor(C.G->operand(1 - I))))
          OH = C.G->operand(I);
    if (!OH || OH->Type != S->Type)
      return "its adjoint " + describeNode(*C.G) +
             " is not a scalar times one_hot(labels) (e.g. f32 targets), so "
             "its rows need not sum to 0 or 1 and softmax - targets would "
             "differ";
    Node *LS = nullptr;
    for (Node *N : Order)
      if (N->Kind == OpKind::LogSoftmax && N->operand(0) == S &&
          N->A.Axis == 1 && Live.count(N)) {
        LS = N;
        break;
      }
    if (!LS)
      return "no forward log_softmax of " + describeNode(*S) + " to share";

    int64_t B = S->dims()[0], NumClasses = S->dims()[1];
    Node *Labels = OH->operand(0);
    TensorType Mask(DType::F32, {B, NumClasses});
    // H = one_hot(y) as a comparison with a row of class indices.
    Node *Column = makeNode(G, OpKind::Reshape, TensorType(DType::I32, {B, 1}),
                            {Labels}, *OH);
    Tensor IotaValue(TensorType(DType::I32, {NumClasses}));
    for (int64_t J = 0; J < NumClasses; ++J)
      IotaValue.set(J, double(J));
    Node *Iota = G.constant(std::move(IotaValue), OH->Loc);
    Iota->Role = OH->Role;
    Node *H = makeNode(G, OpKind::CmpEq, Mask, {Column, Iota}, *OH);
    // V: 1 where the label is a class, else 0 (the row sum of one_hot). The
    // label is broadcast to full rows first so that every member of the
    // fused loop nest has its shape (a [B, 1] value would be stored).
    Node *Wide =
        makeNode(G, OpKind::Broadcast, TensorType(DType::I32, {B, NumClasses}),
                 {Column}, *D);
    Node *Ge = makeNode(G, OpKind::CmpGe, Mask,
                        {Wide, makeScalar(G, 0, DType::I32, *D)}, *D);
    Node *Lt =
        makeNode(G, OpKind::CmpLt, Mask,
                 {Wide, makeScalar(G, double(NumClasses), DType::I32, *D)}, *D);
    Node *V = makeNode(G, OpKind::Mul, Mask, {Ge, Lt}, *D);
    Node *Prob = makeNode(G, OpKind::Exp, Mask, {LS}, *D);
    Node *Diff =
        makeNode(G, OpKind::Sub, Mask,
                 {makeNode(G, OpKind::Mul, Mask, {Prob, V}, *D), H}, *D);
    Node *NegScale = Scale->isScalarConst()
                         ? makeScalar(G, -Scale->scalarValue(), DType::F32, *D)
                         : makeNode(G, OpKind::Neg, Scale->Type, {Scale}, *D);
    Node *NewD = makeNode(G, OpKind::Mul, Mask, {Diff, NegScale}, *D);
    std::string Msg = "gradient " + describeNode(*D) + " of cross_entropy(" +
                      describeNode(*S) + ", " + describeNode(*Labels) +
                      ") as (exp(log_softmax) - one_hot) * " +
                      describeNode(*NegScale) +
                      ", sharing the forward log_softmax; labels outside [0, " +
                      std::to_string(NumClasses) + ") still give zero rows";
    replaceNode(G, OH, H);
    replaceNode(G, D, NewD);
    Remark(*NewD, Msg, /*Refused=*/false);
    return "";
  }
};

} // namespace

unsigned transforms::rewriteSoftmaxCrossEntropy(Graph &G,
                                                SoftmaxCERemark Remark) {
  return Rewriter(G, Remark).run();
}
