"""Checks a --time-report: the stages' CPU seconds add up to the total's
(within rounding), every part is inside its stage's CPU time, and no time
is negative."""
import re
import sys

stages, parts, total = [], [], None
for line in open(sys.argv[1]):
    m = re.match(r"\s+([\d.]+)\s+([\d.]+)  (.*)", line)
    if m:
        wall, cpu, name = float(m[1]), float(m[2]), m[3]
        if name.startswith("total"):
            total = cpu
        else:
            stages.append((name, wall, cpu))
        continue
    m = re.match(r"\s+([\d.]+)  part \d+ of \d+", line)
    if m:
        parts.append(float(m[1]))
assert total is not None and stages and parts, "no report"
cpu_sum = sum(c for _, _, c in stages)
assert abs(cpu_sum - total) <= 0.001 * (len(stages) + 1), (cpu_sum, total)
llvm = [c for n, _, c in stages if n.startswith("LLVM")][0]
assert sum(parts) <= llvm + 0.001 * len(parts), (parts, llvm)
print("ok:", len(stages), "stages,", len(parts), "parts")
