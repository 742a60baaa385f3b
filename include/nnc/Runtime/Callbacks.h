/*===- Callbacks.h - The runtime functions generated code calls ----------===*
 *
 * Generated code calls into the runtime through exactly the functions
 * declared here (C linkage, plain C types): `nnc_main` from an executable's
 * main(), `nnc_parallel_for` from kernels that split their work over the
 * thread pool (Parallel.h), and `nnc_check_numerics` after every kernel of
 * a model compiled with --check-numerics (Numerics.h). The C++ part names
 * them once for both sides of the boundary: the code generator declares
 * each in the module from its name and from the C type below
 * (lib/CodeGen/RuntimeCalls.h), and a JIT resolves the module's calls
 * through `callbackSymbols()`, so neither spells a symbol or a signature of
 * its own.
 *
 *===----------------------------------------------------------------------===*/
#ifndef NNC_RUNTIME_CALLBACKS_H
#define NNC_RUNTIME_CALLBACKS_H

#include "nnc/Runtime/ModelABI.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The runtime's entry: parses argv (docs/runtime.md, "Commands") and runs the
 * command. The executable's main() is `return nnc_main(&nnc_model_desc, argc,
 * argv);`. */
int nnc_main(const nnc_model *model, int argc, char **argv);

/* One chunk of work: tasks [begin, end) of the call that received `ctx`. */
typedef void (*nnc_task_fn)(void *ctx, int64_t begin, int64_t end);

/* Runs `fn(ctx, t, t + 1)` for every task t in [0, count), spread over the
 * pool (each thread claims the next unclaimed task); returns when all are
 * done. Tasks must write disjoint outputs. A call made from inside a task
 * runs inline. */
void nnc_parallel_for(nnc_task_fn fn, void *ctx, int64_t count);

/* Scans `count` floats at `data`; on the first non-finite one (if no
 * failure is recorded yet) records it with the op spelling (`log`), the
 * value's name (`%5`, `%h`), the source file and 1-based line (0: none)
 * and the entry point (`train_step`). */
void nnc_check_numerics(const float *data, int64_t count, const char *op,
                        const char *value, const char *file, int32_t line,
                        const char *entry);

#ifdef __cplusplus
}

#include <string>
#include <utility>
#include <vector>

namespace nnc::rt {

/// A callback as the code generator names it: its symbol, with the C type
/// of its declaration above as `FnT`, from which the code generator derives
/// the LLVM signature.
template <typename FnT> struct Callback {
  const char *Name;
};

inline constexpr Callback<decltype(nnc_main)> NncMain{"nnc_main"};
inline constexpr Callback<decltype(nnc_parallel_for)> ParallelFor{
    "nnc_parallel_for"};
inline constexpr Callback<decltype(nnc_check_numerics)> CheckNumerics{
    "nnc_check_numerics"};

/// `C`'s symbol with the address of `Fn`, which must have `C`'s type.
template <typename FnT>
std::pair<std::string, void *> symbolOf(Callback<FnT> C, FnT *Fn) {
  return {C.Name, reinterpret_cast<void *>(Fn)};
}

/// Every callback by symbol and address in this process: what a JIT needs
/// to run generated code against the runtime linked into the process
/// (`nnc run`, the unit tests). Calling it links the runtime; the code
/// generator uses the names only.
inline std::vector<std::pair<std::string, void *>> callbackSymbols() {
  return {symbolOf(NncMain, &nnc_main),
          symbolOf(ParallelFor, &nnc_parallel_for),
          symbolOf(CheckNumerics, &nnc_check_numerics)};
}

} // namespace nnc::rt
#endif

#endif
