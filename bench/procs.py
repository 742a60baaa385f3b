"""Running the benchmark's processes: output, wall time, peak RSS."""
import os
import subprocess
import sys
import time


def run(cmd, env=None, cwd=None):
    """Runs `cmd`; returns (stdout, wall seconds)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, cwd=cwd, text=True)
    out, err = p.communicate()
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{out}\n{err}")
    return out, wall


def run_rss(cmd, env=None):
    """Like run, but also returns the child's peak RSS (MiB)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, text=True)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{out}\n{err}")
    return out, wall, ru.ru_maxrss / 1024.0
