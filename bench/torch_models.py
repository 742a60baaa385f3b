"""PyTorch twins of nnc's examples, for bench/bench.py.

Each function runs one measurement in this (fresh) process and prints one
JSON line, so the caller can read the process's peak RSS from wait4. The
models mirror examples/*.nn: same layers, initializers of the same family,
optimizer, learning rate and batch; the data is decoded once into float
tensors before timing starts (nnc converts uint8 images per batch, which
is included in its time).

A model may come with a recipe (RECIPES) that mirrors the rest of its train
block: batch, learning-rate schedule, augmentation and validation split,
implemented as docs/runtime.md defines them for nnc. The random draws
(initial weights, held-out rows, shuffles, crops, flips) are PyTorch's own,
so a run matches nnc's in distribution, not bit for bit.

The conv family of `bench.py --convs` (vgg, resnet_s2, wide: the twins of
bench/models/*.nn) is timed as whole processes, so `train --test-each-epoch`
evaluates the test set after every epoch as nnc's `train` does, and
`--data DIR` reads the Fashion-MNIST subset bench.py writes there (same
file names as /usr/share/datasets/fashion-mnist). `flops MODEL` counts the
multiply-adds of a training step per example (see count_flops).

usage: torch_models.py MODE MODEL [--batch B] [--epochs N] [--threads T]
                        [--seed S] [--log FILE.csv] [--data DIR]
                        [--test-each-epoch]
  MODE: train (seconds per epoch, test accuracy), steps (XOR steps/s),
        infer (images/s), gemm (seconds per product), flops (training
        flops per example)
  --log writes one row per epoch, with the columns of nnc's `train --log`
"""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def load_idx(kind, data=DATA):
    with gzip.open(f"{data}/{kind}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(f"{data}/{kind}-labels-idx1-ubyte.gz") as f:
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


class ConvBN(nn.Module):
    """conv_bn of examples/resnet.nn: a bias-free convolution (He normal,
    fan_in = C*R*S) and BatchNorm2d (gamma 1, beta 0, momentum 0.1,
    eps 1e-5)."""

    def __init__(self, c_in, c_out, k, stride, pad):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, pad, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.1)
        nn.init.kaiming_normal_(self.conv.weight)

    def forward(self, x):
        return self.bn(self.conv(x))


def he(layer):
    """A Conv2d or Linear with He normal weights (fan_in = C*R*S or n_in,
    nnc's he_normal) and a zero bias."""
    nn.init.kaiming_normal_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def conv_b(c_in, c_out, k, stride, pad):
    """conv of bench/models/resnet_s2.nn: a convolution with a bias."""
    return he(nn.Conv2d(c_in, c_out, k, stride, pad))


class Block(nn.Module):
    """block: two 3x3 conv_bn (or `conv`) and an identity skip."""

    def __init__(self, c, conv=ConvBN):
        super().__init__()
        self.c1, self.c2 = conv(c, c, 3, 1, 1), conv(c, c, 3, 1, 1)

    def forward(self, x):
        return F.relu(self.c2(F.relu(self.c1(x))) + x)


class Down(nn.Module):
    """down: the stride-2 stage, with a 1x1 stride-2 projection skip."""

    def __init__(self, c_in, c_out, conv=ConvBN):
        super().__init__()
        self.c1 = conv(c_in, c_out, 3, 2, 1)
        self.c2 = conv(c_out, c_out, 3, 1, 1)
        self.proj = conv(c_in, c_out, 1, 2, 0)

    def forward(self, x):
        return F.relu(self.c2(F.relu(self.c1(x))) + self.proj(x))


class ResNet(nn.Module):
    """examples/resnet.nn."""

    def __init__(self):
        super().__init__()
        self.stem = ConvBN(1, 16, 3, 1, 1)
        self.s1, self.r1 = Down(16, 32), Block(32)
        self.s2, self.r2 = Down(32, 64), Block(64)
        self.logits = nn.Linear(64, 10)
        nn.init.kaiming_normal_(self.logits.weight)
        nn.init.zeros_(self.logits.bias)

    def forward(self, x):
        x = F.relu(self.stem(x.view(-1, 1, 28, 28)))
        x = self.r1(self.s1(x))
        x = self.r2(self.s2(x))
        return self.logits(x.mean((2, 3)))


