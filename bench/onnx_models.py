#!/usr/bin/env python3
"""Models exported from PyTorch, imported by nnc: inference side by side.

The MLP, LeNet and the residual CNN with batchnorm of
test/onnx/Inputs/torch_models.py (the ones test/onnx/pytorch.test checks
for equal outputs) are exported with torch.onnx.export (opset 13) at batch
1 and 64. nnc compiles each .onnx (`--emit=obj`, linked with
bench/entry_timer.c: the `predict` entry called in a loop, without file
I/O); PyTorch runs the same module in eval mode under no_grad, at the
faster of 1 and 2 threads (probed once per model and batch), with
OpenBLAS's OpenMP build as bench/bench.py runs it. The two alternate, REPS
times; the table has the medians in images per second and nnc's ratio.

usage: python3 bench/onnx_models.py [--build DIR] [--reps N]
       (internal) python3 bench/onnx_models.py torch export DIR BATCH
       (internal) python3 bench/onnx_models.py torch infer NAME BATCH THREADS
"""
import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench import ROOT, TORCH_ENV, cpu_model  # noqa: E402
from procs import run  # noqa: E402

MODELS = ["mlp", "lenet", "resnet"]
BATCHES = [1, 64]
SELF = ["/usr/bin/python3", os.path.abspath(__file__)]


def exported_models():
    """test/onnx/Inputs/torch_models.py's models(): (name, module, shape)."""
    path = os.path.join(ROOT, "test", "onnx", "Inputs", "torch_models.py")
    spec = importlib.util.spec_from_file_location("onnx_torch_models", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.models()


def torch_side(argv):
    import torch
    what = argv[0]
    if what == "export":
        folder, batch = argv[1], int(argv[2])
        for name, m, shape in exported_models():
            m.eval()
            x = torch.randn(batch, *shape[1:])
            torch.onnx.export(m, x, f"{folder}/{name}_b{batch}.onnx",
                              opset_version=13, input_names=["input"],
                              output_names=["logits"])
        return
    name, batch, threads = argv[1], int(argv[2]), int(argv[3])
    torch.set_num_threads(threads)
    m, shape = {n: (m, s) for n, m, s in exported_models()}[name]
    m.eval()
    x = torch.randn(batch, *shape[1:])
    with torch.no_grad():
        for _ in range(20):
            m(x)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < 1.0:
            m(x)
            n += 1
        secs = (time.perf_counter() - start) / n
    print(json.dumps({"images_s": batch / secs}))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "torch":
        return torch_side(sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()
    nnc = os.path.join(args.build, "tools", "nnc", "nnc")
    runtime = os.path.join(args.build, "lib", "Runtime", "libnncRuntime.a")
    tmp = tempfile.mkdtemp(prefix="nnc-onnx-bench-")
    for batch in BATCHES:
        run(SELF + ["torch", "export", tmp, str(batch)], env=TORCH_ENV)

    def torch_rate(name, batch, threads):
        out, _ = run(SELF + ["torch", "infer", name, str(batch),
                             str(threads)], env=TORCH_ENV)
        return json.loads(out.strip().splitlines()[-1])["images_s"]

    print(f"{cpu_model()}, {os.cpu_count()} CPUs; {args.reps} alternating "
          f"runs, medians", flush=True)
    print(f"{'model':16} {'nnc img/s':>12} {'torch img/s':>12} "
          f"{'ratio':>7}", flush=True)
    for name in MODELS:
        for batch in BATCHES:
            stem = os.path.join(tmp, f"{name}_b{batch}")
            run([nnc, stem + ".onnx", "--emit=obj", "-o", stem + ".o"])
            run(["cc", "-O2", "-I", os.path.join(ROOT, "include"),
                 os.path.join(ROOT, "bench", "entry_timer.c"), stem + ".o",
                 runtime, "-lstdc++", "-lpng", "-lz", "-lm", "-o",
                 stem + ".timer"])
            threads = 1 if torch_rate(name, batch, 1) >= torch_rate(
                name, batch, 2) else 2
            ns, ts = [], []
            for _ in range(args.reps):
                out, _ = run([stem + ".timer", "predict", "0.5"])
                ns.append(batch / float(out))
                ts.append(torch_rate(name, batch, threads))
            n, t = statistics.median(ns), statistics.median(ts)
            print(f"{name + ' b' + str(batch):16} {n:12.0f} {t:12.0f} "
                  f"{n / t:6.2f}x  (torch {threads}T)", flush=True)


if __name__ == "__main__":
    main()
