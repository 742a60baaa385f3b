#!/usr/bin/env python3
"""dot_widths.py DOT-FILE - checks that `--values` does not widen a graph.

Every record `{name | op | type | value}` of an annotated DOT dump must have
its value row broken into lines no wider than the widest of its other rows
(or 24 characters, the shortest a value line may wrap to). Prints how many
records were checked, or the first one that is too wide, and exits 1 then.
"""
import re
import sys

MIN_WIDTH = 24


def fields(label):
    """The rows of a record label `{a | b | c}`, unescaped."""
    rows, row, i = [], "", 0
    body = label[1:-1]
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            if body[i + 1] == "n":
                row += "\n"
            else:
                row += body[i + 1]
            i += 2
            continue
        if body.startswith(" | ", i):
            rows.append(row)
            row, i = "", i + 3
            continue
        row += body[i]
        i += 1
    return rows + [row]


def main():
    checked = 0
    for line in open(sys.argv[1]):
        m = re.search(r'\[label="(\{.*\})", style=filled', line)
        if not m:
            continue
        rows = fields(m.group(1))
        if len(rows) != 4:
            print("record without a value row: " + line.strip())
            return 1
        width = max(MIN_WIDTH, *(len(r) for r in rows[:3]))
        if any(len(part) > width for part in rows[3].split("\n")):
            print("value wider than its record (%d): %s" % (width,
                                                            line.strip()))
            return 1
        checked += 1
    print("%d records, every value within its record's width" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
