//===- Parallel.h - The runtime's thread pool, as generated code sees it --===//
//
// Generated kernels that are big enough to pay for it split their work into
// independent tasks and hand them to `nnc_parallel_for`. The runtime owns a
// small pool of worker threads (started lazily, on the first parallel call,
// so tiny models never start one). Every task computes its own outputs from
// start to end, so results do not depend on the number of threads.
//
// `NNC_NUM_THREADS` (a positive integer) overrides the default, which is the
// number of CPUs this process may run on (under mpirun, unless it bound the
// rank to some CPUs, those divided by the ranks on the machine).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_PARALLEL_H
#define NNC_RUNTIME_PARALLEL_H

// Declares `nnc_parallel_for` and its task type, with the other callbacks.
#include "nnc/Runtime/Callbacks.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Threads `nnc_parallel_for` uses (1 means it runs everything inline).
int nnc_num_threads(void);

#ifdef __cplusplus
}
#endif

#endif
