//===- ThreadPool.cpp - nnc_parallel_for for generated kernels ------------===//
//
// A fixed pool of T-1 workers plus the calling thread. A call publishes the
// job (function, context, count) and bumps a generation counter; then the
// caller and the workers claim tasks one at a time from one atomic word
// that holds the job's generation and the range of unclaimed tasks, the
// caller from its front and the workers from its back (so a worker that
// wakes up after the job is over claims nothing: it compares the ends of
// the same job's range, never a newer job's — it once compared with a
// newer job's count, claimed a task past the end of a finished job, and
// the caller waited forever for a count its extra task had overshot). A task
// computes a fixed set of outputs whoever runs it, so results never depend on
// the thread count; claiming keeps the caller going when the machine is
// oversubscribed and a worker is not scheduled.
//
// Kernels are called back to back (a training step is a few hundred
// microseconds), so a futex wake-up per call would cost more than the split
// saves: idle workers spin on the generation counter for a couple of
// milliseconds before they go to sleep in `atomic::wait`. The caller only
// issues a wake-up when some worker actually sleeps. Spinning yields the
// core after a few microseconds (see PauseSpins), and jobs run inline on
// the caller while that is measured to be faster (PoolGovernor.h): on a
// machine with more runnable threads than cores, two threads must not be
// slower than one. The pool starts on the first call that has more than
// one task, so small models never create a thread.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Parallel.h"

#include "PoolGovernor.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <sched.h>
#include <thread>
#include <unistd.h>

namespace {

int64_t nanosSince(std::chrono::steady_clock::time_point Start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now() - Start)
      .count();
}

void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// Set while a thread runs chunks (always, on workers): a nested call runs
/// inline instead of waiting for a pool that is busy with its caller.
thread_local bool InsideTask = false;

/// The claim word: generation (bits 63-32), end of the unclaimed tasks
/// (31-16), start of the unclaimed tasks (15-0). Jobs of more tasks are
/// run as several jobs.
constexpr unsigned GenShift = 32, EndShift = 16;
constexpr uint64_t FieldMask = 0xffff;
constexpr int64_t MaxTasks = int64_t(FieldMask);

/// How long an idle worker spins before it sleeps.
constexpr auto SpinTime = std::chrono::milliseconds(2);
/// Spins with `pause` (~2-4 us on current x86: the gap between two
/// kernels of a step) before a spinning thread starts to yield each turn.
/// On a machine with more runnable threads than cores, a thread that
/// spins without yielding takes its core from whoever would run there —
/// often this pool's other thread, which the spinner is waiting for: two
/// threads then ran at 0.55-0.75x of one. Yielding costs a system call
/// per turn, nothing when the core has nothing else to run.
constexpr unsigned PauseSpins = 64;

class Pool {
public:
  explicit Pool(int Threads) {
    for (int I = 1; I < Threads; ++I)
      std::thread([this] { work(); }).detach();
  }

  /// Runs tasks [0, Count) of `Fn`; Count <= MaxTasks. Returns how much
  /// longer than one of its own tasks the caller waited for other threads'
  /// tasks after it had run out of tasks to claim (ns): a balanced job
  /// waits less than a task; a thread descheduled in the middle of a task
  /// makes the caller wait far longer (PoolGovernor.h).
  int64_t run(nnc_task_fn Fn, void *Ctx, int64_t Count) {
    this->Fn.store(Fn, std::memory_order_relaxed);
    this->Ctx.store(Ctx, std::memory_order_relaxed);
    Done.store(0, std::memory_order_relaxed);
    uint64_t Gen = Generation.load(std::memory_order_relaxed) + 1;
    Claim.store((Gen & 0xffffffffu) << GenShift | uint64_t(Count) << EndShift,
                std::memory_order_release);
    Generation.store(Gen, std::memory_order_seq_cst);
    if (Sleepers.load(std::memory_order_seq_cst) > 0)
      Generation.notify_all();
    auto Start = std::chrono::steady_clock::now();
    int64_t Own = runTasks(Gen, /*FromFront=*/true);
    // The caller ran out of unclaimed tasks; wait for those in flight.
    if (Done.load(std::memory_order_acquire) == Count)
      return 0;
    auto WaitStart = std::chrono::steady_clock::now();
    int64_t OwnTask = Own ? nanosSince(Start) / Own : 0;
    unsigned Spins = 0;
    while (Done.load(std::memory_order_acquire) != Count)
      if (++Spins < PauseSpins)
        cpuRelax();
      else
        std::this_thread::yield();
    return std::max<int64_t>(0, nanosSince(WaitStart) - OwnTask);
  }

private:
  /// Claims and runs tasks of job `Gen` until none is left (or the job is
  /// over, for a worker that woke up late): the caller from the front,
  /// workers from the back. Consecutive kernels cut the batch alike, so
  /// each thread then mostly gets the images it worked on in the kernel
  /// before, still in its core's cache (claimed by whoever came first,
  /// the two threads' tasks of vgg's step mixed and each ran 10 % slower
  /// than on one thread; Zen 5, docs/performance.md, session 10).
  ///
  /// Fn and Ctx may be read while the caller already publishes a newer
  /// job; they are used only after a claim in job `Gen` succeeds, and that
  /// job cannot end (nor a newer one start) before the claimed task is
  /// done, so a successful claim means they were job Gen's.
  /// Returns how many tasks this thread ran.
  int64_t runTasks(uint64_t Gen, bool FromFront) {
    nnc_task_fn F = Fn.load(std::memory_order_relaxed);
    void *C = Ctx.load(std::memory_order_relaxed);
    uint64_t Cur = Claim.load(std::memory_order_acquire);
    int64_t Ran = 0;
    for (;;) {
      uint64_t Begin = Cur & FieldMask, End = Cur >> EndShift & FieldMask;
      if (Cur >> GenShift != (Gen & 0xffffffffu) || Begin >= End)
        return Ran;
      uint64_t Task = FromFront ? Begin : End - 1;
      uint64_t Next = FromFront ? Cur + 1 : Cur - (uint64_t(1) << EndShift);
      if (!Claim.compare_exchange_weak(Cur, Next, std::memory_order_acq_rel))
        continue;
      F(C, int64_t(Task), int64_t(Task) + 1);
      Done.fetch_add(1, std::memory_order_release);
      ++Ran;
      Cur = Claim.load(std::memory_order_acquire);
    }
  }

