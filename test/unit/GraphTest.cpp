//===- GraphTest.cpp - Unit tests of the graph IR core --------------------===//
#include "nnc/Graph/Graph.h"

#include <gtest/gtest.h>

using namespace nnc;

TEST(Types, BroadcastFollowsNumPy) {
  EXPECT_EQ(*broadcastShapes({4, 3}, {3}), Shape({4, 3}));
  EXPECT_EQ(*broadcastShapes({4, 1}, {1, 5}), Shape({4, 5}));
  EXPECT_EQ(*broadcastShapes({}, {2, 2}), Shape({2, 2}));
  EXPECT_FALSE(broadcastShapes({4, 3}, {4, 2}).has_value());
}

TEST(Types, Format) {
  EXPECT_EQ(formatType(TensorType(DType::F32, {4, 3})), "f32[4, 3]");
  EXPECT_EQ(formatType(TensorType::scalar(DType::I32)), "i32[]");
}

TEST(Graph, TopoSortPutsOperandsFirst) {
  Graph G("g");
  TensorType T(DType::F32, {2});
  Node *X = G.create(OpKind::Input, T, {});
  Node *A = G.create(OpKind::Exp, T, {X});
  Node *B = G.create(OpKind::Neg, T, {X});
  // Rewire A to read B, which comes after it.
  A->Operands[0] = B;
  G.topoSort();
  auto Pos = [&](Node *N) {
    for (unsigned I = 0; I < G.size(); ++I)
      if (G.nodes()[I].get() == N)
        return I;
    return ~0u;
  };
  EXPECT_LT(Pos(X), Pos(B));
  EXPECT_LT(Pos(B), Pos(A));
}

TEST(Graph, DeadNodesAreErased) {
  Graph G("g");
  TensorType T(DType::F32, {2});
  Node *X = G.create(OpKind::Input, T, {});
  G.Inputs.push_back(X);
  G.create(OpKind::Exp, T, {X}); // unused
  Node *Y = G.create(OpKind::Neg, T, {X});
  G.Outputs.push_back({"y", Y, {}});
  G.eraseDeadNodes();
  EXPECT_EQ(G.size(), 2u);
}
