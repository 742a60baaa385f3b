//===- PoolGovernor.cpp - When two threads are slower than one ------------===//
#include "PoolGovernor.h"

#include <algorithm>

using namespace nnc::rt;

void PoolGovernor::record(int64_t JobNanos, int64_t WaitNanos) {
  Time += JobNanos;
  Wait += WaitNanos;
  if (++Jobs == WindowJobs)
    endWindow();
}

void PoolGovernor::endWindow() {
  int64_t Window = Time;
  bool Suspect = Parallel && Wait > SuspectWait * double(Time);
  Jobs = Time = Wait = 0;
  if (!Parallel)
    ++InlineWindows;

  if (Probing) {
    Probing = false;
    bool WasParallel = !Parallel; // the mode before the probe
    // The probe wins when it is faster, by the margin if it is inline.
    bool ProbeWins =
        Parallel ? Window < Before : Window < (1 - Margin) * double(Before);
    if (ProbeWins) {
      Stay = 1; // a new mode: probe again soon
    } else {
      Parallel = WasParallel;
      Stay = std::min(2 * Stay, MaxStay);
    }
    Left = Stay;
    return;
  }

  if (Parallel) {
    // Parallel mode probes only when its waits look bad, but then not
    // before its stay is over (the last probe said parallel is faster).
    if (Left > 0)
      --Left;
    if (!Suspect || Left > 0)
      return;
  } else if (--Left > 0) {
    return;
  }
  Probing = true;
  Before = Window;
  Parallel = !Parallel;
}
