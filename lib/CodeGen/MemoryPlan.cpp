//===- MemoryPlan.cpp - The arena plan of one entry point -----------------===//
//
// Algorithm (the request is described in MemoryPlan.h):
//
//  1. Liveness, in units: the last unit reading each value's storage (a
//     read through an alias counts for its owner). Results live to the end:
//     they are copied out after the last unit.
//  2. Walk the units in the order they run and place each output that
//     lives in the arena. In place, if one of its candidate inputs dies in
//     this unit: an arena block, which the output takes over; or, for the
//     new value of a param or state, that leaf's own slot, when the old
//     value is read neither later, nor at the end, nor through an alias.
//     Otherwise first fit: the lowest gap among the blocks still live.
//     Blocks are placed before the unit's inputs are released, so a kernel
//     never writes over what it reads except where planned in place (then
//     through one pointer, so its pointers really are `noalias`). Then the
//     blocks whose last reader was this unit are released.
//  3. Aliases live wherever their owner was placed.
//  4. Staging: an update's new value that lives in another leaf's slot
//     (`p := q`, or q's update computed in place) is copied past the end of
//     the plan before the final copies, so that no update reads a slot an
//     earlier update overwrote. The arena ends after the staging blocks.
//
//===----------------------------------------------------------------------===//
#include "MemoryPlan.h"

#include <llvm/Support/MathExtras.h>

#include <algorithm>
#include <climits>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

using Home = MemoryPlanRequest::Home;

/// The last unit of a value that is read after every unit.
constexpr int64_t Forever = INT64_MAX;

/// Bytes of the arena block of a value of `Bytes` bytes.
int64_t blockBytes(int64_t Bytes) {
  return alignTo(std::max<int64_t>(Bytes, 1), BufferAlignment);
}

/// A placed arena block, live until unit `Last` has run.
struct Block {
  int64_t Offset, Bytes, Last;
};

} // namespace

MemoryPlan codegen::planMemory(const MemoryPlanRequest &Request) {
  const auto &Values = Request.Values;
  size_t NumValues = Values.size();
  auto OwnerOf = [&](unsigned V) {
    return Values[V].Owner < 0 ? V : unsigned(Values[V].Owner);
  };

  // 1. Liveness.
  std::vector<int64_t> Last(NumValues, -1);
  for (int64_t U = 0; U < int64_t(Request.Units.size()); ++U) {
    for (const MemoryPlanRequest::Output &O : Request.Units[U].Outputs)
      Last[O.Value] = std::max(Last[O.Value], U);
    for (unsigned X : Request.Units[U].Inputs)
      Last[OwnerOf(X)] = std::max(Last[OwnerOf(X)], U);
  }
  std::vector<int> UpdateOf(NumValues, -1);
  for (const MemoryPlanRequest::Result &R : Request.Results) {
    Last[OwnerOf(R.Value)] = Forever;
    if (R.UpdateOf >= 0)
      UpdateOf[R.Value] = R.UpdateOf;
  }
  std::vector<bool> Aliased(NumValues, false);
  for (const MemoryPlanRequest::Value &V : Values)
    if (V.Owner >= 0)
      Aliased[V.Owner] = true;

  // 2. Placement.
  MemoryPlan Plan;
  Plan.Offset.assign(NumValues, -1);
  Plan.Slot.assign(NumValues, -1);
  Plan.Staged.assign(NumValues, -1);
  for (unsigned V = 0; V < NumValues; ++V)
    if (Values[V].Owner < 0 && Values[V].Kind == Home::Slot)
      Plan.Slot[V] = int(V);
  std::vector<Block> Live; // sorted by offset
  int64_t End = 0;
  for (int64_t UI = 0; UI < int64_t(Request.Units.size()); ++UI) {
    const MemoryPlanRequest::Unit &U = Request.Units[UI];
    SmallVector<int, 4> &InPlace =
        Plan.InPlace.emplace_back(U.Outputs.size(), -1);
    SmallVector<bool, 4> Taken(U.Inputs.size(), false);
    for (unsigned K = 0; K < U.Outputs.size(); ++K) {
      unsigned O = U.Outputs[K].Value;
      if (Values[O].Kind != Home::Arena)
        continue;
      int64_t Bytes = blockBytes(Values[O].Bytes);
      Plan.Stats.BytesBefore += Bytes;
      for (unsigned I : U.Outputs[K].InPlaceCandidates) {
        unsigned X = U.Inputs[I];
        if (Taken[I] || Values[X].Owner >= 0 || Last[X] != UI)
          continue;
        if (Values[X].Kind == Home::Arena) {
          // O takes over X's block, which now lives as long as O.
          Plan.Offset[O] = Plan.Offset[X];
          for (Block &B : Live)
            if (B.Offset == Plan.Offset[X])
              B.Last = Last[O];
          ++Plan.Stats.InPlace;
        } else if (Values[X].Kind == Home::Slot && UpdateOf[O] == int(X) &&
                   !Aliased[X]) {
          // The update's new value is written straight into the param (or
          // state) slot: nothing after this kernel reads the old one.
          Plan.Slot[O] = int(X);
          ++Plan.Stats.UpdatesInPlace;
        } else {
          continue;
        }
        Taken[I] = true;
        InPlace[K] = int(I);
        break;
      }
      if (InPlace[K] >= 0)
        continue;
      // First fit. Blocks of this unit's inputs are still live, so a
      // kernel never writes over what it reads.
      int64_t Offset = 0;
      auto It = Live.begin();
      for (; It != Live.end() && Offset + Bytes > It->Offset; ++It)
        Offset = std::max(Offset, It->Offset + It->Bytes);
      Live.insert(It, {Offset, Bytes, Last[O]});
      Plan.Offset[O] = Offset;
      End = std::max(End, Offset + Bytes);
    }
    std::erase_if(Live, [&](const Block &B) { return B.Last <= UI; });
  }

  // 3. Aliases.
  for (unsigned V = 0; V < NumValues; ++V) {
    Plan.Offset[V] = Plan.Offset[OwnerOf(V)];
    Plan.Slot[V] = Plan.Slot[OwnerOf(V)];
  }

  // 4. Staging.
  for (const MemoryPlanRequest::Result &R : Request.Results) {
    int Slot = Plan.Slot[R.Value];
    if (R.UpdateOf < 0 || Slot < 0 || Slot == R.UpdateOf ||
        Plan.Staged[R.Value] >= 0)
      continue;
    Plan.Staged[R.Value] = End;
    End += blockBytes(Values[R.Value].Bytes);
  }
  Plan.Stats.BytesAfter = End;
  return Plan;
}
