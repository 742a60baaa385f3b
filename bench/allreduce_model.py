#!/usr/bin/env python3
"""allreduce_model.py - data-parallel scaling on paper (docs/distributed.md).

  python3 bench/allreduce_model.py [--step NAME=SECONDS ...] [--nodes 2,4,...]

For each model, from its bytes per step (every param and buffer, f32) and
its measured compute per step on one node, predicts the step time, the
speed-up over one node and the efficiency of N nodes that each keep the
model's batch (weak scaling: the global batch is N·B), with a ring
allreduce between steps:

  T_ring(N) = 2·(N−1)/N · bytes / bandwidth + 2·(N−1) · latency
  no overlap:  T(N) = T_compute + T_ring(N)                  (what nnc does)
  buckets:     T(N) = T_compute + T_ring − min(f · T_ring, g · T_compute)
  speed-up(N) = N · T_compute / T(N),  efficiency = speed-up / N

where "buckets" is DDP-style overlap by layer: a fraction f of the bytes
(the layers whose gradients the backward pass finishes first) can travel
during the last fraction g of the step's compute (the rest of the backward
pass); the remaining 1 − f only after the step (docs/distributed.md,
"Overlap", has f and g per model).

Links: 10 Gbit/s Ethernet (1.25 GB/s, 10 us per message over TCP) and
100 Gbit/s (12.5 GB/s, 2 us per message over RDMA).
"""
import argparse

# Floats averaged per step (params and buffers; DataParallelTest-style
# count of `EXE init --save`): mlp.nn, lenet.nn, resnet.nn.
FLOATS = {"mlp": 235146, "lenet": 61706, "resnet": 166618}
BATCH = {"mlp": 64, "lenet": 64, "resnet": 128}
# (f, g): the share of the bytes whose gradients are ready early, and the
# share of the step's multiply-adds still to run then. mlp: logits and h2
# (14.5 %) before dH1 and dW1 (46 %); lenet: logits, f4, f3 (95.9 %) before
# conv2's two gradients and conv1's weight gradient (49 %); resnet: logits,
# r2, s2 (79.9 %) before the backward of r1, s1 and the stem (33 %).
OVERLAP = {"mlp": (0.145, 0.46), "lenet": (0.959, 0.49),
           "resnet": (0.799, 0.33)}
LINKS = [("10 Gbit/s", 1.25e9, 10e-6), ("100 Gbit/s", 12.5e9, 2e-6)]


def ring(nodes, nbytes, bandwidth, latency):
    if nodes == 1:
        return 0.0
    return (2 * (nodes - 1) / nodes * nbytes / bandwidth +
            2 * (nodes - 1) * latency)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--step", action="append", default=[],
                   help="NAME=SECONDS: measured compute per step on one node")
    p.add_argument("--nodes", default="2,4,8,16,32,64")
    a = p.parse_args()
    steps = dict((k, float(v)) for k, v in (s.split("=") for s in a.step))
    nodes = [int(n) for n in a.nodes.split(",")]
    for name, floats in FLOATS.items():
        if name not in steps:
            continue
        t = steps[name]
        nbytes = 4 * floats
        print("%s: batch %d per node, %.2f MB per step, compute %.3f ms per "
              "step" % (name, BATCH[name], nbytes / 1e6, t * 1e3))
        f, g = OVERLAP[name]
        for link, bw, lat in LINKS:
            print("  %-10s %5s %9s %22s %22s" %
                  (link, "nodes", "ring ms", "no overlap: x (eff)",
                   "buckets: x (eff)"))
            for n in nodes:
                r = ring(n, nbytes, bw, lat)
                plain = n * t / (t + r)
                bucket = n * t / (t + r - min(f * r, g * t))
                print("  %-10s %5d %9.3f %14.1fx (%3.0f%%) %14.1fx (%3.0f%%)"
                      % ("", n, r * 1e3, plain, 100 * plain / n, bucket,
                         100 * bucket / n))

if __name__ == "__main__":
    main()
