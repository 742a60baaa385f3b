"""PyTorch twins of nnc's examples, for bench/bench.py.

Each function runs one measurement in this (fresh) process and prints one
JSON line, so the caller can read the process's peak RSS from wait4. The
models mirror examples/*.nn: same layers, initializers of the same family,
optimizer, learning rate and batch; the data is decoded once into float
tensors before timing starts (nnc converts uint8 images per batch, which
is included in its time).

usage: torch_models.py MODE MODEL [--batch B] [--epochs N] [--threads T]
                        [--seed S]
  MODE: train (seconds per epoch, test accuracy), steps (XOR steps/s),
        infer (images/s), gemm (seconds per product)
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def load_idx(kind):
    with gzip.open(f"{DATA}/{kind}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(f"{DATA}/{kind}-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return (torch.from_numpy(x.astype(np.float32) / 255.0),
            torch.from_numpy(y.astype(np.int64)))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.h1, self.h2, self.out = (nn.Linear(784, 256), nn.Linear(256, 128),
                                      nn.Linear(128, 10))
        for l in (self.h1, self.h2, self.out):
            nn.init.xavier_uniform_(l.weight)
            nn.init.zeros_(l.bias)

    def forward(self, x):
        return self.out(F.relu(self.h2(F.relu(self.h1(x)))))


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f3, self.f4, self.out = (nn.Linear(400, 120), nn.Linear(120, 84),
                                      nn.Linear(84, 10))
        for l in (self.c1, self.c2, self.f3, self.f4, self.out):
            nn.init.kaiming_normal_(l.weight)
            nn.init.zeros_(l.bias)

    def forward(self, x):
        x = x.view(-1, 1, 28, 28)
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = torch.flatten(x, 1)
        return self.out(F.relu(self.f4(F.relu(self.f3(x)))))


class Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.l = nn.Linear(784, 10)
        nn.init.zeros_(self.l.weight)
        nn.init.zeros_(self.l.bias)

    def forward(self, x):
        return self.l(x)


# model -> (constructor, optimizer factory); mirrors the train blocks.
MODELS = {
    "mlp": (MLP, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "lenet": (LeNet, lambda p: torch.optim.Adam(p, lr=0.001)),
    "logistic": (Logistic, lambda p: torch.optim.SGD(p, lr=0.1)),
}


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def train(args):
    torch.manual_seed(args.seed)
    xs, ys = load_idx("train")
    xt, yt = load_idx("t10k")
    make, opt_of = MODELS[args.model]
    model = make()
    opt = opt_of(model.parameters())
    b = args.batch
    times = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        perm = torch.randperm(len(xs))
        for i in range(0, len(xs) - b + 1, b):
            idx = perm[i:i + b]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    print(json.dumps({"epoch_s": min(times), "test_acc": accuracy(model, xt, yt)}))


def xor_steps(args):
    torch.manual_seed(1)
    x = torch.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
    t = torch.tensor([[0.], [1.], [1.], [0.]])
    w1 = (torch.rand(2, 2) * 2 - 1).requires_grad_()
    b1 = torch.zeros(2, requires_grad=True)
    w2 = (torch.rand(2, 1) * 2 - 1).requires_grad_()
    b2 = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w1, b1, w2, b2], lr=0.5)

    def step():
        opt.zero_grad(set_to_none=True)
        y = torch.sigmoid(torch.sigmoid(x @ w1 + b1) @ w2 + b2)
        loss = torch.mean(0.5 * (y - t) ** 2)
        loss.backward()
        opt.step()

    for _ in range(200):
        step()
    n = 5000
    start = time.perf_counter()
    for _ in range(n):
        step()
    print(json.dumps({"steps_s": n / (time.perf_counter() - start)}))


def infer(args):
    model = MODELS[args.model][0]().eval()
    x = torch.rand(args.batch, 784)
    with torch.no_grad():
        for _ in range(20):
            F.softmax(model(x), 1)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < 1.0:
            F.softmax(model(x), 1)
            n += 1
        secs = (time.perf_counter() - start) / n
    print(json.dumps({"images_s": args.batch / secs}))


def gemm(args):
    m, k, n = args.shape
    a = torch.rand(k, m).t() if args.trans_a else torch.rand(m, k)
    b = torch.rand(n, k).t() if args.trans_b else torch.rand(k, n)
    for _ in range(20):
        torch.mm(a, b)
    rounds = []
    for _ in range(5):
        reps, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.1:
            torch.mm(a, b)
            reps += 1
        rounds.append((time.perf_counter() - start) / reps)
    print(json.dumps({"seconds": sorted(rounds)[2]}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "steps", "infer", "gemm"])
    p.add_argument("model", nargs="?", default="mlp")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--shape", type=int, nargs=3)
    p.add_argument("--trans-a", action="store_true")
    p.add_argument("--trans-b", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    {"train": train, "steps": xor_steps, "infer": infer, "gemm": gemm}[args.mode](args)


if __name__ == "__main__":
    main()
