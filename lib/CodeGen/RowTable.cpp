//===- RowTable.cpp - Operand rows that are not evenly spaced -------------===//
#include "RowTable.h"

#include <llvm/ADT/StringExtras.h>

#include <cassert>
#include <limits>

using namespace llvm;
using namespace nnc::codegen;

namespace {

/// FNV-1a over the entries: distinct tables of one module get distinct
/// names (a collision would need two tables of one kernel set to agree on
/// 64 bits).
uint64_t hashRows(const RowTable &Rows) {
  uint64_t H = 0xcbf29ce484222325ull;
  for (int64_t V : Rows)
    for (int I = 0; I < 8; ++I) {
      H ^= uint64_t(V) >> (8 * I) & 0xff;
      H *= 0x100000001b3ull;
    }
  return H ^ Rows.size();
}

} // namespace

std::string nnc::codegen::rowTableKey(const RowTable &Rows) {
  if (Rows.empty())
    return "";
  return ".t" + utohexstr(hashRows(Rows), /*LowerCase=*/true);
}

GlobalVariable *nnc::codegen::getRowTable(Module &M, const RowTable &Rows) {
  assert(!Rows.empty() && "an empty row table");
  std::string Name = "nnc.rows" + rowTableKey(Rows);
  if (GlobalVariable *G = M.getGlobalVariable(Name, /*AllowInternal=*/true))
    return G;
  SmallVector<uint32_t, 64> Entries;
  for (int64_t V : Rows) {
    assert(V >= 0 && V <= std::numeric_limits<int32_t>::max() &&
           "row start out of i32 range");
    Entries.push_back(uint32_t(V));
  }
  Constant *Init = ConstantDataArray::get(M.getContext(), Entries);
  auto *G = new GlobalVariable(M, Init->getType(), /*isConstant=*/true,
                               GlobalValue::PrivateLinkage, Init, Name);
  G->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
  G->setAlignment(Align(64));
  return G;
}

Value *nnc::codegen::loadRowStart(IRBuilder<> &B, GlobalVariable *Table,
                                  Value *Row) {
  Value *At = B.CreateInBoundsGEP(B.getInt32Ty(), Table, Row);
  return B.CreateZExt(B.CreateAlignedLoad(B.getInt32Ty(), At, Align(4)),
                      B.getInt64Ty());
}
