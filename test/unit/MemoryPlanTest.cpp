//===- MemoryPlanTest.cpp - The arena plan on hand-made entry points ------===//
//
// The memory plan (lib/CodeGen/MemoryPlan.h) is a pure function of a few
// facts about an entry point, so these tests state the facts directly —
// values with their sizes, units with what they read and write, results —
// and check the placement: first fit over dead blocks, no kernel writing
// over what it reads unless planned in place, in place over inputs that
// die, updates written into their param's slot only when nothing else
// reads the old value, aliases, results living to the end, alignment, the
// `--stats` figures and the staging of updates.
//
//===----------------------------------------------------------------------===//
#include "CodeGen/MemoryPlan.h"

#include <gtest/gtest.h>

using namespace nnc;
using namespace nnc::codegen;

namespace {

using Home = MemoryPlanRequest::Home;
using Output = MemoryPlanRequest::Output;

/// Builds a request value by value and unit by unit.
struct Request {
  MemoryPlanRequest R;

  unsigned add(Home Kind, int64_t Bytes, int Owner = -1) {
    R.Values.push_back({Kind, Bytes, Owner});
    return unsigned(R.Values.size() - 1);
  }
  /// A value computed into the arena.
  unsigned arena(int64_t Bytes = 64) { return add(Home::Arena, Bytes); }
  /// A leaf in its own slot (a param, say).
  unsigned slot(int64_t Bytes = 64) { return add(Home::Slot, Bytes); }
  /// A reshape of `Owner`.
  unsigned alias(unsigned Owner) {
    return add(Home::Other, R.Values[Owner].Bytes, int(Owner));
  }
  /// A unit writing `Outputs` and reading `Inputs`.
  void unit(std::vector<Output> Outputs, std::vector<unsigned> Inputs = {}) {
    R.Units.push_back({std::move(Outputs), std::move(Inputs)});
  }
  void result(unsigned Value, int UpdateOf = -1) {
    R.Results.push_back({Value, UpdateOf});
  }
  MemoryPlan plan() const { return planMemory(R); }
};

TEST(MemoryPlan, FirstFitReusesDeadBlocks) {
  Request Q;
  unsigned A = Q.arena(64), B = Q.arena(128), C = Q.arena(64), D = Q.arena(128),
           E = Q.arena(64);
  Q.unit({{A}});
  Q.unit({{B}});
  Q.unit({{C}}, {A});    // A dies: a 64-byte gap at 0
  Q.unit({{D}}, {B, C}); // D does not fit the gap
  Q.unit({{E}}, {D});    // E does
  Q.result(E);
  MemoryPlan P = Q.plan();
  EXPECT_EQ(P.Offset[A], 0);
  EXPECT_EQ(P.Offset[B], 64);
  EXPECT_EQ(P.Offset[C], 192);
  EXPECT_EQ(P.Offset[D], 256);
  EXPECT_EQ(P.Offset[E], 0);
  EXPECT_EQ(P.Stats.BytesAfter, 384);
}

TEST(MemoryPlan, UnitNeverWritesOverWhatItReads) {
  Request Q;
  unsigned A = Q.arena(), B = Q.arena(), C = Q.arena();
  Q.unit({{A}});
  // A dies in the unit that writes B and C, but without in-place
  // candidates neither may take its block, nor each other's.
  Q.unit({{B}, {C}}, {A});
  Q.result(B);
  Q.result(C);
  MemoryPlan P = Q.plan();
  EXPECT_EQ(P.Offset[A], 0);
  EXPECT_EQ(P.Offset[B], 64);
  EXPECT_EQ(P.Offset[C], 128);
  EXPECT_EQ(P.InPlace[1][0], -1);
  EXPECT_EQ(P.InPlace[1][1], -1);
  EXPECT_EQ(P.Stats.InPlace, 0);
}

TEST(MemoryPlan, InPlaceOverAnInputThatDies) {
  Request Q;
  unsigned X = Q.arena(), Y = Q.arena(), A = Q.arena(), B = Q.arena(),
           C = Q.arena();
  Q.unit({{X}});
  Q.unit({{Y}});
  // A may overwrite X (input 0) or Y (input 1): X is still read later, so
  // A takes Y's block; B may only overwrite Y, which A took.
  Q.unit({{A, {0, 1}}, {B, {1}}}, {X, Y});
  Q.unit({{C}}, {X, A, B});
  Q.result(C);
  MemoryPlan P = Q.plan();
  EXPECT_EQ(P.Offset[A], P.Offset[Y]);
  EXPECT_EQ(P.InPlace[2][0], 1);
  EXPECT_EQ(P.InPlace[2][1], -1);
  EXPECT_NE(P.Offset[B], P.Offset[X]);
  EXPECT_NE(P.Offset[B], P.Offset[Y]);
  EXPECT_EQ(P.Stats.InPlace, 1);
  // The block lives on as A's: C, read after A, does not overwrite it.
  EXPECT_NE(P.Offset[C], P.Offset[A]);
}

/// W' = W - g: the update of param W, in a unit that reads W and g.
struct UpdateStep {
  Request Q;
  unsigned W = Q.slot(), G = Q.arena(), NewW = Q.arena();
  UpdateStep() {
    Q.unit({{G}});
    Q.unit({{NewW, {0}}}, {W, G});
    Q.result(NewW, int(W));
  }
};

TEST(MemoryPlan, UpdateWrittenIntoItsParamSlot) {
  UpdateStep S;
  MemoryPlan P = S.Q.plan();
  EXPECT_EQ(P.Slot[S.NewW], int(S.W));
  EXPECT_EQ(P.Offset[S.NewW], -1);
  EXPECT_EQ(P.InPlace[1][0], 0);
  EXPECT_EQ(P.Stats.UpdatesInPlace, 1);
  EXPECT_EQ(P.Stats.BytesAfter, 64); // g's block only
  EXPECT_EQ(P.Staged[S.NewW], -1);
}

TEST(MemoryPlan, UpdateNotInPlaceWhenTheOldValueIsReadAtTheEnd) {
  UpdateStep S;
  S.Q.result(S.W); // e.g. `output w = W`, copied after the update
  MemoryPlan P = S.Q.plan();
  EXPECT_EQ(P.Slot[S.NewW], -1);
  EXPECT_EQ(P.InPlace[1][0], -1);
  EXPECT_EQ(P.Stats.UpdatesInPlace, 0);
}

TEST(MemoryPlan, UpdateNotInPlaceWhenTheOldValueIsReadLater) {
  UpdateStep S;
  unsigned Later = S.Q.arena();
  S.Q.unit({{Later}}, {S.W});
  MemoryPlan P = S.Q.plan();
  EXPECT_EQ(P.Slot[S.NewW], -1);
  EXPECT_EQ(P.Stats.UpdatesInPlace, 0);
}

TEST(MemoryPlan, UpdateNotInPlaceWhenTheParamIsAliased) {
  UpdateStep S;
  S.Q.alias(S.W); // a reshape of W, read by nothing that runs later
  MemoryPlan P = S.Q.plan();
  EXPECT_EQ(P.Slot[S.NewW], -1);
  EXPECT_EQ(P.Stats.UpdatesInPlace, 0);
}

TEST(MemoryPlan, OnlyAParamsOwnUpdateGoesIntoItsSlot) {
  Request Q;
  unsigned W = Q.slot(), V = Q.slot(), NewV = Q.arena();
  Q.unit({{NewV, {0}}}, {W}); // computed from W, but the new value of V
  Q.result(NewV, int(V));
  MemoryPlan P = Q.plan();
  EXPECT_EQ(P.Slot[NewV], -1);
  EXPECT_GE(P.Offset[NewV], 0);
  EXPECT_EQ(P.Stats.UpdatesInPlace, 0);
}

TEST(MemoryPlan, AliasSharesItsOwnersBlockAndLiveness) {
  Request Q;
  unsigned A = Q.arena(), R = Q.alias(A), B = Q.arena(), C = Q.arena(),
           W = Q.slot(), RW = Q.alias(W);
  Q.unit({{A}});
  Q.unit({{B}});
  Q.unit({{C, {0}}}, {R, B}); // A is read through R; never in place over R
  Q.result(C);
  Q.result(RW);
  MemoryPlan P = Q.plan();
  EXPECT_EQ(P.Offset[R], P.Offset[A]);
  EXPECT_EQ(P.Slot[RW], int(W));
  // A lives until R's reader: neither B nor C takes its block.
  EXPECT_NE(P.Offset[B], P.Offset[A]);
  EXPECT_NE(P.Offset[C], P.Offset[A]);
  EXPECT_EQ(P.InPlace[2][0], -1);
  EXPECT_EQ(P.Stats.InPlace, 0);
}

TEST(MemoryPlan, ResultsLiveToTheEnd) {
  Request Q;
  unsigned A = Q.arena(), B = Q.arena(), C = Q.arena(), D = Q.arena();
  Q.unit({{A}});
  Q.unit({{B}});
  Q.unit({{C}}, {A, B});
  Q.unit({{D}}, {C});
  Q.result(A); // read by no unit after C, but copied out at the end
  Q.result(D);
  MemoryPlan P = Q.plan();
  EXPECT_NE(P.Offset[D], P.Offset[A]);
  EXPECT_EQ(P.Offset[D], P.Offset[B]); // B, not a result, is reused
}

TEST(MemoryPlan, BlocksAre64ByteAligned) {
  Request Q;
  unsigned A = Q.arena(4), B = Q.arena(100), C = Q.arena(0), D = Q.arena(65);
  Q.unit({{A}, {B}, {C}, {D}});
  for (unsigned V : {A, B, C, D})
    Q.result(V);
  MemoryPlan P = Q.plan();
  EXPECT_EQ(P.Offset[A], 0);
  EXPECT_EQ(P.Offset[B], 64);
  EXPECT_EQ(P.Offset[C], 192);
  EXPECT_EQ(P.Offset[D], 256);
  for (unsigned V : {A, B, C, D})
    EXPECT_EQ(P.Offset[V] % BufferAlignment, 0);
  EXPECT_EQ(P.Stats.BytesAfter, 384);
}

TEST(MemoryPlan, Stats) {
  Request Q;
  unsigned W = Q.slot(256), X = Q.slot(256), H = Q.arena(256), Y = Q.arena(256),
           G = Q.arena(256), NewW = Q.arena(256),
           Other = Q.add(Home::Other, 256);
  Q.unit({{H}}, {X, W});
  Q.unit({{Y, {0}}}, {H});       // in place over H
  Q.unit({{G}}, {Y, Other});     // a register or global needs no block
  Q.unit({{NewW, {0}}}, {W, G}); // update written into W's slot
  Q.result(Y);
  Q.result(NewW, int(W));
  MemoryPlan P = Q.plan();
  EXPECT_EQ(P.Stats.BytesBefore, 4 * 256);
  EXPECT_EQ(P.Stats.BytesAfter, 2 * 256);
  EXPECT_EQ(P.Stats.InPlace, 1);
  EXPECT_EQ(P.Stats.UpdatesInPlace, 1);
  EXPECT_EQ(P.Offset[Other], -1);
}

TEST(MemoryPlan, UpdateFromAnotherSlotIsStaged) {
  // p := q; q := p (a swap): each new value lives in the other's slot, so
  // both are copied into the arena before either slot is overwritten.
  Request Q;
  unsigned A = Q.arena(), Pp = Q.slot(128), Qq = Q.slot(128);
  Q.unit({{A}}, {Pp, Qq});
  Q.result(A);
  Q.result(Qq, int(Pp));
  Q.result(Pp, int(Qq));
  Q.result(Qq, int(Pp)); // staged once
  MemoryPlan P = Q.plan();
  EXPECT_EQ(P.Staged[Qq], 64);
  EXPECT_EQ(P.Staged[Pp], 192);
  EXPECT_EQ(P.Stats.BytesAfter, 320);
}

} // namespace
