//===- MemoryPlan.h - Where the values of one entry point live ------------===//
//
// Private to the code generator. Every intermediate value an entry point
// stores lives in the arena, the TEMP slot; the memory plan decides where,
// and which kernel outputs overwrite an input in place. It is a pure
// function of a few facts about the entry point, so that it can be tested
// without building IR: the values (numbered by the caller) and where each
// lives before planning, the kernels ("units") in the order they run with
// the values each writes and reads, and the results copied out at the end.
// The algorithm is at the top of MemoryPlan.cpp; docs/passes.md ("Memory
// planning") shows its effect on the examples.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_MEMORYPLAN_H
#define NNC_LIB_CODEGEN_MEMORYPLAN_H

#include "nnc/CodeGen/CodeGen.h"

#include <llvm/ADT/SmallVector.h>

#include <cstdint>
#include <vector>

namespace nnc::codegen {

/// Every buffer a kernel receives starts at a multiple of this many bytes:
/// the runtime allocates slots so (ModelABI.h), the plan places arena
/// blocks so, and constant globals are aligned so.
inline constexpr int64_t BufferAlignment = 64;

/// The facts about one entry point the plan needs. Values are indices into
/// `Values`.
struct MemoryPlanRequest {
  /// Where a value lives before planning.
  enum class Home {
    /// A block of the arena, to be placed.
    Arena,
    /// A leaf's own slot (param, state, hyper, input, target).
    Slot,
    /// Nothing to plan: a register, an immediate or a constant global.
    Other,
  };
  struct Value {
    Home Kind = Home::Other;
    /// Bytes of its elements; the plan rounds blocks up to BufferAlignment.
    int64_t Bytes = 0;
    /// For a value that shares another's storage (a reshape has no kernel
    /// and aliases its operand): that value, itself no alias; else -1. An
    /// alias's `Kind` is ignored: it lives wherever its owner does.
    int Owner = -1;
  };
  struct Output {
    unsigned Value;
    /// Indices into the unit's `Inputs` this output may overwrite element
    /// by element (Fused.h, inPlaceCandidates), in order of preference.
    llvm::SmallVector<unsigned, 2> InPlaceCandidates = {};
  };
  /// One kernel: the values it writes and the values it reads.
  struct Unit {
    std::vector<Output> Outputs;
    std::vector<unsigned> Inputs;
  };
  /// A value copied into a result slot after the last unit.
  struct Result {
    unsigned Value;
    /// For the new value of a param or state: that leaf (a Home::Slot
    /// value), whose slot the copy overwrites; -1 for other results.
    int UpdateOf = -1;
  };

  std::vector<Value> Values;
  /// In the order they run.
  std::vector<Unit> Units;
  std::vector<Result> Results;
};

/// The plan of one entry point.
struct MemoryPlan {
  /// Per value: its byte offset in the arena; -1 if it does not live there.
  std::vector<int64_t> Offset;
  /// Per value: the Home::Slot value whose slot holds it (itself, its
  /// owner, or the param or state an update is written into in place);
  /// -1 if it lives in no slot.
  std::vector<int> Slot;
  /// Per unit, per output: the index of the input it overwrites in place,
  /// or -1 for a place of its own.
  std::vector<llvm::SmallVector<int, 4>> InPlace;
  /// Per value: the offset of the arena block it is staged in before the
  /// final copies (an update's new value that lives in another slot), or
  /// -1.
  std::vector<int64_t> Staged;
  /// The figures of `--stats`; `BytesAfter` is the arena the entry needs.
  ArenaStats Stats;
};

/// Plans the arena of one entry point.
MemoryPlan planMemory(const MemoryPlanRequest &Request);

} // namespace nnc::codegen

#endif
