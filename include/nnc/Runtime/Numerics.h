/*===- Numerics.h - The per-op non-finite check (--check-numerics) -------===*
 *
 * A model compiled with `nnc --check-numerics` calls `nnc_check_numerics`
 * after every kernel, once per f32 buffer the kernel writes (each output a
 * fused kernel materializes, every other node's output), naming the op, the
 * value as the `--emit=opt` dump spells it, its `.nn` line and the entry
 * point. Without the flag no call is emitted, so normal builds pay nothing.
 *
 * The check never unwinds out of generated code: it records the *first*
 * non-finite value in a process-wide record (later checks return at once)
 * and the entry point runs to its end. The runtime looks at the record
 * after every entry call and stops the command with the recorded message,
 * before anything computed by that call is saved, so the checkpoint of the
 * last good epoch stays intact (the same path as the NaN stop of `train`).
 *
 * Entry points run on the thread that calls them (kernels parallelize
 * inside themselves and return before the check), so the record needs no
 * locking.
 *
 *===----------------------------------------------------------------------===*/
#ifndef NNC_RUNTIME_NUMERICS_H
#define NNC_RUNTIME_NUMERICS_H

#include <stdint.h>

#ifdef __cplusplus
#include <string>

extern "C" {
#endif

/// Scans `count` floats at `data`; on the first non-finite one (if no
/// failure is recorded yet) records it with the op spelling (`log`), the
/// value's name (`%5`, `%h`), the source file and 1-based line (0: none)
/// and the entry point (`train_step`).
void nnc_check_numerics(const float *data, int64_t count, const char *op,
                        const char *value, const char *file, int32_t line,
                        const char *entry);

#ifdef __cplusplus
}

namespace nnc::rt {

/// The recorded failure as one message, e.g. "non-finite value (nan) in
/// 'log' (%5) at model.nn:12 during train_step", and clears the record;
/// empty when every checked value was finite (or the model was compiled
/// without --check-numerics).
std::string takeNumericsFailure();

} // namespace nnc::rt
#endif

#endif
