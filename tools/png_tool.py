#!/usr/bin/env python3
"""Small PNG helpers for the image-input examples (standard library only; 8-bit RGB or grey, non-interlaced).

    png_tool.py mask OUT.png W H x0 y0 x1 y1 [x0 y0 x1 y1 ...]   white (repaint) boxes on black, grey PNG
    png_tool.py grid OUT.png SCALE ROWS COLS IN.png ...           images side by side, upscaled SCALE x (nearest), 2 px gaps
"""
import struct
import sys
import zlib


def read(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    at, idat, w = 8, b"", None
    while at < len(data):
        n, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + n]
        if kind == b"IHDR":
            w, h, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (0, 2, 6), (path, depth, color)
            bands = {0: 1, 2: 3, 6: 4}[color]
        elif kind == b"IDAT":
            idat += body
        at += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * bands, [], bytearray(w * bands)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bands] if i >= bands else 0
            b, c = prev[i], prev[i - bands] if i >= bands else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bands:x * bands + 3]) if bands >= 3 else (line[x],) * 3 for x in range(w)])
        prev = line
    return rows


def write(path, rows, grey=False):
    h, w = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(v for px in row for v in ((px[0],) if grey else px)) for row in rows)
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0 if grey else 2, 0, 0, 0))
    open(path, "wb").write(png + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


if sys.argv[1] == "mask":
    out, w, h, boxes = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), [int(v) for v in sys.argv[5:]]
    rows = [[(0,)] * w for _ in range(h)]
    for k in range(0, len(boxes), 4):
        x0, y0, x1, y1 = boxes[k:k + 4]
        for y in range(y0, y1):
            for x in range(x0, x1):
                rows[y][x] = (255,)
    write(out, rows, grey=True)
elif sys.argv[1] == "grid":
    out, scale, nr, nc, files = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:]
    images = [read(f) for f in files]
    ih, iw, gap = len(images[0]) * scale, len(images[0][0]) * scale, 2
    canvas = [[(255, 255, 255)] * (nc * (iw + gap) - gap) for _ in range(nr * (ih + gap) - gap)]
    for k, img in enumerate(images):
        oy, ox = (k // nc) * (ih + gap), (k % nc) * (iw + gap)
        for y in range(ih):
            for x in range(iw):
                canvas[oy + y][ox + x] = img[y // scale][x // scale]
    write(out, canvas)
