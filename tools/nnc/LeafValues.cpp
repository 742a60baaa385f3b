//===- LeafValues.cpp - Leaf values from files, `init` and the train block ===//
//
// Files are read with the runtime's tensor-file code and checked leaf by
// leaf (name, dtype, shape) with the runtime's wording, since users see
// both. Values are first the bits a slot holds (what `--emit=lib` compiles
// in), then, for the evaluator, widened to doubles (exact for f32 and i32).
// Initial params go through the runtime's drawInitializer with the descriptor
// entry the code generator would compile (initializerSlot), so there is one
// implementation of `init` and one mapping to it.
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

/// `Bits` (f32 or i32, one element each) widened to the doubles of a
/// leaf of type `Type`.
static EvalTensor widen(const std::vector<uint32_t> &Bits,
                        const TensorType &Type) {
  EvalTensor Out = EvalTensor::zeros(Type);
  for (int64_t I = 0, E = Out.numElements(); I < E; ++I)
    Out.Data[I] = Type.Elem == DType::I32
                      ? double(std::bit_cast<int32_t>(Bits[I]))
                      : double(std::bit_cast<float>(Bits[I]));
  return Out;
}

/// The leaf `N` read from tensor `T` of `File`; false (after an error
/// naming the file, the tensor and both types) when dtype or shape differ.
static bool leafFromTensor(const Node &N, const rt::StoredTensor &T,
                           const std::string &File, std::vector<uint32_t> &Out,
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
  Out.resize(size_t(N.Type.numElements()));
  std::memcpy(Out.data(), T.Data.data(), Out.size() * 4);
  return true;
}

bool nnc::readLeafBits(llvm::ArrayRef<LeafGroup> Groups,
                       const std::string &Path, LeafBits &Leaves,
                       DiagEngine &Diags) {
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

bool nnc::readLeaves(llvm::ArrayRef<LeafGroup> Groups, const std::string &Path,
                     EvalValues &Leaves, DiagEngine &Diags) {
  LeafBits Bits;
  if (!readLeafBits(Groups, Path, Bits, Diags))
    return false;
  for (const auto &[N, B] : Bits)
    Leaves[N] = widen(B, N->Type);
  return true;
}

void nnc::drawInitialBits(const Graph &G, uint64_t Seed, LeafBits &Leaves) {
  for (const std::vector<Node *> *Group : {&G.Params, &G.Buffers})
    for (const Node *N : *Group) {
      InitializerSlot Init = initializerSlot(*N);
      // Four bytes per element, f32 or i32, as the runtime's slots hold.
      std::vector<uint32_t> &Storage = Leaves[N];
      Storage.assign(size_t(N->Type.numElements()), 0);
      rt::drawInitializer(Init.Slot, Storage.data(), Seed);
    }
}

bool nnc::modelWeights(const Graph &G, const std::string &Load,
                       std::optional<uint64_t> Seed, const TrainConfig *Train,
                       LeafBits &Leaves, DiagEngine &Diags) {
  if (Load.empty()) {
    drawInitialBits(G, Seed ? *Seed : Train ? Train->Seed : 0, Leaves);
    return true;
  }
  return readLeafBits({{G.Params, "a param"}, {G.Buffers, "a buffer"}}, Load,
                      Leaves, Diags);
}

void nnc::drawInitialLeaves(const Graph &G, uint64_t Seed, EvalValues &Leaves) {
  LeafBits Bits;
  drawInitialBits(G, Seed, Bits);
  for (const auto &[N, B] : Bits)
    Leaves[N] = widen(B, N->Type);
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
