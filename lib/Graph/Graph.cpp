//===- Graph.cpp - The computational graph IR -----------------------------===//
#include "nnc/Graph/Graph.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/DenseSet.h>

#include <cassert>

using namespace nnc;

Node *Graph::create(OpKind Kind, TensorType Type,
                    llvm::ArrayRef<Node *> Operands, SourceLoc Loc, Attrs A) {
  assert((opNumOperands(Kind) < 0 ||
          int(Operands.size()) == opNumOperands(Kind)) &&
         "wrong operand count for op");
  Nodes.push_back(std::make_unique<Node>(Kind, std::move(Type), Operands, Loc));
  Nodes.back()->A = A;
  return Nodes.back().get();
}

Node *Graph::scalarConst(double V, SourceLoc Loc) {
  return constant(Tensor::scalar(float(V)), Loc);
}

Node *Graph::constant(Tensor Value, SourceLoc Loc) {
  Node *N = create(OpKind::Const, Value.Type, {}, Loc);
  N->Value = std::move(Value);
  return N;
}

/// The interface roots: every value the outside world reads.
static std::vector<Node *> interfaceRoots(const Graph &G) {
  std::vector<Node *> Roots;
  auto Add = [&](Node *N) {
    if (N)
      Roots.push_back(N);
  };
  for (Node *N : G.Inputs)
    Add(N);
  for (Node *N : G.Targets)
    Add(N);
  for (Node *N : G.Params)
    Add(N);
  for (Node *N : G.States)
    Add(N);
  for (Node *N : G.Buffers)
    Add(N);
  for (Node *N : G.Hypers)
    Add(N);
  Add(G.Loss);
  for (const NamedValue &V : G.Outputs)
    Add(V.Value);
  for (const NamedValue &V : G.Metrics)
    Add(V.Value);
  for (Node *N : G.Grads)
    Add(N);
  for (const Update &U : G.Updates) {
    Add(U.Target);
    Add(U.NewValue);
  }
  return Roots;
}

std::vector<Node *> Graph::liveNodes() const {
  llvm::DenseSet<Node *> Live;
  std::vector<Node *> Work = interfaceRoots(*this);
  while (!Work.empty()) {
    Node *N = Work.back();
    Work.pop_back();
    if (!Live.insert(N).second)
      continue;
    for (Node *Op : N->Operands)
      Work.push_back(Op);
  }
  std::vector<Node *> Result;
  for (const auto &N : Nodes)
    if (Live.count(N.get()))
      Result.push_back(N.get());
  return Result;
}

llvm::DenseSet<const Node *> Graph::resultValues() const {
  llvm::DenseSet<const Node *> R;
  auto Add = [&](const Node *N) {
    if (N)
      R.insert(N);
  };
  Add(Loss);
  for (const NamedValue &V : Outputs)
    Add(V.Value);
  for (const NamedValue &V : Metrics)
    Add(V.Value);
  for (const Node *N : Grads)
    Add(N);
  for (const Update &U : Updates)
    Add(U.NewValue);
  return R;
}

void Graph::eraseDeadNodes() {
  std::vector<Node *> Live = liveNodes();
  llvm::DenseSet<Node *> LiveSet(Live.begin(), Live.end());
  std::erase_if(Nodes, [&](const std::unique_ptr<Node> &N) {
    return !LiveSet.count(N.get());
  });
}

void Graph::topoSort() {
  // Iterative DFS post-order from each node in current order: a node is
  // emitted after all its operands, and otherwise keeps its place.
  llvm::DenseMap<Node *, unsigned> Index;
  for (unsigned I = 0; I < Nodes.size(); ++I)
    Index[Nodes[I].get()] = I;
  std::vector<std::unique_ptr<Node>> Sorted;
  Sorted.reserve(Nodes.size());
  std::vector<uint8_t> State(Nodes.size(), 0); // 0 new, 1 open, 2 done
  for (unsigned Root = 0; Root < Nodes.size(); ++Root) {
    std::vector<std::pair<unsigned, unsigned>> Stack{{Root, 0}};
    while (!Stack.empty()) {
      auto &[I, Next] = Stack.back();
      if (State[I] == 2) {
        Stack.pop_back();
        continue;
      }
      State[I] = 1;
      Node *N = Nodes[I].get();
      if (Next < N->Operands.size()) {
        unsigned Op = Index.lookup(N->Operands[Next++]);
        assert(State[Op] != 1 && "cycle in graph");
        if (State[Op] == 0)
          Stack.push_back({Op, 0});
        continue;
      }
      State[I] = 2;
      Sorted.push_back(std::move(Nodes[I]));
      Stack.pop_back();
    }
  }
  Nodes = std::move(Sorted);
}

std::unique_ptr<Graph> Graph::clone(std::string NewName) const {
  auto C = std::make_unique<Graph>(std::move(NewName));
  llvm::DenseMap<const Node *, Node *> Copy;
  for (const auto &N : Nodes) {
    llvm::SmallVector<Node *, 2> Ops;
    for (Node *Op : N->Operands)
      Ops.push_back(Copy.lookup(Op));
    Node *M = C->create(N->Kind, N->Type, Ops, N->Loc, N->A);
    M->Name = N->Name;
    M->Role = N->Role;
    M->Init = N->Init;
    M->Value = N->Value;
    M->Kernel = N->Kernel;
    M->Stored = N->Stored;
    Copy[N.get()] = M;
  }
  auto Map = [&](const std::vector<Node *> &From, std::vector<Node *> &To) {
    for (Node *N : From)
      To.push_back(Copy.lookup(N));
  };
  Map(Inputs, C->Inputs);
  Map(Targets, C->Targets);
  Map(Params, C->Params);
  Map(States, C->States);
  Map(Buffers, C->Buffers);
  Map(Hypers, C->Hypers);
  Map(Grads, C->Grads);
  C->Loss = Copy.lookup(Loss);
  C->LossName = LossName;
  C->LossLoc = LossLoc;
  for (const NamedValue &V : Outputs)
    C->Outputs.push_back({V.Name, Copy.lookup(V.Value), V.Loc, V.Stored});
  for (const NamedValue &V : Metrics)
    C->Metrics.push_back({V.Name, Copy.lookup(V.Value), V.Loc});
  for (const Update &U : Updates)
    C->Updates.push_back({Copy.lookup(U.Target), Copy.lookup(U.NewValue)});
  C->BatchSize = BatchSize;
  C->Unbatched = Unbatched;
  return C;
}

void Graph::replaceAllUsesWith(Node *Old, Node *New) {
  for (const auto &N : Nodes)
    for (Node *&Op : N->Operands)
      if (Op == Old)
        Op = New;
  auto Swap = [&](Node *&P) {
    if (P == Old)
      P = New;
  };
  Swap(Loss);
  for (NamedValue &V : Outputs)
    Swap(V.Value);
  for (NamedValue &V : Metrics)
    Swap(V.Value);
  for (Node *&N : Grads)
    Swap(N);
  for (Update &U : Updates)
    Swap(U.NewValue);
}
