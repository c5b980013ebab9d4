#!/usr/bin/python3
"""plot_check.py - checks an SVG drawn by weft_plot (tests/test_plot.c).

  plot_check.py SVG TITLE Y.npy [X.npy]

The SVG must parse as XML and hold TITLE in its text; the data line (the
polylines stroked #1F77B4, joined) must have one vertex per point, and its
vertices must be an affine image of the data: X = a + b * x[i] and
Y = c + d * y[i] (x[i] = i without X.npy), with b > 0, d > 0 (y up, in
PLplot's flipped frame) and every vertex within 0.1 of the fit (the file's
coordinates have two decimals). Prints what is wrong and exits 1.
"""
import sys
import xml.etree.ElementTree as ET

import numpy as np


def fail(msg):
    print(f"plot_check: {sys.argv[1]}: {msg}")
    sys.exit(1)


def main(svg, title, ypath, xpath=None):
    try:
        root = ET.parse(svg).getroot()
    except ET.ParseError as e:
        fail(f"not XML: {e}")
    text = "".join(root.itertext())
    if title not in text:
        fail(f"title {title!r} not in the text {text[:200]!r}")
    pts = []
    for el in root.iter():
        if el.tag.endswith("polyline") and el.get("stroke", "").upper() == "#1F77B4":
            for p in el.get("points").split():
                v = tuple(float(c) for c in p.split(","))
                if not pts or pts[-1] != v:
                    pts.append(v)
    y = np.load(ypath)
    x = np.load(xpath) if xpath else np.arange(len(y), dtype=float)
    if len(pts) != len(y):
        fail(f"{len(pts)} vertices on the data line, {len(y)} points")
    P = np.array(pts)
    for data, col, name in ((x, 0, "x"), (y, 1, "y")):
        A = np.vstack([np.ones_like(data), data]).T
        if np.ptp(data) == 0:
            if np.ptp(P[:, col]) > 0.1:
                fail(f"constant {name} drawn at varying coordinates")
            continue
        coef, *_ = np.linalg.lstsq(A, P[:, col], rcond=None)
        res = np.abs(A @ coef - P[:, col]).max()
        if coef[1] <= 0 or res > 0.1:
            fail(f"{name}: vertices are not an increasing affine image of the "
                 f"data (scale {coef[1]:.4g}, worst residual {res:.3g})")
    print(f"plot_check: {svg}: {len(pts)} vertices fit the data")


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    main(*sys.argv[1:])
