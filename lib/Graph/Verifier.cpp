//===- Verifier.cpp - Structural invariants of a graph --------------------===//
//
// `verifyGraph` is run after building a graph and (with --verify-each) after
// every pass. A violation is a compiler bug, so the result is a plain
// sentence naming the node as the printer would, not a user diagnostic.
//
// Algorithm:
//   1. Number the nodes in graph order.
//   2. For each node: operand count from Ops.def, every operand a node of
//      this graph placed earlier (topological order), the result type by the
//      shared shape rules (ShapeRules.h), and const/param literal types.
//   3. The interface: every listed node belongs to the graph and has the
//      right kind; the loss and metrics are scalars; grads match params one
//      to one in type; each update's new value has its target's type.
//   4. The kernel partition (`Node::Kernel`, set by the `fuse` pass), where
//      present: leaves are in no kernel, every kernel is legal by the one
//      rule the fusion pass and the code generator apply too (`planKernel`,
//      KernelPartition.h), and the kernels, run as wholes, are acyclic.
//
//===----------------------------------------------------------------------===//
#include "PrintUtil.h"

#include "nnc/Graph/KernelPartition.h"
#include "nnc/Graph/ShapeRules.h"
#include "nnc/Graph/Verifier.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/DenseSet.h>

#include <map>
#include <vector>

using namespace nnc;
using namespace nnc::detail;

namespace {

class Verifier {
public:
  explicit Verifier(const Graph &G) : G(G), Names(G) {
    for (size_t I = 0; I < G.size(); ++I)
      Position[G.nodes()[I].get()] = I;
  }

  std::string run() {
    for (size_t I = 0; I < G.size(); ++I)
      if (!checkNode(*G.nodes()[I], I))
        return Error;
    if (checkInterface())
      checkKernels();
    return Error;
  }

private:
  const Graph &G;
  NodeNamer Names;
  llvm::DenseMap<const Node *, size_t> Position;
  std::string Error;

  bool fail(const std::string &Msg) {
    if (Error.empty())
      Error = Msg;
    return false;
  }

  /// "node %h (sigmoid, line 11)": how errors point at a node.
  std::string describe(const Node &N) const {
    std::string S = "node " + Names.ref(&N) + " (" + opSpelling(N.Kind).str();
    if (N.Loc.isValid())
      S += ", line " + std::to_string(N.Loc.Line);
    return S + ")";
  }

  bool belongs(const Node *N) const { return N && Position.count(N); }

  bool checkLiteral(const Node &N, const Tensor &T, const char *What) {
    if (T.Type != N.Type)
      return fail(describe(N) + ": " + What + " has type " +
                  formatType(T.Type) + " but the node is " +
                  formatType(N.Type));
    size_t Size = T.Type.Elem == DType::F32 ? T.F.size() : T.I.size();
    if (int64_t(Size) != T.numElements())
      return fail(describe(N) + ": " + What + " holds " + std::to_string(Size) +
                  " elements, its type needs " +
                  std::to_string(T.numElements()));
    return true;
  }

  bool checkNode(const Node &N, size_t Pos) {
    int Arity = opNumOperands(N.Kind);
    if (N.isLeaf() && !N.Operands.empty())
      return fail(describe(N) + ": a leaf has no operands");
    if (Arity >= 0 && int(N.Operands.size()) != Arity)
      return fail(describe(N) + ": takes " + std::to_string(Arity) +
                  " operands, has " + std::to_string(N.Operands.size()));
    llvm::SmallVector<TensorType, 2> OperandTypes;
    for (unsigned I = 0; I < N.Operands.size(); ++I) {
      const Node *Op = N.Operands[I];
      if (!belongs(Op))
        return fail(describe(N) + ": operand " + std::to_string(I) +
                    " is not a node of this graph");
      if (Position.lookup(Op) >= Pos)
        return fail(describe(N) + ": operand " + Names.ref(Op) +
                    " comes after its user (graph not topologically sorted)");
      OperandTypes.push_back(Op->Type);
    }
    for (int64_t D : N.Type.Dims)
      if (D < 0)
        return fail(describe(N) + ": negative dimension in " +
                    formatType(N.Type));
    if (N.Type.numElements() > MaxTensorElements)
      return fail(describe(N) + ": " + formatType(N.Type) + " is too large");
    std::string Why;
    if (!checkResultType(N.Kind, OperandTypes, N.A, N.Type, Why))
      return fail(describe(N) + ": " + Why);
    if (N.Kind == OpKind::Const)
      return checkLiteral(N, N.Value, "the constant");
    if (N.Kind == OpKind::Param && N.Init.Kind == InitSpec::Literal)
      return checkLiteral(N, N.Init.Value, "the initializer");
    return true;
  }

  /// `Role` names the interface entry, e.g. "loss" or "output y".
  bool checkMember(const Node *N, const std::string &Role) {
    if (!belongs(N))
      return fail(Role + " is not a node of this graph");
    return true;
  }

  bool checkLeafList(const std::vector<Node *> &List, OpKind Kind,
                     const char *Role) {
    for (const Node *N : List) {
      if (!checkMember(N, Role))
        return false;
      if (N->Kind != Kind)
        return fail(std::string(Role) + " " + Names.ref(N) + " is a " +
                    opSpelling(N->Kind).str() + " node, not " +
                    opSpelling(Kind).str());
    }
    return true;
  }

