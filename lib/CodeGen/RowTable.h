//===- RowTable.h - Operand rows that are not evenly spaced ---------------===//
//
// Private to the code generator. The products of Gemm.h and DotTile.h read
// an operand's rows at `k * RowStride` by default. The implicit
// convolutions (ImplicitConv.cpp) read their input image in place instead
// of unfolding it, and there row (c, r, s) of the virtual unfolded matrix
// starts at c*plane + r*width + s: not evenly spaced. Such an operand comes
// with a *row table*, the start of each row, emitted once per distinct table
// as a private constant i32 array.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_ROWTABLE_H
#define NNC_LIB_CODEGEN_ROWTABLE_H

#include <llvm/ADT/ArrayRef.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nnc::codegen {

/// The start of every row of an operand, in floats.
using RowTable = std::vector<int64_t>;

/// A name fragment unique to the table (a hash of its entries), for the
/// key of the product that reads it; empty for no table.
std::string rowTableKey(const RowTable &Rows);

/// The table as `@nnc.rows.<hash>` in `M`, created on first use.
llvm::GlobalVariable *getRowTable(llvm::Module &M, const RowTable &Rows);

/// The start of row `Row` (an i64) from `Table`, as an i64.
llvm::Value *loadRowStart(llvm::IRBuilder<> &B, llvm::GlobalVariable *Table,
                          llvm::Value *Row);

} // namespace nnc::codegen

#endif
