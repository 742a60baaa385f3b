#!/usr/bin/env python3
"""blocks.py - runs the command blocks of docs/study.md and refreshes or
checks their pasted output (docs/study/regenerate.sh calls it; so does
test/Docs/study.test).

A block the script runs is a ```console fence right under a marker line

    <!-- run: NAME -->          or          <!-- run: NAME quick -->

Inside it, a line starting with "$ " is a command, and the lines up to the
next command are its output (stdout and stderr, as a terminal shows them).
Every command runs with bash in one scratch folder, in document order, with
$nnc (the compiler) and $repo (the checkout) set, as the page tells a reader
to set them. A command that fails stops the run.

  blocks.py write [--quick] DOC WORKDIR
                                     run every block (--quick: the quick
                                     ones); rewrite DOC with the fresh
                                     outputs
  blocks.py check [--quick] DOC WORKDIR
                                     run every block (--quick: the quick
                                     ones); print a diff and exit 1 where
                                     DOC's output differs from the tool's
                                     (but for the timings that end a
                                     training line: N ex/s  T s),
                                     and where a committed SVG picture that a
                                     block draws has other text than the
                                     fresh one

Pictures: a block's command writes them into WORKDIR under the name the page
shows as docs/study/NAME (`![...](study/NAME)` or `src="study/NAME"`); `write`
copies each into docs/study/ (next to DOC), and fails if no block drew one
(with --quick, copies those the quick blocks drew).
Needs the environment variables NNC (the nnc binary) and REPO (the
checkout's top).
"""
import difflib
import os
import re
import shutil
import subprocess
import sys

MARKER = re.compile(r"^<!-- run: ([A-Za-z0-9_.-]+)( quick)? -->$")
PICTURE = re.compile(r"(?:\]\(|src=\")study/([A-Za-z0-9_.-]+\.(?:svg|png))")
SVG_TEXT = re.compile(r"<text[^>]*>([^<]*)</text>")
# The end of a training line, `41774 ex/s  1.5 s`: a timing, not a result.
TIMING = re.compile(r"\b[0-9]+ ex/s +[0-9.]+ s$")


class Block:
    def __init__(self, name, quick, begin, end, lines):
        self.name, self.quick = name, quick
        self.begin, self.end = begin, end  # doc lines [begin, end): the body
        self.lines = lines

    def commands(self):
        return [l[2:] for l in self.lines if l.startswith("$ ")]


def plural(n, noun):
    return "%d %s%s" % (n, noun, "" if n == 1 else "s")


def fail(msg):
    sys.stderr.write("blocks.py: " + msg + "\n")
    sys.exit(2)


def parse(doc_lines):
    blocks, i = [], 0
    while i < len(doc_lines):
        m = MARKER.match(doc_lines[i])
        if not m:
            i += 1
            continue
        if i + 1 >= len(doc_lines) or doc_lines[i + 1] != "```console":
            fail("line %d: '%s' is not followed by a ```console fence"
                 % (i + 1, doc_lines[i]))
        begin = end = i + 2
        while end < len(doc_lines) and doc_lines[end] != "```":
            end += 1
        if end == len(doc_lines):
            fail("line %d: block '%s' has no closing fence" % (i + 1, m[1]))
        block = Block(m[1], bool(m[2]), begin, end, doc_lines[begin:end])
        if not block.lines or not block.lines[0].startswith("$ "):
            fail("line %d: block '%s' does not start with a '$ ' command"
                 % (i + 1, m[1]))
        if any(b.name == block.name for b in blocks):
            fail("line %d: a second block named '%s'" % (i + 1, m[1]))
        blocks.append(block)
        i = end + 1
    return blocks


def run(block, workdir, env):
    """The block's lines with each command's fresh output under it."""
    out = []
    for cmd in block.commands():
        p = subprocess.run(["bash", "-c", "set -o pipefail; " + cmd],
                           cwd=workdir, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        text = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            fail("block '%s': '%s' failed with exit status %d:\n%s"
                 % (block.name, cmd, p.returncode, text))
        out.append("$ " + cmd)
        out.extend(text.splitlines())
    return out


def untimed(lines):
    return [TIMING.sub("N ex/s  T s", l) for l in lines]


def svg_texts(path):
    with open(path, encoding="utf-8") as f:
        return [t.strip() for t in SVG_TEXT.findall(f.read())]


def main(argv):
    if len(argv) < 3 or argv[0] not in ("write", "check"):
        fail("usage: blocks.py write|check [--quick] DOC WORKDIR")
    mode, args = argv[0], argv[1:]
    quick = "--quick" in args
    args = [a for a in args if a != "--quick"]
    doc, workdir = args
    env = dict(os.environ)
    env["nnc"], env["repo"] = env["NNC"], env["REPO"]
    env["TERM"] = "dumb"
    with open(doc, encoding="utf-8") as f:
        doc_lines = f.read().split("\n")
    blocks = [b for b in parse(doc_lines) if b.quick or not quick]
    if not blocks:
        fail("%s: no block to run" % doc)
    pictures = set(PICTURE.findall("\n".join(doc_lines)))
    stale, commands = 0, 0
    fresh = {}
    for b in blocks:
        fresh[b.name] = run(b, workdir, env)
        commands += len(b.commands())
        if mode == "check":
            if untimed(fresh[b.name]) == untimed(b.lines):
                print("ok: %s (%s)" % (b.name, plural(len(b.commands()),
                                                      "command")))
                continue
            stale += 1
            print("STALE: %s" % b.name)
            sys.stdout.writelines(difflib.unified_diff(
                [l + "\n" for l in b.lines],
                [l + "\n" for l in fresh[b.name]],
                "%s (block %s)" % (doc, b.name), "the tool's output"))
    if mode == "write":
        for b in reversed(blocks):
            doc_lines[b.begin:b.end] = fresh[b.name]
        with open(doc, "w", encoding="utf-8") as f:
            f.write("\n".join(doc_lines))
        print("wrote %s: %s, %s" % (doc, plural(len(blocks), "block"),
                                     plural(commands, "command")))
        for name in sorted(pictures):
            made = os.path.join(workdir, name)
            if not os.path.exists(made):
                if quick:
                    continue
                fail("%s shows study/%s, but no block draws it" % (doc, name))
            shutil.copyfile(made, os.path.join(os.path.dirname(doc), "study",
                                               name))
            print("wrote docs/study/%s: %d bytes"
                  % (name, os.path.getsize(made)))
        return 0
    drawn = 0
    for name in sorted(pictures):
        made = os.path.join(workdir, name)
        if not name.endswith(".svg") or not os.path.exists(made):
            continue
        committed = os.path.join(os.path.dirname(doc), "study", name)
        drawn += 1
        if not os.path.exists(committed):
            stale += 1
            print("STALE: picture %s is not in docs/study/" % name)
        elif svg_texts(committed) != svg_texts(made):
            stale += 1
            print("STALE: picture %s: its text differs from the fresh one's"
                  % name)
            sys.stdout.writelines(difflib.unified_diff(
                [t + "\n" for t in svg_texts(committed)],
                [t + "\n" for t in svg_texts(made)], committed, name))
        else:
            print("ok: picture %s" % name)
    print("checked %s (%s) and %s: %s"
          % (plural(len(blocks), "block"), plural(commands, "command"),
             plural(drawn, "picture"),
             "%d stale" % stale if stale else "all match"))
    if stale:
        print("to refresh the page: BUILD=BUILD_TREE bash "
              "docs/study/regenerate.sh%s" % (" --quick" if quick else ""))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