class VGG(nn.Module):
    """bench/models/vgg.nn: two stages of two 3x3 convolutions (padding 1,
    bias, relu) and a 2x2 max pool, then dense 3136 -> 10."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = conv_b(1, 32, 3, 1, 1), conv_b(32, 32, 3, 1, 1)
        self.c3, self.c4 = conv_b(32, 64, 3, 1, 1), conv_b(64, 64, 3, 1, 1)
        self.logits = he(nn.Linear(64 * 7 * 7, 10))

    def forward(self, x):
        x = x.view(-1, 1, 28, 28)
        x = F.max_pool2d(F.relu(self.c2(F.relu(self.c1(x)))), 2)
        x = F.max_pool2d(F.relu(self.c4(F.relu(self.c3(x)))), 2)
        return self.logits(torch.flatten(x, 1))


class ResNetS2(nn.Module):
    """bench/models/resnet_s2.nn: examples/resnet.nn's blocks with biases
    instead of batchnorm, one stride-2 stage (16 -> 32 channels)."""

    def __init__(self):
        super().__init__()
        self.stem = conv_b(1, 16, 3, 1, 1)
        self.r0 = Block(16, conv_b)
        self.s1, self.r1 = Down(16, 32, conv_b), Block(32, conv_b)
        self.logits = he(nn.Linear(32, 10))

    def forward(self, x):
        x = F.relu(self.stem(x.view(-1, 1, 28, 28)))
        x = self.r1(self.s1(self.r0(x)))
        return self.logits(x.mean((2, 3)))


class Wide(nn.Module):
    """bench/models/wide.nn: one 3x3 convolution 1 -> 64 (padding 1, bias,
    relu), a 2x2 max pool and dense 12544 -> 10."""

    def __init__(self):
        super().__init__()
        self.c1 = conv_b(1, 64, 3, 1, 1)
        self.logits = he(nn.Linear(64 * 14 * 14, 10))

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x.view(-1, 1, 28, 28))), 2)
        return self.logits(torch.flatten(x, 1))


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
    "resnet": (ResNet, lambda p: torch.optim.SGD(
        p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)),
    "vgg": (VGG, lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9)),
    "resnet_s2": (ResNetS2, lambda p: torch.optim.SGD(p, lr=0.02,
                                                       momentum=0.9)),
    "wide": (Wide, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
}

# The rest of a train block, where it has more than data and optimizer:
# batch (dim B), schedule = cosine(warmup = W) (epochs), augment =
# [random_crop(padding = P), hflip], validation = fraction held out.
RECIPES = {
    "resnet": {"batch": 128, "warmup": 1, "crop_padding": 2, "hflip": True,
               "validation": 0.1},
}


def cosine_factor(step, steps_per_epoch, epochs, warmup):
    """The learning-rate factor of `step` (0-based) under nnc's
    cosine(warmup): linear over the first warmup epochs' steps, then half a
    cosine down to 0 at the end of the run (lib/Runtime/Schedule.cpp)."""
    w, t = warmup * steps_per_epoch, epochs * steps_per_epoch
    if step < w:
        return (step + 1) / w
    if t <= w:
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * (step - w) / (t - w)))


def augment(x, padding, hflip, gen):
    """A batch of [B, 784] images, each zero-padded by `padding`, cropped back
    to 28x28 at a random offset (dy, dx in [0, 2P]), then mirrored with
    probability 1/2, as nnc's augment = [random_crop(padding), hflip]."""
    b = x.shape[0]
    ar = torch.arange(28)
    rows = ar.expand(b, 28)
    cols = ar.expand(b, 28)
    if hflip:
        flip = torch.randint(0, 2, (b, 1), generator=gen).bool()
        cols = torch.where(flip, 27 - cols, cols)
    img = x.view(b, 28, 28)
    if padding:
        img = F.pad(img, (padding, padding, padding, padding))
        rows = rows + torch.randint(0, 2 * padding + 1, (b, 1), generator=gen)
        cols = cols + torch.randint(0, 2 * padding + 1, (b, 1), generator=gen)
    out = img[torch.arange(b)[:, None, None], rows[:, :, None],
              cols[:, None, :]]
    return out.reshape(b, 784)


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def evaluate(model, x, y, batch=1000):
    """Mean loss and accuracy over every row, in eval mode."""
    model.eval()
    loss, right = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = model(x[i:i + batch])
            loss += float(F.cross_entropy(out, y[i:i + batch],
                                          reduction="sum"))
            right += int((out.argmax(1) == y[i:i + batch]).sum())
    model.train()
    return loss / len(x), right / len(x)


def train(args):
    torch.manual_seed(args.seed)
    xs, ys = load_idx("train", args.data)
    xt, yt = load_idx("t10k", args.data)
    make, opt_of = MODELS[args.model]
    recipe = RECIPES.get(args.model)
    if recipe is None:
        return train_plain(args, xs, ys, xt, yt, make(), opt_of)
    return train_recipe(args, recipe, xs, ys, xt, yt, make(), opt_of)


