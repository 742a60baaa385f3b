#!/usr/bin/env python3
"""png.py - reads the PNG files of `EXE show --images` in plain Python (zlib,
no imaging library) and checks them against the weights they draw.

  png.py info FILE
      "W x H, 8-bit grey": the file is a valid PNG (signature, chunk CRCs,
      IHDR, IDAT inflated and unfiltered) of that size.
  png.py grid FILE TILE_W TILE_H
      "R rows of C, N tiles": the picture is a grid of TILE_W x TILE_H
      cells with 1-pixel gaps of grey 0; a cell that is not all 0 is a tile.
  png.py expect FILE WEIGHTS NAME UNITS TILE_H TILE_W ZOOM_X ZOOM_Y COLS [KEPT]
      recomputes every pixel from tensor NAME of the safetensors file
      WEIGHTS (docs/runtime.md, "`show --images`"): UNITS is `columns`
      (unit j is column j of [in, out]), `rows` (row i of [out, in]) or
      `kernel` (filter k on channel c of [K, C, ...], tile k*C + c); each
      tile normalised to 0..255, each weight a ZOOM_X x ZOOM_Y block, COLS
      tiles per grid row; with KEPT (`--units`), only the first KEPT units.
      Prints "ok: N tiles" or the first wrong pixel.
"""
import math
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

GAP = 0


def fail(msg):
    print("png.py: " + msg)
    sys.exit(1)


def read_png(path):
    """(width, height, rows) of an 8-bit greyscale PNG, rows as bytes."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s: not a PNG signature" % path)
    pos, idat, ihdr, seen_end = 8, b"", None, False
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(kind + body) != crc:
            fail("%s: bad CRC in chunk %r" % (path, kind))
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            seen_end = True
        pos += 12 + n
    if not ihdr or not seen_end:
        fail("%s: no IHDR or IEND chunk" % path)
    width, height, depth, colour, _, _, interlace = ihdr
    if depth != 8 or colour != 0 or interlace != 0:
        fail("%s: depth %d colour type %d interlace %d, expected 8-bit grey"
             % (path, depth, colour, interlace))
    raw = zlib.decompress(idat)
    if len(raw) != height * (width + 1):
        fail("%s: %d bytes of image data for %d x %d"
             % (path, len(raw), width, height))
    rows, prev = [], bytearray(width)
    for y in range(height):
        line = raw[y * (width + 1):(y + 1) * (width + 1)]
        ftype, cur = line[0], bytearray(line[1:])
        for x in range(width):
            a = cur[x - 1] if x > 0 else 0
            b = prev[x]
            c = prev[x - 1] if x > 0 else 0
            if ftype == 1:
                cur[x] = (cur[x] + a) & 255
            elif ftype == 2:
                cur[x] = (cur[x] + b) & 255
            elif ftype == 3:
                cur[x] = (cur[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                cur[x] = (cur[x] + pred) & 255
            elif ftype != 0:
                fail("%s: row %d has filter type %d" % (path, y, ftype))
        rows.append(bytes(cur))
        prev = cur
    return width, height, rows


def grid(path, tw, th):
    w, h, rows = read_png(path)
    if (w + 1) % (tw + 1) or (h + 1) % (th + 1):
        fail("%d x %d is not a grid of %d x %d cells with 1-pixel gaps"
             % (w, h, tw, th))
    cols, nrows = (w + 1) // (tw + 1), (h + 1) // (th + 1)
    for y in range(h):
        for x in range(w):
            if (x % (tw + 1) == tw or y % (th + 1) == th) and rows[y][x] != GAP:
                fail("gap pixel (%d, %d) is %d" % (x, y, rows[y][x]))
    tiles = 0
    for r in range(nrows):
        for c in range(cols):
            cell = [rows[r * (th + 1) + y][c * (tw + 1) + x]
                    for y in range(th) for x in range(tw)]
            tiles += any(v != GAP for v in cell)
    print("%d rows of %d, %d tiles" % (nrows, cols, tiles))


def expect(path, weights, name, units, th, tw, zx, zy, cols, kept=0):
    w, h, rows = read_png(path)
    tensors, _ = st.read(weights)
    if name not in tensors:
        fail("%s has no tensor %s" % (weights, name))
    _, shape, values = tensors[name]
    n = th * tw
    if units == "columns":
        count = shape[1]
        tile = lambda t: [values[p * shape[1] + t] for p in range(n)]
    elif units == "rows":
        count = shape[0]
        tile = lambda t: values[t * n:(t + 1) * n]
    else:
        count = shape[0] * shape[1]
        tile = lambda t: values[t * n:(t + 1) * n]
    if kept:
        per_unit = shape[1] if units == "kernel" else 1
        count = min(count, kept * per_unit)
    cw, ch = tw * zx, th * zy
    nrows = (count + cols - 1) // cols
    want_w, want_h = cols * cw + cols - 1, nrows * ch + nrows - 1
    if (w, h) != (want_w, want_h):
        fail("picture is %d x %d, expected %d x %d" % (w, h, want_w, want_h))
    expected = [[GAP] * w for _ in range(h)]
    for t in range(count):
        vals = tile(t)
        lo, hi = min(vals), max(vals)
        grey = [int(math.floor((v - lo) / (hi - lo) * 255 + 0.5)) if hi > lo
                else 128 for v in vals]
        x0, y0 = (t % cols) * (cw + 1), (t // cols) * (ch + 1)
        for y in range(ch):
            for x in range(cw):
                expected[y0 + y][x0 + x] = grey[(y // zy) * tw + x // zx]
    for y in range(h):
        for x in range(w):
            if rows[y][x] != expected[y][x]:
                fail("pixel (%d, %d) is %d, expected %d"
                     % (x, y, rows[y][x], expected[y][x]))
    print("ok: %d tiles" % count)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "info":
        w, h, _ = read_png(args[0])
        print("%d x %d, 8-bit grey" % (w, h))
    elif cmd == "grid":
        grid(args[0], int(args[1]), int(args[2]))
    elif cmd == "expect":
        expect(args[0], args[1], args[2], args[3], *map(int, args[4:]))
    else:
        fail("unknown command " + cmd)


if __name__ == "__main__":
    main()
