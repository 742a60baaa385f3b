//===- InitializerSlot.cpp - A param's initializer as the runtime reads it ===//
//
// InitSpec and nnc_init_kind list the same initializers; the literal is the
// one conversion: Sema gives every literal in f32, the descriptor holds it
// in the param's dtype.
//
//===----------------------------------------------------------------------===//
#include "nnc/CodeGen/InitializerSlot.h"

#include <bit>

using namespace nnc;

/// The runtime's init kind of `K` (ModelABI.h mirrors InitSpec).
static int32_t initKind(InitSpec::KindT K) {
  switch (K) {
  case InitSpec::Zeros:
    return NNC_INIT_ZEROS;
  case InitSpec::Ones:
    return NNC_INIT_ONES;
  case InitSpec::Constant:
    return NNC_INIT_CONST;
  case InitSpec::Uniform:
    return NNC_INIT_UNIFORM;
  case InitSpec::Normal:
    return NNC_INIT_NORMAL;
  case InitSpec::GlorotUniform:
    return NNC_INIT_GLOROT_UNIFORM;
  case InitSpec::HeNormal:
    return NNC_INIT_HE_NORMAL;
  case InitSpec::Literal:
    return NNC_INIT_LITERAL;
  }
  return NNC_INIT_ZEROS;
}

InitializerSlot nnc::initializerSlot(const Node &N) {
  InitializerSlot Out;
  nnc_slot &D = Out.Slot;
  D.name = N.Name.c_str();
  D.role = N.Kind == OpKind::Buffer ? NNC_SLOT_BUFFER : NNC_SLOT_PARAM;
  D.dtype = N.dtype() == DType::F32 ? NNC_F32 : NNC_I32;
  D.rank = int32_t(N.Type.rank());
  D.dims = N.Type.Dims.data();
  D.init_kind = initKind(N.Init.Kind);
  D.init_a = N.Init.A;
  D.init_b = N.Init.B;
  if (N.Init.Kind != InitSpec::Literal)
    return Out;
  // Sema gives every literal in f32 and checks its count; the descriptor
  // holds the param's dtype, padded with zeros should the literal be short.
  const Tensor &V = N.Init.Value;
  for (int64_t I = 0, E = N.Type.numElements(); I < E; ++I) {
    double X = I < V.numElements() ? V.at(I) : 0.0;
    Out.Literal.push_back(N.dtype() == DType::F32
                              ? std::bit_cast<uint32_t>(float(X))
                              : uint32_t(int32_t(X)));
  }
  D.literal = Out.Literal.data();
  return Out;
}
