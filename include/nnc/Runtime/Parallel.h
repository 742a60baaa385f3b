//===- Parallel.h - The runtime's thread pool, as generated code sees it --===//
//
// Generated kernels that are big enough to pay for it split their work into
// independent tasks and hand them to `nnc_parallel_for`. The runtime owns a
// small pool of worker threads (started lazily, on the first parallel call,
// so tiny models never start one). Every task computes its own outputs from
// start to end, so results do not depend on the number of threads.
//
// `NNC_NUM_THREADS` (a positive integer) overrides the default, which is the
// number of CPUs this process may run on.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_PARALLEL_H
#define NNC_RUNTIME_PARALLEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One chunk of work: tasks [begin, end) of the call that received `ctx`.
typedef void (*nnc_task_fn)(void *ctx, int64_t begin, int64_t end);

/// Runs `fn(ctx, t, t + 1)` for every task t in [0, count), spread over the
/// pool (each thread claims the next unclaimed task); returns when all are
/// done. Tasks must write disjoint outputs. A call made from inside a task
/// runs inline.
void nnc_parallel_for(nnc_task_fn fn, void *ctx, int64_t count);

/// Threads `nnc_parallel_for` uses (1 means it runs everything inline).
int nnc_num_threads(void);

#ifdef __cplusplus
}
#endif

#endif
