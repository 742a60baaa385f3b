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

/* Declares `nnc_check_numerics`, with the other callbacks. */
#include "nnc/Runtime/Callbacks.h"

#ifdef __cplusplus
#include <string>

namespace nnc::rt {

/// The recorded failure as one message, e.g. "non-finite value (nan) in
/// 'log' (%5) at model.nn:12 during train_step", and clears the record;
/// empty when every checked value was finite (or the model was compiled
/// without --check-numerics).
std::string takeNumericsFailure();

} // namespace nnc::rt
#endif

#endif
