#!/usr/bin/env python3
"""Data-parallel training on this machine: ranks against threads (issue 16).

Trains one epoch of examples/mlp.nn at a global batch of --batch rows
(default 256) four ways, alternating, --rounds times:

  1 rank  x 1 thread   NNC_NUM_THREADS=1 EXE train
  1 rank  x 2 threads  NNC_NUM_THREADS=2 EXE train
  2 ranks x 1 thread   mpirun -np 2 EXE train, B = batch/2 per rank (the
                       same global batch, so the same training)
  2 ranks x 1 thread   mpirun -np 2 EXE train, B = batch per rank (twice the
                       global batch: half the steps)

and prints each one's training rate (the `ex/s` the executable prints: the
epoch's training loop, without test evaluation or process start), medians,
and the ratios the issue sets targets for. The per-round ratios show how
much of the spread is the machine: on a 2-vCPU VM one vCPU is often slowed
by its neighbours, and a two-rank step waits for the slower rank.

usage: python3 bench/distributed.py [--build DIR] [--rounds N] [--batch B]
"""
import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from bench import ROOT, cpu_model  # noqa: E402
from procs import run  # noqa: E402

MPIRUN = ["mpirun", "--allow-run-as-root", "-np", "2"]


def variant(tmp, batch):
    """examples/mlp.nn with `dim B = batch` and one epoch."""
    src = open(os.path.join(ROOT, "examples", "mlp.nn")).read()
    src = re.sub(r"dim B = \d+", f"dim B = {batch}", src, count=1)
    path = os.path.join(tmp, f"mlp{batch}.nn")
    open(path, "w").write(src)
    return path


def rate(cmd, env):
    out, _ = run(cmd + ["train", "--epochs", "1"], env=env)
    return float(re.findall(r"([\d.]+) ex/s", out)[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--batch", type=int, default=256)
    args = p.parse_args()
    if not shutil.which("mpirun"):
        sys.exit("bench: no mpirun (apt install openmpi-bin)")
    nnc = os.path.join(args.build, "tools", "nnc", "nnc")
    tmp = tempfile.mkdtemp(prefix="nnc-dist-")
    exes = {}
    for b in {args.batch, args.batch // 2}:
        exes[b] = os.path.join(tmp, f"mlp{b}")
        run([nnc, variant(tmp, b), "-o", exes[b]])

    env = {k: v for k, v in os.environ.items() if k != "NNC_NUM_THREADS"}
    one, two = dict(env, NNC_NUM_THREADS="1"), dict(env, NNC_NUM_THREADS="2")
    half = args.batch // 2
    ways = [
        ("1 rank x 1 thread", [exes[args.batch]], one),
        ("1 rank x 2 threads", [exes[args.batch]], two),
        (f"2 ranks x 1 thread, B={half}", MPIRUN + [exes[half]], env),
        (f"2 ranks x 1 thread, B={args.batch}", MPIRUN + [exes[args.batch]],
         env),
    ]
    rates = {name: [] for name, _, _ in ways}
    print(f"{cpu_model()}, {os.cpu_count()} CPUs; mlp.nn, one epoch, "
          f"{args.rounds} rounds", flush=True)
    for r in range(args.rounds):
        for name, cmd, e in ways:
            rates[name].append(rate(cmd, e))
        print(f"round {r + 1}: " + "  ".join(
            f"{rates[n][-1]:.0f}" for n, _, _ in ways), flush=True)

    print(f"\n{'ex/s (training loop)':34} {'min':>8} {'median':>8} "
          f"{'max':>8}")
    for name, _, _ in ways:
        v = rates[name]
        print(f"{name:34} {min(v):8.0f} {statistics.median(v):8.0f} "
              f"{max(v):8.0f}")
    med = {n: statistics.median(v) for n, v in rates.items()}
    names = [n for n, _, _ in ways]
    print(f"\n2 ranks (B={half}) / 1 rank x 1 thread: "
          f"{med[names[2]] / med[names[0]]:.2f}x  (target >= 1.7)")
    print(f"2 ranks (B={half}) / 1 rank x 2 threads: "
          f"{med[names[2]] / med[names[1]]:.2f}x  (target >= 1.0)")
    print(f"1 rank x 2 threads / 1 thread: "
          f"{med[names[1]] / med[names[0]]:.2f}x")
    per_round = [c / a for c, a in zip(rates[names[2]], rates[names[0]])]
    print("per round, 2 ranks / 1 thread: " +
          " ".join(f"{x:.2f}" for x in per_round))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
