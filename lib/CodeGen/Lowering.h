//===- Lowering.h - Shared state of one graph's lowering ------------------===//
//
// Private to the code generator. The slot table fixes the order of the
// buffers every entry point receives (ModelABI.h): params, optimizer state,
// hyperparameters, inputs, targets, outputs, loss, metrics, gradients and
// finally the arena (TEMP) that holds every intermediate value. The entry
// points are built against it (EntryEmitter.cpp); ModelDesc.cpp writes it
// out as the `nnc_model_desc` global.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_LOWERING_H
#define NNC_LIB_CODEGEN_LOWERING_H

#include "nnc/Graph/Graph.h"
#include "nnc/Runtime/ModelABI.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>

#include <string>
#include <vector>

namespace nnc {
struct TrainConfig;
}

namespace nnc::codegen {

struct SlotInfo {
  std::string Name;
  nnc_slot_role Role;
  TensorType Type;
  /// The leaf this slot holds (param, state, hyper, input, target), or the
  /// value written into it (output, loss, metric, grad); null for TEMP.
  const Node *N = nullptr;
  /// Inputs and outputs: how tensor files store the slot.
  FileType Stored = FileType::Native;
};

struct SlotTable {
  std::vector<SlotInfo> Slots;
  /// Leaf node -> its slot.
  llvm::DenseMap<const Node *, unsigned> LeafSlot;
  unsigned Loss = ~0u;
  std::vector<unsigned> Outputs, Metrics, Grads;
  unsigned Temp = ~0u;
};

/// Lays out the slots of `G`. The TEMP slot's size is filled in later, once
/// every entry point has planned its arena.
SlotTable buildSlotTable(const Graph &G);

/// The slots of `Train` (the train-mode graph's table) as the eval-mode
/// graph `Eval` reaches them: its leaves are mapped by name, its loss,
/// outputs and metrics to the same slots. Fails on a leaf of `Eval` that
/// `Train` has no slot for, which specializeModes never makes.
llvm::Expected<SlotTable> mapSlotTable(const SlotTable &Train,
                                       const Graph &Eval);

/// The entry points of the model (null where the model has none).
struct EntryPoints {
  llvm::Function *TrainStep = nullptr, *EvalStep = nullptr, *Predict = nullptr,
                 *Grad = nullptr, *TrainGrad = nullptr, *ApplyUpdate = nullptr;
};

/// Emits `nnc_model_desc` (external, the runtime's view of the model).
void emitModelDesc(llvm::Module &M, const Graph &G, const SlotTable &Slots,
                   const TrainConfig *Train, const EntryPoints &Entries);

} // namespace nnc::codegen

#endif
