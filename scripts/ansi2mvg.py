#!/usr/bin/env python3
"""Turns `tmux capture-pane -e -p` output (text with SGR colour codes) into an ImageMagick
MVG drawing: one background rectangle and one text run per stretch of equal attributes.
Standard library only. Usage: ansi2mvg.py CAPTURE COLS ROWS FONT BOLDFONT > screen.mvg"""

import re
import sys

CELL_W, CELL_H, POINT = 9, 18, 15
DEFAULT_FG, DEFAULT_BG = (0xD0, 0xD0, 0xD0), (0x1C, 0x1C, 0x1C)
BASE16 = [
    (0x1C, 0x1C, 0x1C), (0xCD, 0x31, 0x31), (0x0D, 0xBC, 0x79), (0xE5, 0xE5, 0x10),
    (0x24, 0x72, 0xC8), (0xBC, 0x3F, 0xBC), (0x11, 0xA8, 0xCD), (0xE5, 0xE5, 0xE5),
    (0x66, 0x66, 0x66), (0xF1, 0x4C, 0x4C), (0x23, 0xD1, 0x8B), (0xF5, 0xF5, 0x43),
    (0x3B, 0x8E, 0xEA), (0xD6, 0x70, 0xD6), (0x29, 0xB8, 0xDB), (0xFF, 0xFF, 0xFF),
]


def xterm256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return (v, v, v)


class Attr:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = self.bg = None
        self.bold = self.dim = self.reverse = False

    def key(self):
        return (self.fg, self.bg, self.bold, self.dim, self.reverse)

    def apply(self, params):
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 7:
                self.reverse = True
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = BASE16[c - 30]
            elif 90 <= c <= 97:
                self.fg = BASE16[c - 90 + 8]
            elif 40 <= c <= 47:
                self.bg = BASE16[c - 40]
            elif 100 <= c <= 107:
                self.bg = BASE16[c - 100 + 8]
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    colour = xterm256(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    colour = tuple(codes[i + 2:i + 5])
                    i += 4
                else:
                    colour = None
                if c == 38:
                    self.fg = colour
                else:
                    self.bg = colour
            i += 1


def colours(key):
    fg, bg, bold, dim, reverse = key
    fg, bg = fg or DEFAULT_FG, bg or DEFAULT_BG
    if reverse:
        fg, bg = bg, fg
    if dim:
        fg = tuple((a + b) // 2 for a, b in zip(fg, bg))
    return fg, bg


def hexc(c):
    return "#%02x%02x%02x" % c


def main():
    path, cols, rows, font, bold_font = sys.argv[1:6]
    cols, rows = int(cols), int(rows)
    text = open(path, encoding="utf-8", errors="replace").read()
    out = ["viewbox 0 0 %d %d" % (cols * CELL_W, rows * CELL_H)]
    out.append("fill %s rectangle 0,0 %d,%d" % (hexc(DEFAULT_BG), cols * CELL_W, rows * CELL_H))
    out.append("font-size %d" % POINT)
    attr = Attr()
    token = re.compile(r"\x1b\[([0-9;]*)([A-Za-z])|\x1b.|(.)", re.S)
    for y, line in enumerate(text.split("\n")[:rows]):
        cells = []  # (char, attr key) per column
        for m in token.finditer(line):
            if m.group(3) is not None:
                cells.append((m.group(3), attr.key()))
            elif m.group(2) == "m":
                attr.apply(m.group(1))
        # Runs of equal attributes; non-ASCII glyphs drawn on their own to keep the grid.
        x = 0
        while x < len(cells):
            ch, key = cells[x]
            end = x + 1
            if ch.isascii():
                while end < len(cells) and cells[end][1] == key and cells[end][0].isascii():
                    end += 1
            fg, bg = colours(key)
            if bg != DEFAULT_BG:
                out.append("fill %s rectangle %d,%d %d,%d" % (
                    hexc(bg), x * CELL_W, y * CELL_H, end * CELL_W - 1, (y + 1) * CELL_H - 1))
            run = "".join(c for c, _ in cells[x:end])
            if run.strip():
                escaped = run.replace("\\", "\\\\").replace("\"", "\\\"")
                out.append('font "%s"' % (bold_font if key[2] else font))
                out.append('fill %s text %d,%d "%s"' % (
                    hexc(fg), x * CELL_W, y * CELL_H + CELL_H - 5, escaped))
            x = end
    print("\n".join(out))


main()
