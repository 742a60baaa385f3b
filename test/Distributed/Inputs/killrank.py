#!/usr/bin/env python3
"""killrank.py - kill one rank of a training job and watch the job end.

  killrank.py RANK CHECKPOINT -- MPIRUN ARGS...

Starts MPIRUN ARGS (an `mpirun ... EXE train --save CHECKPOINT` job), waits
until CHECKPOINT exists (rank 0 finished an epoch), sends SIGKILL to the
rank RANK of this job (found by its OMPI_COMM_WORLD_RANK among mpirun's
descendants), and waits for mpirun. Prints "job exit status N" (nonzero
expected), then the job's stderr. Exits 1 if the job did not end within
60 s of the kill or no rank RANK was found.
"""
import os
import signal
import subprocess
import sys
import time


def children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        for kid in children(todo.pop()):
            out.append(kid)
            todo.append(kid)
    return out


def rank_of(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return None
    for var in env:
        if var.startswith(b"OMPI_COMM_WORLD_RANK="):
            return int(var.split(b"=")[1])
    return None


def main():
    rank, checkpoint = int(sys.argv[1]), sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    job = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not os.path.exists(checkpoint) and job.poll() is None:
        if time.time() > deadline:
            job.kill()
            sys.exit("no checkpoint after 120 s")
        time.sleep(0.05)
    victims = [p for p in descendants(job.pid) if rank_of(p) == rank]
    if not victims:
        job.kill()
        sys.exit("rank %d not found (the job ended first?)" % rank)
    for p in victims:
        os.kill(p, signal.SIGKILL)
    try:
        _, err = job.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        job.kill()
        sys.exit("the job still runs 60 s after rank %d was killed" % rank)
    print("job exit status %d" % job.returncode)
    sys.stdout.write(err)


if __name__ == "__main__":
    main()
