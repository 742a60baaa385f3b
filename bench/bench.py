#!/usr/bin/env python3
"""nnc vs PyTorch, side by side, on this machine.

Builds the examples (and batch variants made by rewriting `dim B = ...` in a
temp copy) with nnc, then runs each measurement for nnc and for PyTorch
(bench/torch_models.py, /usr/bin/python3) alternately, REPS times, and
prints medians and ratios. Every run is a fresh process, so peak RSS is
that process's own (wait4). It is a benchmark, not a test: nothing here
asserts a time.

PyTorch is run at its best: OpenBLAS's OpenMP build, OPENBLAS_CORETYPE /
OPENBLAS_L2_SIZE unset (a Haswell override halves sgemm on Zen 5), and the
faster of 1 or 2 threads, probed once per benchmark.

--accuracy also trains each example of ACCURACY (its train block's epochs,
on both sides) once per seed and compares the test accuracy after the last
epoch, per seed and as the mean over the seeds, with the seconds per
training epoch of each side; resnet (10 epochs, batch norm, augmentation,
a cosine schedule and a validation split) dominates its time: about an
hour for 3 seeds on 2 cores. `--only` picks some of the examples, or the
conv family's models (vgg, resnet_s2, wide: 3 epochs of the full data
set each, not part of the default list), and
`--logs DIR` keeps every run's per-epoch CSV (nnc's `train --log` and the
same columns from PyTorch); `--accuracy-only` skips the speed benchmarks.

Every run starts with the FP32 FMA peak of one core (bench/peak.c, built
with `cc -O2 -march=native`: independent vector FMA chains, best of 5).

--convs and --spread are in bench/convs.py (the conv family and the
thread spread, issue 13).

usage: python3 bench/bench.py [--build DIR] [--reps N] [--quick]
                             [--convs | --convs-only | --no-convs] [--subset N]
                             [--spread | --spread-only] [--spread-loaded]
                             [--spread-runs N]
                             [--accuracy [--seeds K] [--only NAME,...]
                              [--logs DIR] [--accuracy-only]]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile

import convs
from procs import cpu_model, run, run_rss

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH = [
    "/usr/bin/python3", os.path.join(ROOT, "bench", "torch_models.py")]
TORCH_ENV = {k: v for k, v in os.environ.items()
             if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
TORCH_ENV["LD_LIBRARY_PATH"] = "/usr/lib/x86_64-linux-gnu/openblas-openmp"

# The examples --accuracy compares, with their train blocks' epochs.
ACCURACY = [("mlp", 5), ("lenet", 5), ("resnet", 10)]
# The conv family's accuracy runs (bench/models/NAME.nn, full data set);
# --only picks them by name.
CONV_ACCURACY = [("vgg", 3), ("resnet_s2", 3), ("wide", 3)]

# The conv family (bench/models/NAME.nn, batch 64) that --convs measures.

# GEMM shapes of the MLP (forward, dX = dY W^T, dW = X^T dY), batch 64/256.
GEMMS = [
    ("fwd 64x784x256", 64, 784, 256, False, False),
    ("fwd 64x256x128", 64, 256, 128, False, False),
    ("dX 64x128x256 (B^T)", 64, 128, 256, False, True),
    ("dW 784x64x256 (A^T)", 784, 64, 256, True, False),
    ("dW 256x64x128 (A^T)", 256, 64, 128, True, False),
    ("fwd 256x784x256", 256, 784, 256, False, False),
]


class Bench:
    def __init__(self, args):
        self.args = args
        self.nnc = os.path.join(args.build, "tools", "nnc", "nnc")
        self.runtime = os.path.join(args.build, "lib", "Runtime",
                                    "libnncRuntime.a")
        self.tmp = tempfile.mkdtemp(prefix="nnc-bench-")
        self.rows = []  # (name, nnc, torch, unit, higher_is_better)
        self.threads = {}
        self.data = None  # the subset's folder, once written
        self.peak = None  # GFLOP/s of one core

    # -- building ---------------------------------------------------------
    def variant(self, example, batch, name, folder="examples", data=None):
        """A copy of FOLDER/EXAMPLE.nn with `dim B = batch`, and with its
        idx(...) files taken from the folder DATA when given."""
        src = open(os.path.join(ROOT, folder, example + ".nn")).read()
        src = re.sub(r"dim B = \d+", f"dim B = {batch}", src, count=1)
        if data:
            src = re.sub(r'"[^"]*/((train|t10k)-(images|labels)-[^"/]*)"',
                         lambda m: f'"{data}/{m.group(1)}"', src)
        path = os.path.join(self.tmp, name + ".nn")
        open(path, "w").write(src)
        return path

    def exe(self, nn, name):
        out = os.path.join(self.tmp, name)
        run([self.nnc, nn, "-o", out])
        return out

    def timer(self, nn, name):
        """The model linked with bench/entry_timer.c instead of nnc_main."""
        obj = os.path.join(self.tmp, name + ".o")
        run([self.nnc, nn, "--emit=obj", "-o", obj])
        out = os.path.join(self.tmp, name + ".timer")
        run(["cc", "-O2", "-I", os.path.join(ROOT, "include"),
             os.path.join(ROOT, "bench", "entry_timer.c"), obj, self.runtime,
             "-lstdc++", "-lpng", "-lz", "-lm", "-o", out])
        return out

    # -- measuring --------------------------------------------------------
    def torch(self, *argv, threads=None, wall=False):
        """Runs torch_models.py; returns its JSON line and peak RSS (and,
        with wall, the process's wall seconds)."""
        cmd = TORCH + [str(a) for a in argv]
        if threads is not None:
            cmd += ["--threads", str(threads)]
        out, secs, rss = run_rss(cmd, TORCH_ENV)
        d = json.loads(out.strip().splitlines()[-1])
        return (d, rss, secs) if wall else (d, rss)

    def torch_threads(self, key, probe, better):
        """The faster of 1 and 2 PyTorch threads for one benchmark."""
        if key not in self.threads:
            a, b = probe(1), probe(2)
            self.threads[key] = 1 if better(a, b) else 2
        return self.threads[key]

    def nnc_train(self, exe, epochs=1):
        out, wall, rss = run_rss([exe, "train", "--epochs", str(epochs)])
        rates = [float(m) for m in re.findall(r"([\d.]+) ex/s", out)]
        accs = re.findall(r"test_accuracy ([\d.]+)", out)
        return 60000.0 / max(rates), float(accs[-1]) if accs else None, rss

    def add(self, name, nnc, torch, unit, higher):
        self.rows.append((name, nnc, torch, unit, higher))
        ratio = (nnc / torch) if higher else (torch / nnc)
        print(f"  {name:38s} nnc {nnc:12.4g}  torch {torch:12.4g} {unit:9s}"
              f" ratio {ratio:6.2f}x", flush=True)

    def median_pair(self, nnc_fn, torch_fn):
        ns, ts = [], []
        for _ in range(self.args.reps):
            ns.append(nnc_fn())
            ts.append(torch_fn())
        return statistics.median(ns), statistics.median(ts)

    def training(self, example, batch):
        name = f"{example}_b{batch}"
        exe = self.exe(self.variant(example, batch, name), name)
        probe = lambda t: self.torch("train", example, "--batch", batch,
                                     threads=t)[0]["epoch_s"]
        th = self.torch_threads(name, probe, lambda a, b: a <= b)
        rss = {}

        def n():
            s, _, r = self.nnc_train(exe)
            rss["nnc"] = max(rss.get("nnc", 0), r)
            return s

        def t():
            d, r = self.torch("train", example, "--batch", batch, threads=th)
            rss["torch"] = max(rss.get("torch", 0), r)
            return d["epoch_s"]

        ns, ts = self.median_pair(n, t)
        self.add(f"train {name} s/epoch (torch {th}T)", ns, ts, "s", False)
        return rss

    def xor(self):
        timer = self.timer(os.path.join(ROOT, "examples", "xor.nn"), "xor")
        n = lambda: 1.0 / float(run([timer, "train_step", "0.5"])[0])
        t = lambda: self.torch("steps", threads=1)[0]["steps_s"]
        ns, ts = self.median_pair(n, t)
        self.add("xor train steps/s", ns, ts, "steps/s", True)

    def inference(self, batch):
        name = f"mlp_infer_b{batch}"
        timer = self.timer(self.variant("mlp", batch, name), name)
        probe = lambda t: self.torch("infer", "mlp", "--batch", batch,
                                     threads=t)[0]["images_s"]
        th = self.torch_threads(name, probe, lambda a, b: a >= b)
        n = lambda: batch / float(run([timer, "predict", "0.5"])[0])
        t = lambda: self.torch("infer", "mlp", "--batch", batch,
                               threads=th)[0]["images_s"]
        ns, ts = self.median_pair(n, t)
        self.add(f"mlp inference b{batch} img/s (torch {th}T)", ns, ts,
                 "img/s", True)

    def gemm(self, threads):
        env = dict(os.environ, NNC_NUM_THREADS=str(threads))
        for label, m, k, n_, ta, tb in GEMMS:
            a = f"transpose(a)" if ta else "a"
            b = f"transpose(w)" if tb else "w"
            ad = f"[{k}, {m}]" if ta else f"[{m}, {k}]"
            wd = f"[{n_}, {k}]" if tb else f"[{k}, {n_}]"
            src = (f"model g {{\n  input a : f32{ad}\n"
                   f"  param w : f32{wd} = zeros\n  output y = {a} @ {b}\n}}\n")
            name = f"gemm_{m}_{k}_{n_}_{int(ta)}{int(tb)}"
            path = os.path.join(self.tmp, name + ".nn")
            open(path, "w").write(src)
            timer = self.timer(path, name)
            flops = 2.0 * m * n_ * k
            nf = lambda: flops / float(subprocess.run(
                [timer, "predict", "0.5"], env=env, capture_output=True,
                text=True, check=True).stdout) / 1e9
            tf = lambda: flops / self.torch(
                "gemm", "--shape", m, k, n_, *(["--trans-a"] if ta else []),
                *(["--trans-b"] if tb else []),
                threads=threads)[0]["seconds"] / 1e9
            ns, ts = self.median_pair(nf, tf)
            self.add(f"gemm {label} {threads}T", ns, ts, "GFLOP/s", True)

    def measure_peak(self):
        """One core's FP32 FMA peak (bench/peak.c), GFLOP/s."""
        out = os.path.join(self.tmp, "peak")
        run(["cc", "-O2", "-march=native",
             os.path.join(ROOT, "bench", "peak.c"), "-o", out])
        self.peak = float(run([out])[0])
        print(f"  {'FP32 FMA peak, one core':38s} {self.peak:.1f} GFLOP/s "
              f"(bench/peak.c; x{os.cpu_count()} CPUs = "
              f"{self.peak * os.cpu_count():.1f})", flush=True)

    def compile_time(self):
        out = os.path.join(self.tmp, "mlp_compile")
        mlp = os.path.join(ROOT, "examples", "mlp.nn")
        times = [run([self.nnc, mlp, "-o", out])[1] for _ in range(3)]
        print(f"  {'nnc examples/mlp.nn -o mlp':38s} {statistics.median(times):.3f} s",
              flush=True)
        return statistics.median(times)

    def accuracy(self, examples, seeds, logs=None):
        """Test accuracy after each example's train-block epochs, per seed
        and as the mean over seeds 1..seeds: one run's accuracy moves by
        about a point with the seed (init and data order), more than the
        difference being measured. Also the seconds per training epoch
        (the best epoch of the run; training steps only, like ex/s) of each
        side. The examples build unchanged (their own batch), and PyTorch
        runs their twins with 2 threads."""
        for example, epochs in examples:
            folder = ("bench/models" if example in dict(CONV_ACCURACY)
                      else "examples")
            nn = os.path.join(ROOT, folder, example + ".nn")
            exe = self.exe(nn, example + "_acc")
            batch = int(re.search(r"dim B = (\d+)", open(nn).read()).group(1))
            ns, ts, nsec, tsec = [], [], [], []
            for seed in range(1, seeds + 1):
                log = (os.path.join(logs, f"{example}-nnc-seed{seed}.csv")
                       if logs else None)
                out, _, _ = run_rss([exe, "train", "--epochs", str(epochs),
                                     "--seed", str(seed)]
                                    + (["--log", log] if log else []))
                ns.append(100 * float(
                    re.findall(r"test_accuracy ([\d.]+)", out)[-1]))
                nsec.append(self.nnc_epoch_seconds(out, batch))
                tlog = (os.path.join(logs, f"{example}-torch-seed{seed}.csv")
                        if logs else None)
                d = self.torch("train", example, "--epochs", epochs, "--seed",
                               seed, *(["--log", tlog] if tlog else []),
                               threads=2)[0]
                ts.append(100 * d["test_acc"])
                tsec.append(d["epoch_s"])
                print(f"  {example} seed {seed}: test accuracy nnc "
                      f"{ns[-1]:.2f}%  torch {ts[-1]:.2f}%;  s/epoch nnc "
                      f"{nsec[-1]:.1f}  torch {tsec[-1]:.1f}", flush=True)
            n, t = statistics.mean(ns), statistics.mean(ts)
            print(f"  {example} test accuracy after {epochs} epochs, mean of "
                  f"{seeds} seeds: nnc {n:.2f}%  torch {t:.2f}%  diff "
                  f"{n - t:+.2f} points  (nnc {' '.join(f'{v:.2f}' for v in ns)};"
                  f" torch {' '.join(f'{v:.2f}' for v in ts)});  s/epoch, "
                  f"median of the runs: nnc {statistics.median(nsec):.2f}  "
                  f"torch {statistics.median(tsec):.2f} (2T)", flush=True)

    @staticmethod
    def nnc_epoch_seconds(out, batch):
        """Seconds of the fastest training epoch of a `train` run's output:
        the examples of an epoch's full batches (the training rows are the
        data less a validation split) over ex/s."""
        rows = 60000
        held = re.search(r"validation: (\d+) of (\d+) examples", out)
        if held:
            rows = int(held.group(2)) - int(held.group(1))
        rates = [float(m) for m in re.findall(r"([\d.]+) ex/s", out)]
        return rows // batch * batch / max(rates)


def speed(b):
    """The speed benchmarks (the default run)."""
    args = b.args
    b.compile_time()
    rss = b.training("mlp", 64)
    print(f"  {'peak RSS mlp training (MiB)':38s} nnc {rss['nnc']:.0f}  "
          f"torch {rss['torch']:.0f}  ratio {rss['torch'] / rss['nnc']:.2f}x",
          flush=True)
    if not args.quick:
        b.training("mlp", 256)
        b.training("lenet", 64)
    b.training("logistic", 100)
    b.xor()
    b.inference(1)
    b.inference(256)
    for t in (1, 2):
        b.gemm(t)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"),
                   help="nnc build folder (default: build/)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--accuracy", action="store_true",
                   help="also train mlp and lenet (5 epochs) and resnet "
                        "(10 epochs) and compare test accuracy, per seed and "
                        "averaged over seeds (slow: resnet takes about 20 "
                        "minutes per seed)")
    p.add_argument("--seeds", type=int, default=4,
                   help="seeds averaged by --accuracy (default 4)")
    p.add_argument("--only", default=",".join(e for e, _ in ACCURACY),
                   help="the examples --accuracy trains (default: "
                        "%(default)s)")
    p.add_argument("--accuracy-only", action="store_true",
                   help="run the --accuracy comparison alone, without the "
                        "speed benchmarks")
    p.add_argument("--logs", metavar="DIR",
                   help="with --accuracy: keep each run's per-epoch CSV in "
                        "DIR (EXAMPLE-nnc-seedS.csv, EXAMPLE-torch-seedS.csv)")
    p.add_argument("--quick", action="store_true",
                   help="skip the LeNet and batch-256 training runs and the "
                        "conv family (unless --convs)")
    p.add_argument("--convs", action="store_true",
                   help="measure the conv family of bench/models/ (part of "
                        "the default run, not of --quick)")
    p.add_argument("--no-convs", action="store_true",
                   help="skip the conv family in a default run")
    p.add_argument("--convs-only", action="store_true",
                   help="measure the conv family alone")
    p.add_argument("--subset", type=int, default=6000,
                   help="training rows of the Fashion-MNIST subset that "
                        "--convs and --spread train on (default 6000; the "
                        "test set is its first 1000 rows)")
    p.add_argument("--spread", action="store_true",
                   help="LeNet one-epoch ex/s over --spread-runs processes "
                        "at 2 and at 1 thread: min, median, max")
    p.add_argument("--spread-only", action="store_true",
                   help="run the --spread figure alone")
    p.add_argument("--spread-loaded", action="store_true",
                   help="--spread also while another LeNet process trains "
                        "on every CPU")
    p.add_argument("--spread-runs", type=int, default=8,
                   help="processes per thread count for --spread "
                        "(default 8)")
    args = p.parse_args()
    only = args.only.split(",")
    runs = dict(ACCURACY + CONV_ACCURACY)
    unknown = sorted(set(only) - set(runs))
    if unknown:
        p.error(f"--only: no accuracy run for {', '.join(unknown)} (choose "
                f"from {', '.join(runs)})")
    if args.logs:
        os.makedirs(args.logs, exist_ok=True)
        args.logs = os.path.abspath(args.logs)
    b = Bench(args)
    print(f"nnc vs PyTorch {args.reps} repetitions, medians; "
          f"machine: {os.cpu_count()} CPUs ({cpu_model()}), load "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    alone = args.accuracy_only or args.convs_only or args.spread_only
    args.accuracy |= args.accuracy_only
    args.convs |= args.convs_only or not (alone or args.quick or args.no_convs)
    args.spread |= args.spread_only or args.spread_loaded
    try:
        b.measure_peak()
        if not alone:
            speed(b)
        if args.convs:
            convs.family(b)
        if args.spread:
            convs.spread(b)
        if args.accuracy:
            b.accuracy([(e, runs[e]) for e in only], args.seeds,
                       args.logs)
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
