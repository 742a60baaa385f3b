//===- ThreadPool.cpp - nnc_parallel_for for generated kernels ------------===//
//
// A fixed pool of T-1 workers plus the calling thread. A call publishes the
// job (function, context, count) and bumps a generation counter; then the
// caller and the workers claim tasks one at a time from an atomic counter
// tagged with the generation (so a worker that wakes up after the job is
// over claims nothing). A task computes a fixed set of outputs whoever runs
// it, so results never depend on the thread count; claiming keeps the
// caller going when the machine is oversubscribed and a worker is not
// scheduled.
//
// Kernels are called back to back (a training step is a few hundred
// microseconds), so a futex wake-up per call would cost more than the split
// saves: idle workers spin on the generation counter for a couple of
// milliseconds before they go to sleep in `atomic::wait`. The caller only
// issues a wake-up when some worker actually sleeps. The pool starts on the
// first call that has more than one task, so small models never create a
// thread.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Parallel.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <sched.h>
#include <thread>

namespace {

void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// Set while a thread runs chunks (always, on workers): a nested call runs
/// inline instead of waiting for a pool that is busy with its caller.
thread_local bool InsideTask = false;

/// How long an idle worker spins before it sleeps.
constexpr auto SpinTime = std::chrono::milliseconds(2);

class Pool {
public:
  explicit Pool(int Threads) {
    for (int I = 1; I < Threads; ++I)
      std::thread([this] { work(); }).detach();
  }

  void run(nnc_task_fn Fn, void *Ctx, int64_t Count) {
    this->Fn = Fn;
    this->Ctx = Ctx;
    this->Count = Count;
    Done.store(0, std::memory_order_relaxed);
    uint64_t Gen = Generation.load(std::memory_order_relaxed) + 1;
    Claim.store(Gen << 32, std::memory_order_release);
    Generation.store(Gen, std::memory_order_seq_cst);
    if (Sleepers.load(std::memory_order_seq_cst) > 0)
      Generation.notify_all();
    runTasks(Gen);
    // The caller ran out of unclaimed tasks; wait for those in flight.
    unsigned Spins = 0;
    while (Done.load(std::memory_order_acquire) != Count)
      if (++Spins % 256 == 0)
        std::this_thread::yield();
      else
        cpuRelax();
  }

private:
  /// Claims and runs tasks of job `Gen` until none is left (or the job is
  /// over, for a worker that woke up late).
  void runTasks(uint64_t Gen) {
    nnc_task_fn F = Fn;
    void *C = Ctx;
    int64_t N = Count;
    uint64_t Cur = Claim.load(std::memory_order_acquire);
    for (;;) {
      if (Cur >> 32 != (Gen & 0xffffffffu) || int64_t(Cur & 0xffffffffu) >= N)
        return;
      if (!Claim.compare_exchange_weak(Cur, Cur + 1, std::memory_order_acq_rel))
        continue;
      int64_t Task = int64_t(Cur & 0xffffffffu);
      F(C, Task, Task + 1);
      Done.fetch_add(1, std::memory_order_release);
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
        cpuRelax();
        if (++Spins % 1024 != 0 ||
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
      runTasks(G);
    }
  }

  nnc_task_fn Fn = nullptr;
  void *Ctx = nullptr;
  int64_t Count = 0;
  std::atomic<uint64_t> Generation{0};
  /// (generation << 32) | next unclaimed task of the current job.
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
  cpu_set_t Set;
  if (sched_getaffinity(0, sizeof(Set), &Set) == 0 && CPU_COUNT(&Set) > 0)
    return CPU_COUNT(&Set);
  unsigned H = std::thread::hardware_concurrency();
  return H ? int(H) : 1;
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
  pool().run(Fn, Ctx, Count);
  InsideTask = false;
}
