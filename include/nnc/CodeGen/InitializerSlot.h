//===- InitializerSlot.h - A param's initializer as the runtime reads it --===//
//
// `EXE init` draws every param and buffer from its entry in the model
// descriptor (Runtime/ModelABI.h) with the runtime's drawInitializer
// (Runtime/Model.h). The code generator writes those entries from the
// graph's InitSpecs through this one mapping, and the compiler's own
// evaluations that must start where an executable starts
// (`--emit=grad --values`) build the same entries and hand them to the same
// runtime function: one implementation of `init`, one mapping to it.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_INITIALIZERSLOT_H
#define NNC_CODEGEN_INITIALIZERSLOT_H

#include "nnc/Graph/Graph.h"
#include "nnc/Runtime/ModelABI.h"

#include <cstdint>
#include <vector>

namespace nnc {

/// A param's or buffer's initializer as the model descriptor hands it to
/// the runtime, whose `init` draws from it (Runtime/Model.h,
/// drawInitializer): the compiler draws the same values through it.
struct InitializerSlot {
  /// Name, role, dtype, dims, init kind and arguments; points into the
  /// node and into `Literal`.
  nnc_slot Slot{};
  /// A literal initializer's elements in the param's dtype (f32 or i32
  /// bits); empty for the other kinds.
  std::vector<uint32_t> Literal;

  InitializerSlot() = default;
  // A move keeps `Slot.literal` valid (the vector's buffer moves along);
  // a copy would not.
  InitializerSlot(InitializerSlot &&) = default;
  InitializerSlot &operator=(InitializerSlot &&) = default;
  InitializerSlot(const InitializerSlot &) = delete;
  InitializerSlot &operator=(const InitializerSlot &) = delete;
};

/// The descriptor entry of param or buffer `N`, valid while `N` lives.
InitializerSlot initializerSlot(const Node &N);

} // namespace nnc

#endif
