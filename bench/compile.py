#!/usr/bin/env python3
"""How long `nnc FILE.nn -o EXE` takes for every example, optionally side
by side with another build of nnc.

    python3 bench/compile.py                       # this build, 5 rounds
    python3 bench/compile.py --base /tmp/nnc.old   # alternating with another

Each round compiles every model once with each compiler, the order of the
two swapped from round to round, so that a machine whose speed drifts
(these VMs swing by half from minute to minute) weighs on both alike.
Prints wall and CPU seconds (nnc and its children: the threads of the
code generator and the link) per model: min, median, max over the rounds,
and the ratio of the medians; `✘` marks a median wall time over the one
second issue 13 asks for.
"""
import argparse
import os
import statistics
import sys
import tempfile

from procs import cpu_model, run_usage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_SECONDS = 1.0


def default_models():
    models = []
    for folder in ("examples", "bench/models"):
        path = os.path.join(ROOT, folder)
        models += sorted(os.path.join(path, f) for f in os.listdir(path)
                         if f.endswith(".nn"))
    return models


def compile_once(nnc, model, out):
    """Wall and CPU seconds of one compilation (nnc's threads and its
    children: the linker)."""
    _, wall, usage = run_usage([nnc, model, "-o", out])
    return wall, usage.ru_utime + usage.ru_stime


def spread(values):
    return (f"{min(values):.2f}–{max(values):.2f} "
            f"(median {statistics.median(values):.2f})")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"),
                   help="nnc build folder (default: build/)")
    p.add_argument("--base", help="another nnc binary to alternate with")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("models", nargs="*", help="default: examples/*.nn and "
                   "bench/models/*.nn")
    args = p.parse_args()
    nnc = os.path.join(args.build, "tools", "nnc", "nnc")
    compilers = [("nnc", nnc)] + ([("base", args.base)] if args.base else [])
    for _, path in compilers:
        if not os.access(path, os.X_OK):
            sys.exit(f"compile.py: {path} is not an executable")
    models = args.models or default_models()

    print(f"# {cpu_model()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}, {args.rounds} rounds", flush=True)

    times = {(m, name): [] for m in models for name, _ in compilers}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = compilers if r % 2 == 0 else compilers[::-1]
            for m in models:
                for name, path in order:
                    out = os.path.join(tmp, name)
                    times[(m, name)].append(compile_once(path, m, out))

    for m in models:
        label = os.path.relpath(m, ROOT)
        for name, _ in compilers:
            walls = [w for w, _ in times[(m, name)]]
            cpus = [c for _, c in times[(m, name)]]
            over = " ✘" if statistics.median(walls) > TARGET_SECONDS else ""
            print(f"{label:28s} {name:5s} wall {spread(walls)}{over}  "
                  f"CPU {spread(cpus)}")
        if args.base:
            ratio = (statistics.median(w for w, _ in times[(m, "base")]) /
                     statistics.median(w for w, _ in times[(m, "nnc")]))
            print(f"{'':28s} base/nnc wall {ratio:.2f}x")


if __name__ == "__main__":
    main()