def train_plain(args, xs, ys, xt, yt, model, opt_of):
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
        if args.test_each_epoch:
            evaluate(model, xt, yt)
    print(json.dumps({"epoch_s": min(times), "test_acc": accuracy(model, xt, yt)}))


def train_recipe(args, recipe, xs, ys, xt, yt, model, opt_of):
    """Training as nnc runs a train block with schedule, augment and
    validation: round(f*N) rows held out (the same for the same seed);
    shuffled full batches (the last partial one dropped); the learning rate
    set before every step; loss and metrics averaged over the epoch's
    steps; validation and test sets evaluated over every row after each
    epoch. `epoch_s` times the training steps only, like nnc's ex/s."""
    gen = torch.Generator().manual_seed(args.seed)
    held = int(math.floor(recipe["validation"] * len(xs) + 0.5))
    perm = torch.randperm(len(xs), generator=gen)
    xv, yv = xs[perm[:held]], ys[perm[:held]]
    keep = perm[held:].sort().values
    xs, ys = xs[keep], ys[keep]
    opt = opt_of(model.parameters())
    base_lr = [g["lr"] for g in opt.param_groups]
    b = args.batch
    steps = len(xs) // b
    log = open(args.log, "w") if args.log else None
    if log:
        log.write("epoch,lr,loss,accuracy,val_loss,val_accuracy,test_loss,"
                  "test_accuracy,seconds\n")
    times, step = [], 0
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(xs), generator=gen)
        first_lr, loss_sum, right = None, 0.0, 0
        for i in range(steps):
            factor = cosine_factor(step, steps, args.epochs, recipe["warmup"])
            for g, lr in zip(opt.param_groups, base_lr):
                g["lr"] = lr * factor
            if first_lr is None:
                first_lr = opt.param_groups[0]["lr"]
            idx = order[i * b:(i + 1) * b]
            x = augment(xs[idx], recipe["crop_padding"], recipe["hflip"], gen)
            out = model(x)
            loss = F.cross_entropy(out, ys[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += float(loss)
            right += int((out.argmax(1) == ys[idx]).sum())
            step += 1
        times.append(time.perf_counter() - start)
        val = evaluate(model, xv, yv)
        test = evaluate(model, xt, yt)
        if log:
            log.write(",".join(f"{v:.9g}" for v in (
                epoch, first_lr, loss_sum / steps, right / (steps * b), *val,
                *test, time.perf_counter() - start)) + "\n")
            log.flush()
    print(json.dumps({"epoch_s": min(times), "test_acc": test[1],
                      "val_acc": val[1]}))


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


def count_flops(args):
    """The flops of one training step per example, counted with forward
    hooks on every Conv2d and Linear: a layer of M multiply-adds per example
    costs 2M forward, 2M for its weight gradient and 2M for its input
    gradient, except where its input needs no gradient (the model's input,
    or a view of it). Biases, activations, pools and the optimizer are not
    counted; they are a few percent at most for these models."""
    model = MODELS[args.model][0]().train()
    layers = []

    def hook(module, inputs, output):
        # Per example: each output element of a Conv2d is C/groups*R*S
        # multiply-adds, of a Linear n_in: the size of one filter or row.
        macs = output[0].numel() * module.weight[0].numel()
        grad_in = inputs[0].requires_grad
        layers.append({"layer": names[module], "macs": macs,
                       "input_grad": grad_in,
                       "flops": 2 * macs * (3 if grad_in else 2)})

    names = {m: n for n, m in model.named_modules()}
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(hook)
    model(torch.rand(1, 784))
    print(json.dumps({"model": args.model,
                      "flops": sum(l["flops"] for l in layers),
                      "layers": layers}))


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
    p.add_argument("mode",
                   choices=["train", "steps", "infer", "gemm", "flops"])
    p.add_argument("model", nargs="?", default="mlp")
    p.add_argument("--batch", type=int, default=None,
                   help="default: the model's batch (64, resnet 128)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--log", help="train: per-epoch CSV (recipe models)")
    p.add_argument("--data", default=DATA,
                   help="train: the folder of the Fashion-MNIST IDX files "
                        "(default: %(default)s)")
    p.add_argument("--test-each-epoch", action="store_true",
                   help="train: evaluate the test set after every epoch, as "
                        "nnc's train does (whole-process timings)")
    p.add_argument("--shape", type=int, nargs=3)
    p.add_argument("--trans-a", action="store_true")
    p.add_argument("--trans-b", action="store_true")
    args = p.parse_args()
    if args.batch is None:
        args.batch = RECIPES.get(args.model, {}).get("batch", 64)
    torch.set_num_threads(args.threads)
    {"train": train, "steps": xor_steps, "infer": infer, "gemm": gemm,
     "flops": count_flops}[args.mode](args)


if __name__ == "__main__":
    main()
