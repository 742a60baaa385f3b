//===- CSE.cpp - Common-subexpression elimination -------------------------===//
//
// Hash-consing: two nodes with the same op, operands, attributes, type (and,
// for constants, value) compute the same value, so one of them suffices.
// Autodiff produces many such pairs (the forward `sub 1, %h` of a sigmoid
// and its backward twin, repeated transposes of one weight, equal scalar
// constants).
//
// Algorithm:
//   1. Walk the live nodes in topological order, so a node's operands have
//      already been replaced by their representatives when it is reached.
//   2. Leaves other than Const are never merged: two inputs or params with
//      the same type are different values; nor are impure ops (two
//      dropouts of one value draw different masks).
//   3. Key = (op, type, attributes, operands, const value); for ops that
//      commute (Ops.def's TRAIT_COMMUTES) the two operands are taken as an
//      unordered pair.
//   4. The first node with a key is its representative; a later node with
//      the same key is replaced by it. The representative takes the other's
//      name if it has none, or if the other is a forward value and it is
//      not (forward names are what users wrote); and it takes the earlier
//      role (a value both passes use belongs to the forward pass).
//   5. Replaced nodes are left for dce.
//
//===----------------------------------------------------------------------===//
#include "RewriteUtil.h"

#include "nnc/Transforms/Passes.h"

#include <llvm/ADT/Hashing.h>

#include <bit>
#include <cstring>
#include <unordered_map>

using namespace nnc;
using namespace nnc::transforms;

namespace {

class CSEPass : public Pass {
public:
  CSEPass() : Pass("cse") {}
  bool run(Graph &G) override;
};

/// The operands in key order (step 3).
llvm::SmallVector<const Node *, 2> keyOperands(const Node &N) {
  llvm::SmallVector<const Node *, 2> Ops(N.Operands.begin(), N.Operands.end());
  if (commutes(N.Kind) && Ops.size() == 2 && std::less<>()(Ops[1], Ops[0]))
    std::swap(Ops[0], Ops[1]);
  return Ops;
}

bool sameValue(const Tensor &A, const Tensor &B) {
  if (A.Type != B.Type || A.F.size() != B.F.size() || A.I.size() != B.I.size())
    return false;
  // Bitwise: +0 and -0 differ, and a NaN constant equals itself.
  // (An empty vector's data() may be null, which memcmp must not see.)
  return (A.F.empty() || std::memcmp(A.F.data(), B.F.data(),
                                     A.F.size() * sizeof(float)) == 0) &&
         (A.I.empty() || std::memcmp(A.I.data(), B.I.data(),
                                     A.I.size() * sizeof(int32_t)) == 0);
}

size_t hashNode(const Node &N) {
  llvm::hash_code H = llvm::hash_combine(
      unsigned(N.Kind), unsigned(N.Type.Elem),
      llvm::hash_combine_range(N.Type.Dims.begin(), N.Type.Dims.end()),
      N.A.Axis, N.A.KeepDims, N.A.Stride, N.A.Padding, N.A.Size,
      std::bit_cast<uint64_t>(N.A.Alpha), N.A.Offset,
      std::bit_cast<uint64_t>(N.A.Rate), std::bit_cast<uint64_t>(N.A.Eps),
      N.A.Stream);
  for (const Node *Op : keyOperands(N))
    H = llvm::hash_combine(H, Op);
  if (N.Kind == OpKind::Const) {
    // The bytes, like sameValue compares them.
    auto Bytes = [](const auto &V) {
      const char *P = reinterpret_cast<const char *>(V.data());
      return llvm::hash_combine_range(P, P + V.size() * sizeof(V[0]));
    };
    H = llvm::hash_combine(H, Bytes(N.Value.F), Bytes(N.Value.I));
  }
  return size_t(H);
}

bool sameNode(const Node &A, const Node &B) {
  if (A.Kind != B.Kind || A.Type != B.Type || !(A.A == B.A) ||
      keyOperands(A) != keyOperands(B))
    return false;
  return A.Kind != OpKind::Const || sameValue(A.Value, B.Value);
}

/// Step 4: `Keep` absorbs `Gone`'s name and role.
void merge(Graph &G, Node *Keep, Node *Gone) {
  bool TakeName = !Gone->Name.empty() &&
                  (Keep->Name.empty() || (Gone->Role == NodeRole::Forward &&
                                          Keep->Role != NodeRole::Forward));
  if (TakeName)
    Keep->Name = Gone->Name;
  Keep->Role = std::min(Keep->Role, Gone->Role);
  G.replaceAllUsesWith(Gone, Keep);
}

} // namespace

bool CSEPass::run(Graph &G) {
  llvm::DenseSet<const Node *> Live = liveSet(G);
  std::unordered_multimap<size_t, Node *> Seen;
  bool Changed = false;
  for (Node *N : nodeOrder(G)) {
    if (!Live.count(N) || (N->isLeaf() && N->Kind != OpKind::Const) ||
        isImpure(N->Kind))
      continue;
    size_t H = hashNode(*N);
    Node *Rep = nullptr;
    for (auto [It, End] = Seen.equal_range(H); It != End && !Rep; ++It)
      if (sameNode(*It->second, *N))
        Rep = It->second;
    if (!Rep) {
      Seen.emplace(H, N);
      continue;
    }
    // Scalar constants print inline; merging them is bookkeeping, not
    // something a reader of the remarks cares about.
    if (!N->isScalarConst())
      remark(*N, "merged " + opSpelling(N->Kind) + " into an equal " +
                     describeNode(*Rep) +
                     (Rep->Loc.isValid()
                          ? " from line " + std::to_string(Rep->Loc.Line)
                          : std::string()));
    merge(G, Rep, N);
    count(N->isScalarConst() ? "scalar constants merged" : "nodes merged");
    Changed = true;
  }
  return Changed;
}

std::unique_ptr<Pass> nnc::createCSEPass() {
  return std::make_unique<CSEPass>();
}
