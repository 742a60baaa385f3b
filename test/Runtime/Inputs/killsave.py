#!/usr/bin/env python3
"""killsave.py - kill -9 a training run again and again; prove that its
checkpoint is always a complete, valid one and that resuming is exact.

  killsave.py EXE DIR EPOCHS MIDSAVE_KILLS

1. References: the checkpoint after every epoch 1..EPOCHS, made by a chain
   of one-epoch runs (ref-E.st), and one uninterrupted run (full.st); the
   chain's last file must equal full.st.
2. Then, until MIDSAVE_KILLS kills have landed while a save was under way
   (a temporary file was left behind; at most 400 attempts): start
   `EXE train --epochs EPOCHS --save DIR/w.st [--load DIR/w.st]`, sleep a
   random time, SIGKILL it (a run that gets to the end starts the next
   one from scratch). After every kill, w.st (if there is one yet)
   must parse as a complete safetensors file (every byte accounted for),
   carry an epoch counter that never went backwards, and be byte-identical
   to ref-E.st for its epoch E: the previous or the new checkpoint, never a
   mix or a torn write.
3. Finally the same command runs to the end unkilled, and w.st must equal
   full.st: the interrupted-and-resumed run is bit-identical.
Prints a summary; exits 1 with a reason on the first violation.
"""
import glob
import json
import os
import random
import struct
import subprocess
import sys
import time


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check_complete(path):
    """Parses `path` strictly; returns its metadata. Fails on any defect."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        fail("%s: %d bytes, shorter than the header length" % (path, len(data)))
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        fail("%s: header length %d beyond the file" % (path, n))
    header = json.loads(data[8:8 + n])
    end = 0
    for name, e in header.items():
        if name == "__metadata__":
            continue
        count = 1
        for d in e["shape"]:
            count *= d
        a, b = e["data_offsets"]
        if b - a != 4 * count:
            fail("%s: tensor %s has %d bytes for %d values" % (path, name, b - a, count))
        end = max(end, b)
    if 8 + n + end != len(data):
        fail("%s: %d bytes, but the header accounts for %d" % (path, len(data), 8 + n + end))
    return header.get("__metadata__", {})


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def same(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def main():
    exe, out, epochs, want = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    ref = lambda e: os.path.join(out, "ref-%d.st" % e)
    run([exe, "train", "--epochs", "1", "--save", ref(1)])
    for e in range(2, epochs + 1):
        run([exe, "train", "--epochs", str(e), "--load", ref(e - 1), "--save", ref(e)])
    full = os.path.join(out, "full.st")
    run([exe, "train", "--epochs", str(epochs), "--save", full])
    if not same(full, ref(epochs)):
        fail("the chain of one-epoch runs differs from the uninterrupted run")

    # The kill times are drawn from late in the start-up to two epochs
    # after it: most runs get somewhere, and many kills fit before the
    # training is done.
    start = time.monotonic()
    run([exe, "train", "--epochs", "0", "--load", ref(1)])
    startup = time.monotonic() - start
    start = time.monotonic()
    run([exe, "train", "--epochs", str(epochs), "--save", os.path.join(out, "timing.st")])
    per_epoch = (time.monotonic() - start) / epochs

    w = os.path.join(out, "w.st")
    rng = random.Random(1)
    kills = midsave = 0
    last_epoch = 0
    seen = set()
    for attempt in range(400):
        if midsave >= want:
            break
        cmd = [exe, "train", "--epochs", str(epochs), "--save", w]
        if os.path.exists(w):
            cmd += ["--load", w]
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        time.sleep(rng.uniform(startup / 2, startup + 2 * per_epoch))
        p.kill()
        p.wait()
        kills += 1
        temps = glob.glob(w + ".tmp.*")
        if temps:
            midsave += 1
            for t in temps:
                os.unlink(t)
        if not os.path.exists(w):
            continue
        meta = check_complete(w)
        epoch = int(meta["epoch"])
        if epoch < last_epoch:
            fail("the checkpoint went back from epoch %d to %d" % (last_epoch, epoch))
        last_epoch = epoch
        if not same(w, ref(epoch)):
            fail("w.st after a kill differs from the checkpoint of epoch %d" % epoch)
        seen.add(epoch)
        if epoch == epochs:
            # The training finished before enough kills landed in a save
            # (on a slow or loaded machine saves take less of the time
            # than the start-up measured): train again from scratch.
            os.unlink(w)
            last_epoch = 0
    if midsave < want:
        fail("only %d of %d kills landed during a save in 400 attempts"
             % (midsave, kills))

    run([exe, "train", "--epochs", str(epochs), "--save", w] +
        (["--load", w] if os.path.exists(w) else []))
    if not same(w, full):
        fail("the resumed run's final checkpoint differs from the uninterrupted run")
    print("ok: %d kills, %d during a save, %d distinct checkpoints verified, "
          "final weights identical" % (kills, midsave, len(seen)))


if __name__ == "__main__":
    main()
