//===- EntryEmitter.h - The entry points of one model ---------------------===//
//
// Private to the code generator. An entry point (train_step, eval_step,
// predict, grad, train_grad, apply_update) is `void f(void **slots)`: it
// runs the kernels its results
// need, on buffers in slots, in the arena (the TEMP slot) or in constant
// globals, and copies each result into its slot (EntryEmitter.cpp has the
// steps). One EntryEmitter emits all entry points of a module, so that they
// share kernel functions and globals, and remembers the arena the largest
// needs.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_ENTRYEMITTER_H
#define NNC_LIB_CODEGEN_ENTRYEMITTER_H

#include "KernelDispatch.h"
#include "Lowering.h"

#include "nnc/CodeGen/CodeGen.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>

#include <vector>

namespace nnc::codegen {

class NumericsChecker;

/// A value an entry point writes into a slot. `Value` may be null for a
/// gradient the differentiator left out (the slot is zero-filled).
struct EntryResult {
  const Node *Value;
  unsigned Slot;
  /// The new value of a param or state: copied after every other result.
  bool IsUpdate = false;
};

class EntryEmitter {
public:
  /// `Numerics` (may be null) adds the --check-numerics calls.
  EntryEmitter(const Graph &G, llvm::Module &M, const SlotTable &Slots,
               NumericsChecker *Numerics);

  /// Emits the entry point `Name` writing `Results`. Each of `Given` is a
  /// value the entry reads from its slot instead of computing it (the
  /// gradients apply_update receives): its operands are not needed. With
  /// `ReportsNonFinite` the entry returns an i32, nonzero when a new value
  /// it wrote into a param, state or buffer slot (an `IsUpdate` result) is
  /// a NaN or an infinity (ModelABI.h, NonFinite.h); else it returns void.
  llvm::Expected<llvm::Function *>
  emitEntry(llvm::StringRef Name, llvm::ArrayRef<EntryResult> Results,
            llvm::ArrayRef<EntryResult> Given = {},
            bool ReportsNonFinite = false);

  /// The leaves an entry point writing `Results` from `Given` would read.
  std::vector<const Node *> leavesRead(llvm::ArrayRef<EntryResult> Results,
                                       llvm::ArrayRef<EntryResult> Given) const;

  /// Bytes of arena the largest entry point needs.
  int64_t arenaBytes() const { return ArenaBytes; }
  /// The memory plan's figures for `--stats`: the training step's, else the
  /// largest entry point's.
  const ArenaStats &arenaStats() const { return Stats; }

private:
  /// Where a node's value lives while an entry point runs.
  struct Storage {
    /// Register: a value computed and consumed inside one fused kernel; it
    /// has no buffer at all.
    enum KindT { Slot, Arena, Global, Immediate, Register } Kind = Arena;
    unsigned SlotIdx = 0;
    int64_t Offset = 0;
    llvm::GlobalVariable *G = nullptr;
    /// A reshape sharing its operand's storage (it has no kernel).
    bool Alias = false;
    /// The arena offset of the copy of an update's new value that lives in
    /// another slot, made before the final copies; -1 if none.
    int64_t Staged = -1;
  };
  using StorageMap = llvm::DenseMap<const Node *, Storage>;

  /// Value -> the slot it is read from (an entry's `Given`).
  using GivenMap = llvm::DenseMap<const Node *, unsigned>;
  static GivenMap givenMap(llvm::ArrayRef<EntryResult> Given);

  /// The nodes `Results` need, in topological order; a node of `Given` is
  /// needed but its operands are not.
  std::vector<const Node *> neededNodes(llvm::ArrayRef<EntryResult> Results,
                                        const GivenMap &Given) const;
  /// Fills `Store` for every node of `Order`, planning the arena (and the
  /// in-place outputs of `Units`); `Plan` receives the plan's figures.
  llvm::Error planStorage(llvm::ArrayRef<const Node *> Order,
                          std::vector<KernelUnit> &Units,
                          llvm::ArrayRef<EntryResult> Results,
                          const GivenMap &Given, StorageMap &Store,
                          ArenaStats &Plan);
  /// The private global holding a non-scalar constant.
  llvm::GlobalVariable *globalFor(const Node *N);

  const Graph &G;
  llvm::Module &M;
  const SlotTable &Slots;
  NumericsChecker *Numerics;
  /// Each node's position in the graph, which names kernels and values.
  llvm::DenseMap<const Node *, unsigned> Position;
  KernelTable Kernels;
  llvm::DenseMap<const Node *, llvm::GlobalVariable *> Globals;
  int64_t ArenaBytes = 0;
  ArenaStats Stats;
  bool StatsFromTrainStep = false;
};

} // namespace nnc::codegen

#endif
