#!/usr/bin/python3
"""PyTorch models exported to ONNX, and their reference outputs.

    torch_models.py export DIR     writes DIR/{mlp,lenet,resnet}.onnx, the
                                   inputs DIR/NAME-x.st and PyTorch's
                                   outputs DIR/NAME-ref.st (safetensors)
    torch_models.py compare Y REF  exit 1 unless the `logits` of the two
                                   files agree within rtol 1e-4, atol 1e-5

Needs Debian's python3-torch (and NumPy); test/onnx/pytorch.test runs it.
"""
import json
import struct
import sys

import numpy as np


def write(path, tensors):
    header, blob = {}, b""
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + blob)


def read(path):
    with open(path, "rb") as f:
        d = f.read()
    (n,) = struct.unpack("<Q", d[:8])
    h = json.loads(d[8:8 + n])
    return {k: np.frombuffer(d[8 + n + v["data_offsets"][0]:
                               8 + n + v["data_offsets"][1]],
                             np.float32).reshape(v["shape"])
            for k, v in h.items() if k != "__metadata__"}


def models():
    import torch
    import torch.nn as nn

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(1, 6, 5, padding=2)
            self.c2 = nn.Conv2d(6, 16, 5)
            self.f1 = nn.Linear(400, 120)
            self.f2 = nn.Linear(120, 84)
            self.f3 = nn.Linear(84, 10)

        def forward(self, x):
            x = torch.max_pool2d(torch.relu(self.c1(x)), 2)
            x = torch.max_pool2d(torch.relu(self.c2(x)), 2)
            x = torch.flatten(x, 1)
            return self.f3(torch.relu(self.f2(torch.relu(self.f1(x)))))

    class Residual(nn.Module):
        """3x3 convolutions with batchnorm, a skip addition, a stride-2
        stage, global average pooling."""
        def __init__(self):
            super().__init__()
            self.c1, self.b1 = nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8)
            self.c2, self.b2 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
            self.c3 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
            self.b3 = nn.BatchNorm2d(16)
            self.fc = nn.Linear(16, 10)

        def forward(self, x):
            h = torch.relu(self.b1(self.c1(x)))
            h = torch.relu(h + self.b2(self.c2(h)))
            h = torch.relu(self.b3(self.c3(h)))
            return self.fc(h.mean(dim=(2, 3)))

    torch.manual_seed(0)
    res = Residual()
    # Running statistics other than the initial 0 and 1, so eval mode's
    # normalization is visible.
    for m in res.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
    mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                        nn.ReLU(), nn.Linear(128, 10))
    return [("mlp", mlp, (4, 784)), ("lenet", LeNet(), (4, 1, 28, 28)),
            ("resnet", res, (4, 1, 28, 28))]


def main():
    if sys.argv[1] == "export":
        import torch
        out = sys.argv[2]
        for name, m, shape in models():
            m.eval()
            x = torch.randn(*shape)
            torch.onnx.export(m, x, f"{out}/{name}.onnx", opset_version=13,
                              input_names=["input"], output_names=["logits"])
            write(f"{out}/{name}-x.st", {"input": x.numpy()})
            write(f"{out}/{name}-ref.st", {"logits": m(x).detach().numpy()})
        return 0
    got, want = read(sys.argv[2])["logits"], read(sys.argv[3])["logits"]
    ok = got.shape == want.shape and np.allclose(got, want, rtol=1e-4,
                                                 atol=1e-5)
    print(f"{'same' if ok else 'DIFFERENT'} logits {list(got.shape)}, max abs "
          f"difference {np.abs(got - want).max():.2g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
