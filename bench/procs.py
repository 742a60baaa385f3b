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
    out, wall, usage = run_usage(cmd, env)
    return out, wall, usage.ru_maxrss / 1024.0


def run_usage(cmd, env=None):
    """Like run, but also returns the child's resource usage (CPU seconds
    in ru_utime and ru_stime, peak RSS in ru_maxrss)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, text=True)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{out}\n{err}")
    return out, wall, ru


def cpu_model():
    """The CPU's model name, as lscpu shows it, with its family and model
    numbers (a VM's name, "AMD EPYC", does not say the generation)."""
    info = {}
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = info.get("model name", "unknown CPU")
    if "cpu family" in info and "model" in info:
        name += f", family {info['cpu family']} model {info['model']}"
    return name
