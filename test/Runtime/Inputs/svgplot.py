#!/usr/bin/env python3
"""Reads a picture of `EXE plot` as XML and prints what it shows, for the
lit tests (test/Runtime/plot*.test). Plain Python (xml.etree, zlib), so the
tests need no image library.

  summary SVG          parse SVG (an XML syntax error fails the test) and
                       print its title, then per panel its y label, each
                       curve's lines and points and whether its value goes
                       up or down from the first point to the last, and
                       the legend; every point must lie inside its frame
  size SVG             "WIDTH,HEIGHT" of the picture
  screenshot SVG PNG   render SVG with headless Chromium at its size
  png PNG W H COLOUR.. decode PNG (any filter, RGB or RGBA, 8 bits), check
                       it is W x H, not blank, and shows every COLOUR (hex
                       RRGGBB, within a small distance) on at least 100
                       pixels; print what it found

Every check prints what it saw and exits 1 when it fails, so the FileCheck
patterns and the exit status both say what happened.
"""
import os
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

SVG = "{http://www.w3.org/2000/svg}"


def fail(msg):
    print("error: " + msg)
    sys.exit(1)


def load(path):
    root = ET.parse(path).getroot()
    if root.tag != SVG + "svg":
        fail("the root element is %s, not svg" % root.tag)
    return root


def size(root):
    return int(float(root.get("width"))), int(float(root.get("height")))


def points(poly):
    return [tuple(map(float, p.split(","))) for p in poly.get("points").split()]


def summary(path):
    root = load(path)
    w, h = size(root)
    print("svg %dx%d title '%s'" % (w, h, root.find(SVG + "title").text))
    bad = 0
    for panel in root.iter(SVG + "g"):
        if panel.get("class") != "panel":
            continue
        frame = panel.find(SVG + "rect")
        x0, y0 = float(frame.get("x")), float(frame.get("y"))
        x1 = x0 + float(frame.get("width"))
        y1 = y0 + float(frame.get("height"))
        ylabel = [t.text for t in panel.iter(SVG + "text")
                  if "rotate(-90)" in (t.get("transform") or "")]
        print("panel %s ylabel '%s'" % (panel.get("data-panel"), ylabel[0]))
        curves, ends = {}, {}
        for poly in panel.iter(SVG + "polyline"):
            name = poly.get("data-series")
            lines, n = curves.get(name, (0, 0))
            pts = points(poly)
            curves[name] = (lines + 1, n + len(pts))
            first = ends.get(name, (pts[0],))[0]
            ends[name] = (first, pts[-1])
            bad += sum(1 for x, y in pts
                       if not (x0 <= x <= x1 and y0 <= y <= y1))
        circles = {}
        for g in panel.iter(SVG + "g"):
            if g.get("class") == "points":
                circles[g.get("data-series")] = len(g.findall(SVG + "circle"))
        for name in list(curves) + [c for c in circles if c not in curves]:
            lines, n = curves.get(name, (0, 0))
            # Where the last point is against the first: the picture's y
            # grows downwards, so a falling loss goes "down" in pixels up.
            trend = ""
            if name in ends:
                dy = ends[name][1][1] - ends[name][0][1]
                trend = ", " + ("down" if dy > 0 else "up" if dy < 0
                                else "level")
            print("  curve %s: %d lines, %d points, %d circles%s"
                  % (name, lines, n, circles.get(name, 0), trend))
        legend = [g.find(SVG + "text").text for g in panel.iter(SVG + "g")
                  if g.get("class") == "legend"]
        print("  legend " + ", ".join(legend))
    print("points outside their frame: %d" % bad)
    return 1 if bad else 0


def screenshot(svg, png):
    w, h = size(load(svg))
    with tempfile.TemporaryDirectory() as profile:
        # A profile of its own, so that runs in parallel do not share one.
        cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
               "--hide-scrollbars", "--user-data-dir=" + profile,
               "--screenshot=" + os.path.abspath(png),
               "--window-size=%d,%d" % (w, h), os.path.abspath(svg)]
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
    if r.returncode != 0 or not os.path.exists(png):
        fail("chromium failed (%d): %s" % (r.returncode, r.stdout.decode()))
    print("screenshot %dx%d" % (w, h))
    return 0


def decode_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG" % path)
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail("unsupported PNG: depth %d colour type %d interlace %d"
             % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        rows.append(line)
        prev = line
    pixels = [tuple(r[x * bpp:x * bpp + 3]) for r in rows for x in range(w)]
    return w, h, pixels


def png(path, want_w, want_h, colours):
    w, h, pixels = decode_png(path)
    print("png %dx%d" % (w, h))
    status = 0
    if (w, h) != (int(want_w), int(want_h)):
        print("error: expected %sx%s" % (want_w, want_h))
        status = 1
    ink = sum(1 for p in pixels if p != (255, 255, 255))
    share = ink / len(pixels)
    print("not white: %s" % ("ok" if 0.01 < share < 0.5 else
                             "%.4f of the pixels" % share))
    if not 0.01 < share < 0.5:
        status = 1
    for hexc in colours:
        want = tuple(int(hexc[i:i + 2], 16) for i in (0, 2, 4))
        near = sum(1 for p in pixels
                   if sum(abs(p[k] - want[k]) for k in range(3)) <= 24)
        print("colour %s: %s" % (hexc, "ok" if near >= 100 else
                                 "%d pixels" % near))
        if near < 100:
            status = 1
    return status


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "summary":
        return summary(args[0])
    if cmd == "size":
        print("%d,%d" % size(load(args[0])))
        return 0
    if cmd == "screenshot":
        return screenshot(args[0], args[1])
    if cmd == "png":
        return png(args[0], args[1], args[2], args[3:])
    fail("unknown command " + cmd)


if __name__ == "__main__":
    sys.exit(main())
