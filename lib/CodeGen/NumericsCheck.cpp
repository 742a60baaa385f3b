//===- NumericsCheck.cpp - Calls of the per-op non-finite check -----------===//
//
// See NumericsCheck.h. The call is
//
//   call void @nnc_check_numerics(ptr %buf, i64 <numel>, ptr @op, ptr @name,
//                                 ptr @file, i32 <line>, ptr @entry)
//
// placed right after the kernel call, before any later kernel can reuse the
// buffer's arena block. Value names follow the graph printer's rule (own
// name, a `.N` suffix for repeats, numbers for temporaries in node order,
// scalar constants skipped) so they match the optimized graph's dump.
//
//===----------------------------------------------------------------------===//
#include "NumericsCheck.h"

#include "RuntimeCalls.h"

#include <llvm/ADT/StringSet.h>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

NumericsChecker::NumericsChecker(Module &M, const Graph &G, std::string File)
    : M(M), File(std::move(File)) {
  StringSet<> Used;
  unsigned NextNumber = 0;
  for (const auto &NPtr : G.nodes()) {
    const Node &N = *NPtr;
    if (N.isScalarConst())
      continue;
    if (N.Name.empty()) {
      Names[&N] = "%" + std::to_string(NextNumber++);
      continue;
    }
    std::string Name = N.Name;
    for (unsigned Suffix = 1; Used.contains(Name); ++Suffix)
      Name = N.Name + "." + std::to_string(Suffix);
    Used.insert(Name);
    Names[&N] = "%" + Name;
  }
}

Constant *NumericsChecker::string(StringRef S) {
  Constant *&C = Strings[S];
  if (!C) {
    Constant *Init = ConstantDataArray::getString(M.getContext(), S);
    auto *GV = new GlobalVariable(M, Init->getType(), /*isConstant=*/true,
                                  GlobalValue::PrivateLinkage, Init,
                                  "nnc.numerics.str");
    GV->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    C = GV;
  }
  return C;
}

void NumericsChecker::emitCheck(IRBuilder<> &B, const Node &N, Value *Ptr,
                                StringRef Entry) {
  if (N.dtype() != DType::F32)
    return;
  FunctionCallee Check = declareCallback(M, rt::CheckNumerics);
  if (auto *F = dyn_cast<Function>(Check.getCallee()))
    F->addFnAttr(Attribute::NoUnwind);
  auto It = Names.find(&N);
  StringRef Name = It == Names.end() ? StringRef() : StringRef(It->second);
  B.CreateCall(Check, {Ptr, B.getInt64(N.Type.numElements()),
                       string(opSpelling(N.Kind)), string(Name), string(File),
                       B.getInt32(N.Loc.Line), string(Entry)});
}