  bool checkScalar(const Node *N, const std::string &Role) {
    if (!checkMember(N, Role))
      return false;
    if (!N->Type.isScalar())
      return fail(Role + " " + Names.ref(N) + " must be a scalar, not " +
                  formatType(N->Type));
    return true;
  }

  bool checkKernels() {
    std::map<int, std::vector<const Node *>> Kernels;
    llvm::DenseMap<const Node *, std::vector<const Node *>> Users;
    for (const auto &P : G.nodes()) {
      const Node &N = *P;
      for (const Node *Op : N.Operands)
        Users[Op].push_back(&N);
      if (N.Kernel < -1)
        return fail(describe(N) + ": kernel id " + std::to_string(N.Kernel));
      if (N.Kernel < 0)
        continue;
      if (N.isLeaf())
        return fail(describe(N) + ": a leaf is in kernel " +
                    std::to_string(N.Kernel));
      Kernels[N.Kernel].push_back(&N);
    }
    // Acyclic: kernels (and unpartitioned nodes) as units, Kahn's algorithm.
    llvm::DenseMap<const Node *, unsigned> UnitOf;
    std::map<int, unsigned> ByKernel;
    unsigned NumUnits = 0;
    for (const auto &P : G.nodes()) {
      unsigned U = NumUnits;
      if (P->Kernel >= 0)
        U = ByKernel.try_emplace(P->Kernel, U).first->second;
      NumUnits += U == NumUnits;
      UnitOf[P.get()] = U;
    }
    std::vector<std::vector<unsigned>> Succ(NumUnits);
    std::vector<unsigned> Preds(NumUnits, 0);
    for (const auto &P : G.nodes())
      for (const Node *Op : P->Operands) {
        unsigned From = UnitOf.lookup(Op), To = UnitOf.lookup(P.get());
        if (From != To) {
          Succ[From].push_back(To);
          ++Preds[To];
        }
      }
    std::vector<unsigned> Ready;
    for (unsigned U = 0; U < NumUnits; ++U)
      if (!Preds[U])
        Ready.push_back(U);
    unsigned Done = 0;
    while (!Ready.empty()) {
      unsigned U = Ready.back();
      Ready.pop_back();
      ++Done;
      for (unsigned S : Succ[U])
        if (!--Preds[S])
          Ready.push_back(S);
    }
    if (Done != NumUnits)
      return fail("the kernels are cyclic: some value leaves a kernel and "
                  "comes back into it through another");
    llvm::DenseSet<const Node *> Results = G.resultValues();
    for (const auto &[K, Members] : Kernels) {
      int Id = K;
      KernelPlan Plan = planKernel(Members, [&](const Node *N) {
        return Results.count(N) ||
               llvm::any_of(Users.lookup(N),
                            [&](const Node *U) { return U->Kernel != Id; });
      });
      if (!Plan.isLegal())
        return fail("kernel " + std::to_string(K) +
                    " is illegal: " + Plan.WhyNot);
    }
    return true;
  }

  bool checkInterface() {
    if (!checkLeafList(G.Inputs, OpKind::Input, "input") ||
        !checkLeafList(G.Targets, OpKind::Target, "target") ||
        !checkLeafList(G.Params, OpKind::Param, "param") ||
        !checkLeafList(G.States, OpKind::State, "state") ||
        !checkLeafList(G.Buffers, OpKind::Buffer, "buffer") ||
        !checkLeafList(G.Hypers, OpKind::Hyper, "hyper"))
      return false;
    if (G.Loss && !checkScalar(G.Loss, "loss"))
      return false;
    for (const NamedValue &V : G.Outputs)
      if (!checkMember(V.Value, "output " + V.Name))
        return false;
    for (const NamedValue &V : G.Metrics)
      if (!checkScalar(V.Value, "metric " + V.Name))
        return false;
    if (!G.Grads.empty() && G.Grads.size() != G.Params.size())
      return fail("there are " + std::to_string(G.Grads.size()) +
                  " grads for " + std::to_string(G.Params.size()) + " params");
    for (size_t I = 0; I < G.Grads.size(); ++I) {
      const Node *P = G.Params[I], *D = G.Grads[I];
      std::string Role = "grad " + P->Name;
      if (!checkMember(D, Role))
        return false;
      if (D->Type != P->Type)
        return fail(Role + " has type " + formatType(D->Type) +
                    " but the param is " + formatType(P->Type));
    }
    for (const Update &U : G.Updates) {
      if (!checkMember(U.Target, "an update target") ||
          !checkMember(U.NewValue, "an update value"))
        return false;
      std::string Role = "update " + Names.ref(U.Target);
      if (U.Target->Kind != OpKind::Param && U.Target->Kind != OpKind::State &&
          U.Target->Kind != OpKind::Buffer)
        return fail(Role + ": only params, state and buffers can be updated");
      if (U.NewValue->Type != U.Target->Type)
        return fail(Role + ": new value " + Names.ref(U.NewValue) +
                    " has type " + formatType(U.NewValue->Type) +
                    " but the target is " + formatType(U.Target->Type));
    }
    return true;
  }
};

} // namespace

std::string nnc::verifyGraph(const Graph &G) { return Verifier(G).run(); }
