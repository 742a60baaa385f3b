//===- PoolGovernorTest.cpp - When two threads are slower than one --------===//
//
// lib/Runtime/PoolGovernor.h driven with made-up job times: an idle
// machine never leaves parallel mode; a loaded one where inline jobs are
// faster goes inline and keeps probing back; suspect waits that inline
// execution does not beat leave the pool parallel.
//
//===----------------------------------------------------------------------===//
#include "Runtime/PoolGovernor.h"

#include <gtest/gtest.h>

using nnc::rt::PoolGovernor;

namespace {

/// Job times per mode: parallel jobs take `Par` ns of which `Wait` waiting,
/// inline ones `Inline` ns. Runs `Windows` windows; returns how many ran
/// inline.
int64_t drive(PoolGovernor &G, int64_t Windows, int64_t Par, int64_t Wait,
              int64_t Inline) {
  int64_t Before = G.inlineWindows();
  for (int64_t I = 0; I < Windows * PoolGovernor::WindowJobs; ++I) {
    if (G.parallel())
      G.record(Par, Wait);
    else
      G.record(Inline, 0);
  }
  return G.inlineWindows() - Before;
}

TEST(PoolGovernor, AnIdleMachineStaysParallel) {
  PoolGovernor G;
  // Two threads at 1.7x; a stray excess wait of 2 %.
  EXPECT_EQ(drive(G, 5000, 1000, 20, 1700), 0);
  EXPECT_TRUE(G.parallel());
}

TEST(PoolGovernor, ALoadedMachineGoesInlineAndProbesBack) {
  PoolGovernor G;
  // Half of every parallel job is waiting for a descheduled thread, and
  // inline jobs are faster.
  int64_t Inline = drive(G, 1000, 2000, 1000, 1500);
  EXPECT_FALSE(G.parallel());
  // Parallel windows are the probes, fewer and fewer (stays double).
  EXPECT_GT(Inline, 980);
  EXPECT_LT(Inline, 1000);
  // The machine calms down: the next probe brings the pool back, and it
  // stays.
  drive(G, 2 * PoolGovernor::MaxStay, 1000, 20, 1700);
  EXPECT_TRUE(G.parallel());
  EXPECT_EQ(drive(G, 1000, 1000, 20, 1700), 0);
}

TEST(PoolGovernor, SuspectWaitsThatInlineDoesNotBeatStayParallel) {
  PoolGovernor G;
  // Waits are high, but parallel jobs are still faster: a probe now and
  // then, less and less often.
  int64_t Inline = drive(G, 1000, 1000, 400, 1700);
  EXPECT_TRUE(G.parallel());
  EXPECT_GT(Inline, 0);
  EXPECT_LE(Inline, 11); // stays 1, 2, 4, ..., 1024 between probes
}

TEST(PoolGovernor, InlineMustWinByTheMargin) {
  PoolGovernor G;
  // Inline jobs 2 % faster: within the noise, so the pool stays parallel.
  drive(G, 100, 1000, 400, 980);
  EXPECT_TRUE(G.parallel());
}

} // namespace
