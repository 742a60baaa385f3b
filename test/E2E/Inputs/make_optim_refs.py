#!/usr/bin/env python3
"""PyTorch's reference for the optimizer test (test/E2E/optim-pytorch.test).

Trains one small net (3 inputs, 4 tanh units, 2 linear outputs, mean squared
error) with every optimizer configuration below, in full batches of the same
6 examples without shuffling, for STEPS steps from the same initial weights,
and writes into Inputs/optim/:

  models.nn             one model and train block per configuration (the
                        train block's `optimizer` and `clip_norm` lines are
                        the CONFIGS entries, verbatim)
  data.csv              the 6 examples: x0 x1 x2 t0 t1, as exact f32 values
  w0.safetensors        the initial weights W1 b1 W2 b2
  NAME.safetensors      per configuration, PyTorch's params and optimizer
                        state after STEPS steps, under the names an nnc
                        checkpoint uses (W1, ..., state.m.W1, state.adam.t)

The weights and data are drawn from a fixed seed, so re-running rewrites
the same files. It needs PyTorch (1.13 made the committed files; CI has no
PyTorch and only reads them):

  /usr/bin/python3 test/E2E/Inputs/make_optim_refs.py

Before writing, it checks that the test can tell the configurations apart:
every option that the test pins (momentum vs. nesterov, adam's L2 decay vs.
adamw's decoupled decay, defaults vs. explicit values, clipping before vs.
after weight decay) moves some final weight by far more than the test's
tolerance, and clip_norm both scales and spares some steps.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402  (the safetensors helper next to this script)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "optim")
STEPS = 8
N = 6
TOLERANCE = 1e-4  # the test's relative tolerance; a difference must be 100x

# name -> (the train block's optimizer, clip_norm or None, PyTorch's
# optimizer factory)
O = torch.optim
CONFIGS = {
    "sgd": ("sgd(lr = 0.1)", None, lambda p: O.SGD(p, lr=0.1)),
    "sgd_momentum": (
        "sgd(lr = 0.1, momentum = 0.9, weight_decay = 0.01)", None,
        lambda p: O.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    "sgd_nesterov": (
        "sgd(lr = 0.1, momentum = 0.9, weight_decay = 0.01, nesterov = true)",
        None,
        lambda p: O.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01,
                        nesterov=True)),
    "adam": ("adam(lr = 0.05)", None, lambda p: O.Adam(p, lr=0.05)),
    "adam_wd": (
        "adam(lr = 0.05, beta1 = 0.8, beta2 = 0.99, eps = 1e-6, "
        "weight_decay = 0.1)", None,
        lambda p: O.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6,
                         weight_decay=0.1)),
    "adamw": ("adamw(lr = 0.05)", None, lambda p: O.AdamW(p, lr=0.05)),
    "adamw_wd": (
        "adamw(lr = 0.05, beta1 = 0.8, beta2 = 0.99, eps = 1e-6, "
        "weight_decay = 0.1)", None,
        lambda p: O.AdamW(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6,
                          weight_decay=0.1)),
    "adagrad": ("adagrad(lr = 0.1)", None, lambda p: O.Adagrad(p, lr=0.1)),
    "adagrad_eps": ("adagrad(lr = 0.1, eps = 0.5)", None,
                    lambda p: O.Adagrad(p, lr=0.1, eps=0.5)),
    "rmsprop": ("rmsprop(lr = 0.01)", None, lambda p: O.RMSprop(p, lr=0.01)),
    "rmsprop_momentum": (
        "rmsprop(lr = 0.01, alpha = 0.9, eps = 1e-3, momentum = 0.5)", None,
        lambda p: O.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-3, momentum=0.5)),
    "sgd_clip": (
        "sgd(lr = 0.1, momentum = 0.9, weight_decay = 0.01)", 0.5,
        lambda p: O.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    "adam_wd_clip": (
        "adam(lr = 0.05, beta1 = 0.8, beta2 = 0.99, eps = 1e-6, "
        "weight_decay = 0.1)", 0.5,
        lambda p: O.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6,
                         weight_decay=0.1)),
}

# Pairs whose final weights must differ: each pins one option.
MUST_DIFFER = [
    ("sgd", "sgd_momentum"),           # momentum and weight decay act
    ("sgd_momentum", "sgd_nesterov"),  # nesterov's look-ahead
    ("adam", "adam_wd"),               # adam's L2 decay and explicit betas
    ("adam", "adamw"),                 # adamw's default decay of 0.01
    ("adam_wd", "adamw_wd"),           # decoupled vs. L2 decay
    ("adagrad", "adagrad_eps"),        # adagrad's eps
    ("rmsprop", "rmsprop_momentum"),   # rmsprop's alpha, eps and momentum
    ("sgd_momentum", "sgd_clip"),      # clipping acts on sgd
    ("adam_wd", "adam_wd_clip"),       # clipping acts on adam
]

PARAMS = [("W1", [3, 4]), ("b1", [4]), ("W2", [4, 2]), ("b2", [2])]


def f32(values):
    """The float32 values of a tensor, as Python floats, row-major."""
    return [float(v) for v in values.detach().reshape(-1).tolist()]


def initial():
    g = torch.Generator().manual_seed(12)
    weights = {n: torch.rand(s, generator=g) * 2 - 1 for n, s in PARAMS}
    x = torch.rand([N, 3], generator=g) * 4 - 2
    t = torch.rand([N, 2], generator=g) * 2 - 1
    return weights, x, t


def loss_of(w, x, t):
    h = torch.tanh(x @ w["W1"] + w["b1"])
    y = h @ w["W2"] + w["b2"]
    return ((y - t) ** 2).mean()


def state_names(opt, w):
    """The optimizer's state under nnc's checkpoint names."""
    out = []
    step = None
    for n, _ in PARAMS:
        s = opt.state[w[n]]
        for key, nnc in (("momentum_buffer", "v"), ("exp_avg", "m"),
                         ("exp_avg_sq", "v"), ("sum", "sum"),
                         ("square_avg", "sq")):
            if key == "momentum_buffer" and isinstance(opt, O.RMSprop):
                nnc = "buf"
            if key in s and s[key] is not None:
                out.append(("state.%s.%s" % (nnc, n), s[key]))
        if "step" in s and isinstance(opt, (O.Adam, O.AdamW)):
            step = s["step"]
    if step is not None:  # one step count shared by all params in nnc
        out.insert(0, ("state.adam.t", step.reshape([])))
    return out


def train(name, clip_after_decay=False):
    """Final params and state, and per step whether clipping scaled."""
    _, clip, make = CONFIGS[name]
    w0, x, t = initial()
    w = {n: v.clone().requires_grad_(True) for n, v in w0.items()}
    opt = make([w[n] for n, _ in PARAMS])
    clipped = []
    wd = opt.param_groups[0]["weight_decay"]
    if clip_after_decay:  # the wrong order, to show that it differs
        opt.param_groups[0]["weight_decay"] = 0
    for _ in range(STEPS):
        opt.zero_grad()
        loss_of(w, x, t).backward()
        if clip is not None:
            if clip_after_decay:
                for n, _ in PARAMS:
                    w[n].grad.add_(w[n].detach(), alpha=wd)
            norm = torch.nn.utils.clip_grad_norm_(
                [w[n] for n, _ in PARAMS], clip)
            clipped.append(float(norm) > clip)
        opt.step()
    tensors = [(n, w[n]) for n, _ in PARAMS] + state_names(opt, w)
    return tensors, clipped


def max_rel_diff(a, b):
    worst = 0.0
    for (na, va), (nb, vb) in zip(a, b):
        assert na == nb
        for x, y in zip(f32(va), f32(vb)):
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-30))
    return worst


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    results = {}
    for name in CONFIGS:
        results[name], clipped = train(name)
        if clipped:
            print("%s: clipped at steps %s" % (
                name, [i + 1 for i, c in enumerate(clipped) if c]))
            assert any(clipped) and not all(clipped), \
                name + ": clip_norm must scale some steps and spare others"
    for a, b in MUST_DIFFER:
        d = max_rel_diff(results[a][:4], results[b][:4])
        print("%s vs %s: max relative difference %.3g" % (a, b, d))
        assert d > 100 * TOLERANCE, "%s and %s are too close" % (a, b)
    wrong, _ = train("adam_wd_clip", clip_after_decay=True)
    d = max_rel_diff(results["adam_wd_clip"][:4], wrong[:4])
    print("clip before vs. after weight decay: %.3g" % d)
    assert d > 100 * TOLERANCE, "the order of clipping and decay is not seen"

    w0, x, t = initial()
    st.write(os.path.join(OUT, "w0.safetensors"),
             [(n, "F32", s, f32(w0[n])) for n, s in PARAMS])
    with open(os.path.join(OUT, "data.csv"), "w") as f:
        for row in torch.cat([x, t], dim=1):
            f.write(",".join("%.9g" % v for v in f32(row)) + "\n")
    for name, tensors in results.items():
        st.write(os.path.join(OUT, name + ".safetensors"),
                 [(n, "F32", list(v.shape), f32(v)) for n, v in tensors])
    with open(os.path.join(OUT, "models.nn"), "w") as f:
        f.write("# Generated by ../make_optim_refs.py (do not edit): the same"
                " net, data and\n# initial weights (w0.safetensors) under"
                " every optimizer configuration.\n")
        for name, (optimizer, clip, _) in CONFIGS.items():
            f.write(MODEL.format(name=name, steps=STEPS, optimizer=optimizer,
                                 N=N))
            if clip is not None:
                f.write("  clip_norm = %g\n" % clip)
            f.write("}\n")


MODEL = """
model {name} {{
  dim B = {N}
  input  x : f32[B, 3]
  target t : f32[B, 2]
  param W1 : f32[3, 4] = zeros
  param b1 : f32[4] = zeros
  param W2 : f32[4, 2] = zeros
  param b2 : f32[2] = zeros
  loss mse = mse(tanh(x @ W1 + b1) @ W2 + b2, t)
}}
train {name} {{
  data      = csv("data.csv", inputs = [0, 1, 2], target = [3, 4])
  optimizer = {optimizer}
  epochs    = {steps}
  shuffle   = false
"""

if __name__ == "__main__":
    main()
