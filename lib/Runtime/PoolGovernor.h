//===- PoolGovernor.h - When two threads are slower than one --------------===//
//
// On a machine with more runnable threads than cores, a pool thread can be
// descheduled in the middle of a task; the job's caller then waits for that
// task until the scheduler runs the thread again, a few milliseconds, where
// the whole job takes tens of microseconds. Two threads then train slower
// than one. Results do not depend on how tasks are spread over threads, so
// the pool may run jobs inline on the caller whenever that is faster.
//
// The governor decides from measurements, per window of jobs:
//
// * in parallel mode, each window records how much longer than one of its
//   own tasks the caller waited for tasks in flight after it ran out of
//   tasks to claim. On an idle machine the other threads finish their last
//   task within about one task's time, so that excess is ~0 and nothing
//   else happens. When it exceeds `SuspectWait` of the window, the next
//   window runs inline as a probe;
// * a probe's window time is compared with the window before it (windows
//   have equal job counts, and a model's jobs repeat every step, so
//   windows do the same work); the faster mode stays for `Stay` windows,
//   which doubles each time the same mode wins again;
// * in inline mode, a parallel window is tried after `Stay` windows, so
//   the pool comes back when the machine calms down.
//
// Pure bookkeeping on durations, so that tests can drive it.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_POOLGOVERNOR_H
#define NNC_RUNTIME_POOLGOVERNOR_H

#include <cstdint>

namespace nnc::rt {

class PoolGovernor {
public:
  /// Jobs per window: a few training steps of a small model.
  static constexpr int64_t WindowJobs = 64;
  /// The wait for tasks in flight, as a fraction of a parallel window's
  /// time, above which inline execution is tried.
  static constexpr double SuspectWait = 0.10;
  /// Inline execution wins when its window is this much faster (so that
  /// noise does not flip the mode).
  static constexpr double Margin = 0.05;
  /// The longest stay, in windows, between two probes.
  static constexpr int64_t MaxStay = 1024;

  /// Whether the next job runs on all threads (else inline on the caller).
  bool parallel() const { return Parallel; }

  /// Records a finished job: its time and, for a parallel job, its excess
  /// wait for other threads' tasks (nanoseconds).
  void record(int64_t JobNanos, int64_t WaitNanos);

  /// Windows run inline so far (for tests and statistics).
  int64_t inlineWindows() const { return InlineWindows; }

private:
  void endWindow();

  bool Parallel = true;
  /// The current window.
  int64_t Jobs = 0, Time = 0, Wait = 0;
  /// Whether the current window is a probe of the other mode, and the
  /// time of the window before it.
  bool Probing = false;
  int64_t Before = 0;
  /// Windows left in the current mode before the next probe (inline mode
  /// only; parallel mode probes when waits are suspect).
  int64_t Stay = 1, Left = 0;
  int64_t InlineWindows = 0;
};

} // namespace nnc::rt

#endif
