//===- RuntimeCalls.h - Declaring the runtime's callbacks in a module -----===//
//
// Private to the code generator. Generated code calls the runtime only
// through the callbacks of Runtime/Callbacks.h. `declareCallback` declares
// one in a module under its symbol, with the LLVM signature read off its C
// declaration (void -> void, int32_t -> i32, int64_t -> i64, any pointer ->
// ptr), so a signature cannot drift from the function the runtime defines.
// `createTaskFunction` gives a function the type `nnc_parallel_for` runs
// (`nnc_task_fn`), the same way. The code generator only names the
// runtime's symbols; it never links the runtime. An inference library
// (Library.cpp) defines the one it needs, `nnc_parallel_for`, itself.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_RUNTIMECALLS_H
#define NNC_LIB_CODEGEN_RUNTIMECALLS_H

#include "nnc/Runtime/Callbacks.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <type_traits>

namespace nnc::codegen {

namespace detail {

/// The LLVM type of a C type that appears in a callback's signature.
template <typename T> struct IRType {
  static_assert(std::is_pointer_v<T>, "no LLVM type for this C type");
  static llvm::Type *get(llvm::LLVMContext &C) {
    return llvm::PointerType::getUnqual(C);
  }
};
template <> struct IRType<void> {
  static llvm::Type *get(llvm::LLVMContext &C) {
    return llvm::Type::getVoidTy(C);
  }
};
template <> struct IRType<int32_t> {
  static llvm::Type *get(llvm::LLVMContext &C) {
    return llvm::Type::getInt32Ty(C);
  }
};
template <> struct IRType<int64_t> {
  static llvm::Type *get(llvm::LLVMContext &C) {
    return llvm::Type::getInt64Ty(C);
  }
};
template <typename R, typename... Args> struct IRType<R(Args...)> {
  static llvm::FunctionType *get(llvm::LLVMContext &C) {
    return llvm::FunctionType::get(IRType<R>::get(C), {IRType<Args>::get(C)...},
                                   false);
  }
};

} // namespace detail

/// Declares callback `C` in `M` (once per module) with its C signature.
template <typename FnT>
llvm::FunctionCallee declareCallback(llvm::Module &M, rt::Callback<FnT> C) {
  return M.getOrInsertFunction(C.Name,
                               detail::IRType<FnT>::get(M.getContext()));
}

/// `void (ptr ctx, i64 begin, i64 end)`: the type of a task
/// `nnc_parallel_for` runs (`nnc_task_fn`).
inline llvm::FunctionType *taskFunctionType(llvm::LLVMContext &C) {
  return detail::IRType<std::remove_pointer_t<nnc_task_fn>>::get(C);
}

/// Creates `void Name(ptr ctx, i64 begin, i64 end)`, internal and
/// `nounwind`: a task `nnc_parallel_for` runs.
inline llvm::Function *createTaskFunction(llvm::Module &M,
                                          const llvm::Twine &Name) {
  llvm::Function *F =
      llvm::Function::Create(taskFunctionType(M.getContext()),
                             llvm::GlobalValue::InternalLinkage, Name, M);
  // Its address is only passed to nnc_parallel_for, never compared.
  F->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  F->addFnAttr(llvm::Attribute::NoUnwind);
  return F;
}

/// Stores `Ptrs` into `Ctx`, an array of pointers: the context a task of
/// `nnc_parallel_for` receives.
inline void storeTaskContext(llvm::IRBuilder<> &B, llvm::Value *Ctx,
                             llvm::ArrayRef<llvm::Value *> Ptrs) {
  llvm::Type *Ptr = llvm::PointerType::getUnqual(B.getContext());
  for (unsigned I = 0; I < Ptrs.size(); ++I)
    B.CreateAlignedStore(Ptrs[I], B.CreateConstInBoundsGEP1_64(Ptr, Ctx, I),
                         llvm::Align(8));
}

/// The first `Count` pointers of a task's context `Ctx` (storeTaskContext).
inline llvm::SmallVector<llvm::Value *, 8>
loadTaskContext(llvm::IRBuilder<> &B, llvm::Value *Ctx, unsigned Count) {
  llvm::Type *Ptr = llvm::PointerType::getUnqual(B.getContext());
  llvm::SmallVector<llvm::Value *, 8> Ptrs;
  for (unsigned I = 0; I < Count; ++I)
    Ptrs.push_back(B.CreateAlignedLoad(
        Ptr, B.CreateConstInBoundsGEP1_64(Ptr, Ctx, I), llvm::Align(8)));
  return Ptrs;
}

} // namespace nnc::codegen

#endif
