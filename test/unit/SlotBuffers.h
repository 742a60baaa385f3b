//===- SlotBuffers.h - Slot buffers for JIT-compiled models in tests -----===//
//
// The unit tests that run generated code (CodeGenTest, FusionTest,
// NumericsTest) allocate every slot of a compiled model the way the runtime
// does (64-byte aligned), fill them with garbage so that a kernel which
// forgets to write its output is caught, and move values in and out by
// slot name.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TEST_UNIT_SLOTBUFFERS_H
#define NNC_TEST_UNIT_SLOTBUFFERS_H

#include "nnc/Graph/Evaluator.h"
#include "nnc/Runtime/ModelABI.h"

#include <gtest/gtest.h>
#include <llvm/ADT/StringRef.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace nnc::test {

/// Slot buffers for one compiled model, 64-byte aligned as the ABI says.
class Slots {
public:
  explicit Slots(const nnc_model &M) : M(M) {
    for (int I = 0; I < M.num_slots; ++I) {
      const nnc_slot &S = M.slots[I];
      int64_t N = 1;
      for (int D = 0; D < S.rank; ++D)
        N *= S.dims[D];
      size_t Bytes = (size_t(N) * 4 + 63) / 64 * 64;
      void *P = std::aligned_alloc(64, Bytes ? Bytes : 64);
      std::memset(P, 0xff, Bytes ? Bytes : 64); // garbage: kernels must write
      Ptrs.push_back(P);
      Sizes.push_back(N);
    }
  }
  ~Slots() {
    for (void *P : Ptrs)
      std::free(P);
  }
  int find(llvm::StringRef Name) const {
    for (int I = 0; I < M.num_slots; ++I)
      if (Name == M.slots[I].name)
        return I;
    ADD_FAILURE() << "no slot named " << Name.str();
    return -1;
  }
  void set(llvm::StringRef Name, const EvalTensor &V) {
    int I = find(Name);
    ASSERT_GE(I, 0);
    ASSERT_EQ(Sizes[I], V.numElements());
    for (int64_t E = 0; E < V.numElements(); ++E) {
      if (M.slots[I].dtype == NNC_F32)
        static_cast<float *>(Ptrs[I])[E] = float(V.Data[E]);
      else
        static_cast<int32_t *>(Ptrs[I])[E] = int32_t(V.Data[E]);
    }
  }
  std::vector<double> get(llvm::StringRef Name) const {
    int I = find(Name);
    std::vector<double> R;
    for (int64_t E = 0; I >= 0 && E < Sizes[I]; ++E)
      R.push_back(M.slots[I].dtype == NNC_F32
                      ? double(static_cast<float *>(Ptrs[I])[E])
                      : double(static_cast<int32_t *>(Ptrs[I])[E]));
    return R;
  }
  void **ptrs() { return Ptrs.data(); }

private:
  const nnc_model &M;
  std::vector<void *> Ptrs;
  std::vector<int64_t> Sizes;
};

} // namespace nnc::test

#endif
