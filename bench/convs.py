"""The conv family and the thread spread of bench/bench.py (issue 13).

--convs (part of the default run, not of --quick) measures the conv family
of bench/models/ (vgg, resnet_s2, wide; docs/performance.md) against their
PyTorch twins, PyTorch at the faster of 1 or 2 threads and nnc on every
CPU. Both sides train on a subset of Fashion-MNIST that this script writes
into its temp folder as gzip IDX files: the first --subset rows (default
6000) of the training set and the first 1000 of the test set (nnc: the
`idx(...)` paths of a temp copy of the model are rewritten, as `dim B` is
for the batch variants; PyTorch: `--data DIR`). Per model:
  - train s/epoch: (T(3 epochs) - T(1 epoch)) / 2, T a whole process's
    wall time (start-up, data loading and the test pass after each epoch
    included on both sides, so the difference is two epochs with their
    test passes), median over --reps;
  - inference img/s at batch 1 and 64 (nnc: bench/entry_timer.c `predict`;
    PyTorch: torch_models.py `infer`);
  - train GFLOP/s: the flops of a training step per example
    (torch_models.py `flops`: 2 per multiply-add of every Conv2d and
    Linear, forward, weight gradient and input gradient, the first layer's
    input gradient excepted) times the rows of an epoch's full batches,
    over s/epoch; and % of peak: that over (one core's peak x threads),
    nnc's threads being os.cpu_count().
`--convs-only` runs the family alone.

--spread trains LeNet (on the same subset) for one epoch in --spread-runs
whole processes (default 8) with NNC_NUM_THREADS=2 and =1, alternating,
and prints the min / median / max ex/s of each: two threads are sometimes
slower than one on a shared VM (issue 13), and this keeps it visible.
`--spread-only` runs it alone; `--spread-loaded` repeats it while another
LeNet process trains on both CPUs (a machine with more runnable threads
than cores, where the pool's governor must keep 2 threads from being
slower than 1).
"""
import gzip
import os
import re
import statistics
import subprocess
import sys

from procs import run

CONVS = ["vgg", "resnet_s2", "wide"]
FASHION = "/usr/share/datasets/fashion-mnist"
TEST_ROWS = 1000  # of the subset's test set


def subset(b):
    """The folder of the subset (--subset training rows, TEST_ROWS test
    rows), as gzip IDX files under Fashion-MNIST's names; written once."""
    if b.data:
        return b.data
    b.data = os.path.join(b.tmp, "data")
    os.makedirs(b.data)
    for kind, rows in (("train", b.args.subset), ("t10k", TEST_ROWS)):
        for part, header, size in (("images-idx3", 16, 784),
                                   ("labels-idx1", 8, 1)):
            name = f"{kind}-{part}-ubyte.gz"
            with gzip.open(os.path.join(FASHION, name)) as f:
                head = bytearray(f.read(header))
                body = f.read(rows * size)
            if int.from_bytes(head[4:8], "big") < rows:
                sys.exit(f"bench: {name} has fewer than {rows} rows")
            head[4:8] = rows.to_bytes(4, "big")
            with gzip.open(os.path.join(b.data, name), "wb",
                           compresslevel=6) as f:
                f.write(bytes(head) + body)
    return b.data

def training(b, model):
    """Seconds per training epoch of a conv model on the subset, as
    (T(3 epochs) - T(1 epoch)) / 2 over whole processes; then achieved
    GFLOP/s and % of peak from the model's flops per example."""
    data = subset(b)
    name = f"{model}_sub"
    exe = b.exe(b.variant(model, 64, name, "bench/models", data),
                   name)
    targs = ["train", model, "--data", data, "--test-each-epoch"]
    probe = lambda t: b.torch(*targs, threads=t)[0]["epoch_s"]
    th = b.torch_threads(name, probe, lambda a, b: a <= b)

    def n():
        t1 = run([exe, "train", "--epochs", "1"])[1]
        t3 = run([exe, "train", "--epochs", "3"])[1]
        return (t3 - t1) / 2

    def t():
        t1 = b.torch(*targs, "--epochs", 1, threads=th, wall=True)[2]
        t3 = b.torch(*targs, "--epochs", 3, threads=th, wall=True)[2]
        return (t3 - t1) / 2

    ns, ts = b.median_pair(n, t)
    b.add(f"{model} train s/epoch (torch {th}T)", ns, ts, "s", False)
    flops = b.torch("flops", model)[0]["flops"]
    rows = b.args.subset // 64 * 64  # full batches
    ng, tg = flops * rows / ns / 1e9, flops * rows / ts / 1e9
    b.add(f"{model} train GFLOP/s (torch {th}T)", ng, tg, "GFLOP/s",
             True)
    b.add(f"{model} train % of peak (torch {th}T)",
             100 * ng / (b.peak * os.cpu_count()),
             100 * tg / (b.peak * th), "%", True)

def inference(b, model, batch):
    """Images per second of a conv model's predict at one batch."""
    name = f"{model}_infer_b{batch}"
    timer = b.timer(b.variant(model, batch, name, "bench/models"),
                       name)
    targs = ["infer", model, "--batch", batch]
    probe = lambda t: b.torch(*targs, threads=t)[0]["images_s"]
    th = b.torch_threads(name, probe, lambda a, b: a >= b)
    n = lambda: batch / float(run([timer, "predict", "0.5"])[0])
    t = lambda: b.torch(*targs, threads=th)[0]["images_s"]
    ns, ts = b.median_pair(n, t)
    b.add(f"{model} infer b{batch} img/s (torch {th}T)", ns, ts,
             "img/s", True)

def family(b):
    print(f"  conv family: bench/models/*.nn, {b.args.subset} "
          f"training and {TEST_ROWS} test rows; nnc on "
          f"{os.cpu_count()} threads", flush=True)
    for model in CONVS:
        training(b, model)
        for batch in (1, 64):
            inference(b, model, batch)

def spread(b):
    """LeNet ex/s over --spread-runs one-epoch processes at 2 and 1
    threads, alternating (issue 13: 2 threads are sometimes slower); with
    --spread-loaded, the same again while another LeNet trains on both
    CPUs."""
    exe = b.exe(b.variant("lenet", 64, "lenet_sub",
                                data=subset(b)), "lenet_sub")
    spread_rates(b, exe, "")
    if not b.args.spread_loaded:
        return
    load = subprocess.Popen([exe, "train", "--epochs", "100000"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env=dict(os.environ, NNC_NUM_THREADS="2"))
    try:
        spread_rates(b, exe, ", loaded")
    finally:
        load.kill()
        load.wait()


def spread_rates(b, exe, label):
    rates = {2: [], 1: []}
    for _ in range(b.args.spread_runs):
        for t in rates:
            env = dict(os.environ, NNC_NUM_THREADS=str(t))
            out = run([exe, "train", "--epochs", "1"], env=env)[0]
            rates[t].append(
                max(float(m) for m in re.findall(r"([\d.]+) ex/s", out)))
    for t, r in rates.items():
        print(f"  {f'lenet train ex/s, NNC_NUM_THREADS={t}{label}':38s} min "
              f"{min(r):8.0f}  median {statistics.median(r):8.0f}  max "
              f"{max(r):8.0f}  ({len(r)} runs of 1 epoch, "
              f"{b.args.subset} rows)", flush=True)
    slow = sum(r < statistics.median(rates[1]) for r in rates[2])
    print(f"  {'':38s} {slow} of {len(rates[2])} 2-thread runs below "
          f"the 1-thread median", flush=True)
