//===- LeafValues.cpp - Leaf values from files, `init` and the train block ===//
//
// Files are read with the runtime's tensor-file code and checked leaf by
// leaf (name, dtype, shape) with the runtime's wording, since users see
// both. Initial params go through the runtime's drawInitializer with the
// descriptor entry the code generator would compile (initializerSlot), so
// there is one implementation of `init` and one mapping to it.
//
//===----------------------------------------------------------------------===//
#include "LeafValues.h"

#include "nnc/CodeGen/InitializerSlot.h"
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/TensorFile.h"

#include <llvm/ADT/STLExtras.h>

#include <bit>
#include <cstring>
#include <vector>

using namespace nnc;

/// Widens the stored elements of `Out` (f32 or i32, 4 bytes each, at `Raw`)
/// to doubles.
static void widen(const char *Raw, DType Elem, EvalTensor &Out) {
  for (int64_t I = 0, E = Out.numElements(); I < E; ++I) {
    if (Elem == DType::I32) {
      int32_t V;
      std::memcpy(&V, Raw + I * 4, 4);
      Out.Data[I] = double(V);
    } else {
      float V;
      std::memcpy(&V, Raw + I * 4, 4);
      Out.Data[I] = double(V);
    }
  }
}

/// The leaf `N` read from tensor `T` of `File`; false (after an error
/// naming the file, the tensor and both types) when dtype or shape differ.
static bool leafFromTensor(const Node &N, const rt::StoredTensor &T,
                           const std::string &File, EvalTensor &Out,
                           DiagEngine &Diags) {
  // The same wording as the runtime's, since users see both.
  bool IsI32 = N.dtype() == DType::I32;
  if ((T.Type == rt::DType::I32) != IsI32) {
    Diags.error(File + ": tensor '" + T.Name + "' has dtype " +
                rt::dtypeName(T.Type) + ", but the model expects " +
                (IsI32 ? "I32" : "F32"));
    return false;
  }
  if (!llvm::equal(T.Shape, N.dims())) {
    Diags.error(File + ": tensor '" + T.Name + "' has shape " +
                rt::shapeString(T.Shape) + ", but the model expects " +
                formatShape(N.dims()));
    return false;
  }
  Out = EvalTensor::zeros(N.Type);
  widen(T.Data.data(), N.dtype(), Out);
  return true;
}

bool nnc::readLeaves(llvm::ArrayRef<LeafGroup> Groups, const std::string &Path,
                     EvalValues &Leaves, DiagEngine &Diags) {
  rt::Expected<rt::TensorFile> File = rt::readTensorFile(Path);
  if (!File) {
    Diags.error(File.takeError().message());
    return false;
  }
  bool Ok = true;
  for (const LeafGroup &Group : Groups)
    for (const Node *N : Group.Nodes) {
      const rt::StoredTensor *T = File->find(N->Name);
      if (!T) {
        Diags.error(Path + ": missing tensor '" + N->Name + "' (" + Group.What +
                    " of the model)");
        Ok = false;
        continue;
      }
      Ok &= leafFromTensor(*N, *T, Path, Leaves[N], Diags);
    }
  return Ok;
}

void nnc::drawInitialLeaves(const Graph &G, uint64_t Seed, EvalValues &Leaves) {
  for (const std::vector<Node *> *Group : {&G.Params, &G.Buffers})
    for (const Node *N : *Group) {
      InitializerSlot Init = initializerSlot(*N);
      // Four bytes per element, f32 or i32, as the runtime's slots hold.
      std::vector<uint32_t> Storage(size_t(N->Type.numElements()));
      rt::drawInitializer(Init.Slot, Storage.data(), Seed);
      EvalTensor V = EvalTensor::zeros(N->Type);
      widen(reinterpret_cast<const char *>(Storage.data()), N->dtype(), V);
      Leaves[N] = std::move(V);
    }
}

void nnc::firstStepHypers(const Graph &G, const TrainConfig *Train,
                          uint64_t Seed, EvalValues &Leaves) {
  for (const Node *H : G.Hypers) {
    EvalTensor V = EvalTensor::zeros(H->Type);
    if (H->Name == "lr") // an f32 slot
      V.Data[0] = Train ? double(float(Train->Optimizer.Lr)) : 0.0;
    else if (H->Name == "dropout_key")
      // The runtime stores the 32 key bits in an i32 slot.
      V.Data[0] = double(std::bit_cast<int32_t>(rt::dropoutKey(Seed, 0)));
    Leaves[H] = std::move(V);
  }
}
