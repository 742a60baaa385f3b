//===- Op.cpp - Per-op facts expanded from Ops.def ------------------------===//
//
// Each function is one switch generated from the op table, so the facts can
// never disagree with the table.
//
//===----------------------------------------------------------------------===//
#include "nnc/Graph/Op.h"

using namespace nnc;

llvm::StringRef nnc::opSpelling(OpKind K) {
  switch (K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  case OpKind::Name:                                                           \
    return Spelling;
#include "nnc/Graph/Ops.def"
  }
  return "?";
}

OpClass nnc::opClass(OpKind K) {
  switch (K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  case OpKind::Name:                                                           \
    return OpClass::Class;
#include "nnc/Graph/Ops.def"
  }
  return OpClass::Kernel;
}

int nnc::opNumOperands(OpKind K) {
  switch (K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  case OpKind::Name:                                                           \
    return NumOperands;
#include "nnc/Graph/Ops.def"
  }
  return -1;
}

unsigned nnc::opAttrMask(OpKind K) {
  switch (K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  case OpKind::Name:                                                           \
    return Attrs;
#include "nnc/Graph/Ops.def"
  }
  return ATTR_NONE;
}

unsigned nnc::opTraits(OpKind K) {
  switch (K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  case OpKind::Name:                                                           \
    return Traits;
#include "nnc/Graph/Ops.def"
  }
  return 0;
}

OpGrad nnc::opGrad(OpKind K) {
  switch (K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  case OpKind::Name:                                                           \
    return OpGrad::Grad;
#include "nnc/Graph/Ops.def"
  }
  return OpGrad::Missing;
}

std::optional<OpKind> nnc::opFromSpelling(llvm::StringRef S) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  if (S == Spelling)                                                           \
    return OpKind::Name;
#include "nnc/Graph/Ops.def"
  return std::nullopt;
}

std::optional<ScalarOp> nnc::scalarOp(OpKind K) {
  switch (K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  case OpKind::Name:                                                           \
    NNC_IF_SCALAR_##Class(return ScalarOp::Name;) break;
#include "nnc/Graph/Ops.def"
  }
  return std::nullopt;
}

std::optional<KernelOp> nnc::kernelOp(OpKind K) {
  switch (K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs, Traits, Shape, Grad) \
  case OpKind::Name:                                                           \
    NNC_IF_KERNEL_##Class(return KernelOp::Name;) break;
#include "nnc/Graph/Ops.def"
  }
  return std::nullopt;
}