  void work() {
    InsideTask = true;
    // The generation the pool was built with; a worker that starts late
    // still joins the job in progress, if any task is left.
    uint64_t Seen = 0;
    for (;;) {
      auto Start = std::chrono::steady_clock::now();
      unsigned Spins = 0;
      uint64_t G;
      while ((G = Generation.load(std::memory_order_acquire)) == Seen) {
        if (++Spins < PauseSpins) {
          cpuRelax();
          continue;
        }
        std::this_thread::yield();
        if (Spins % 64 != 0 ||
            std::chrono::steady_clock::now() - Start < SpinTime)
          continue;
        // Announce the sleep before re-checking, so a caller that bumps
        // the generation after our check sees us and wakes us.
        Sleepers.fetch_add(1, std::memory_order_seq_cst);
        Generation.wait(Seen, std::memory_order_seq_cst);
        Sleepers.fetch_sub(1, std::memory_order_seq_cst);
        Start = std::chrono::steady_clock::now();
      }
      Seen = G;
      runTasks(G, /*FromFront=*/false);
    }
  }

  std::atomic<nnc_task_fn> Fn{nullptr};
  std::atomic<void *> Ctx{nullptr};
  std::atomic<uint64_t> Generation{0};
  /// The current job's generation, task count and next unclaimed task.
  std::atomic<uint64_t> Claim{0};
  std::atomic<int64_t> Done{0};
  std::atomic<int> Sleepers{0};
};

int defaultThreads() {
  if (const char *Env = std::getenv("NNC_NUM_THREADS")) {
    char *End = nullptr;
    long V = std::strtol(Env, &End, 10);
    if (End != Env && *End == '\0' && V > 0)
      return int(V < 256 ? V : 256);
  }
  int Cpus = int(std::thread::hardware_concurrency());
  cpu_set_t Set;
  if (sched_getaffinity(0, sizeof(Set), &Set) == 0 && CPU_COUNT(&Set) > 0)
    Cpus = CPU_COUNT(&Set);
  // The ranks of an mpirun job on one machine share its CPUs
  // (docs/distributed.md): unless mpirun bound this rank to some of them,
  // it takes an equal share, so 2 ranks on 2 cores run 1 thread each.
  if (const char *Env = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) {
    long Ranks = std::strtol(Env, nullptr, 10);
    if (Ranks > 1 && Cpus >= sysconf(_SC_NPROCESSORS_ONLN))
      Cpus = int(Cpus / Ranks);
  }
  return Cpus > 0 ? Cpus : 1;
}

int threadCount() {
  static const int N = defaultThreads();
  return N;
}

Pool &pool() {
  // Never destroyed: detached workers may still be asleep at exit.
  static Pool *P = new Pool(threadCount());
  return *P;
}

std::mutex CallMutex;
/// Whether jobs run on the pool or inline (PoolGovernor.h); guarded by
/// CallMutex.
nnc::rt::PoolGovernor Governor;

} // namespace

extern "C" int nnc_num_threads(void) { return threadCount(); }

extern "C" void nnc_parallel_for(nnc_task_fn Fn, void *Ctx, int64_t Count) {
  if (Count <= 0)
    return;
  if (Count == 1 || threadCount() == 1 || InsideTask) {
    Fn(Ctx, 0, Count);
    return;
  }
  // One job at a time: two host threads running models share the pool.
  std::lock_guard<std::mutex> Lock(CallMutex);
  InsideTask = true;
  // A job has at most MaxTasks tasks: a longer one runs as several, each
  // shifted to its range by `Shifted`.
  struct Shifted {
    nnc_task_fn Fn;
    void *Ctx;
    int64_t Begin;
    static void run(void *P, int64_t Lo, int64_t Hi) {
      auto *S = static_cast<Shifted *>(P);
      S->Fn(S->Ctx, S->Begin + Lo, S->Begin + Hi);
    }
  };
  auto Start = std::chrono::steady_clock::now();
  int64_t Wait = 0;
  if (!Governor.parallel()) {
    Fn(Ctx, 0, Count);
  } else if (Count <= MaxTasks) {
    Wait = pool().run(Fn, Ctx, Count);
  } else {
    for (int64_t Begin = 0; Begin < Count; Begin += MaxTasks) {
      Shifted S{Fn, Ctx, Begin};
      Wait += pool().run(&Shifted::run, &S, std::min(MaxTasks, Count - Begin));
    }
  }
  Governor.record(nanosSince(Start), Wait);
  InsideTask = false;
}
