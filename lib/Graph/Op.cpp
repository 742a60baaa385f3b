//===- Op.cpp - Per-op facts expanded from Ops.def ------------------------===//
#include "nnc/Graph/Op.h"

using namespace nnc;

llvm::StringRef nnc::opSpelling(OpKind K) {
  switch (K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs)                      \
  case OpKind::Name:                                                           \
    return Spelling;
#include "nnc/Graph/Ops.def"
  }
  return "?";
}

OpClass nnc::opClass(OpKind K) {
  switch (K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs)                      \
  case OpKind::Name:                                                           \
    return OpClass::Class;
#include "nnc/Graph/Ops.def"
  }
  return OpClass::Other;
}

int nnc::opNumOperands(OpKind K) {
  switch (K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs)                      \
  case OpKind::Name:                                                           \
    return NumOperands;
#include "nnc/Graph/Ops.def"
  }
  return -1;
}

unsigned nnc::opAttrMask(OpKind K) {
  switch (K) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs)                      \
  case OpKind::Name:                                                           \
    return Attrs;
#include "nnc/Graph/Ops.def"
  }
  return ATTR_NONE;
}

std::optional<OpKind> nnc::opFromSpelling(llvm::StringRef S) {
#define NNC_OP(Name, Spelling, Class, NumOperands, Attrs)                      \
  if (S == Spelling)                                                           \
    return OpKind::Name;
#include "nnc/Graph/Ops.def"
  return std::nullopt;
}

bool nnc::isNonDifferentiable(OpKind K) {
  return opClass(K) == OpClass::Compare || K == OpKind::Step ||
         K == OpKind::ArgMax || K == OpKind::OneHot ||
         K == OpKind::ArgMaxMask;
}
