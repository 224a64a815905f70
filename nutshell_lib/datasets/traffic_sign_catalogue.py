"""The traffic-sign classes: each sign is a stack of painted layers (colour, shape).

Signs are built from a few outer shapes (circle, triangle, inverted triangle, octagon, diamond,
square), a few colours and a few symbols (bar, arrow, exclamation mark, cross, slash, ...), so that
several classes share a shape and colour and differ only in their symbol: telling those apart needs
features, not a colour histogram.

Shapes take sign coordinates (u right, v up, outer radius about 1); see ``_sdf``.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ._sdf import box, circle, half_plane_right_of, intersection, regular_polygon, union

RGB = tuple[float, float, float]
RED: RGB = (0.80, 0.08, 0.10)
WHITE: RGB = (0.95, 0.95, 0.93)
BLUE: RGB = (0.08, 0.28, 0.72)
YELLOW: RGB = (0.98, 0.78, 0.08)
BLACK: RGB = (0.06, 0.06, 0.06)
GREY: RGB = (0.45, 0.45, 0.45)

# Triangles are drawn larger than circles so that they look the same size, and lower so that their
# centroid is near the middle of the sign.
TRIANGLE_RADIUS = 1.2
TRIANGLE_CENTRE = (0.0, -0.1)


class Layer(NamedTuple):
    colour: RGB
    shape: Callable[[np.ndarray, np.ndarray], np.ndarray]


class Sign(NamedTuple):
    name: str
    layers: tuple[Layer, ...]


def _up_arrow(u, v):
    shaft = box(u, v, 0.11, 0.33, centre=(0.0, -0.22))
    head = regular_polygon(u, v, 3, 0.38, -90, centre=(0.0, 0.25))
    return union(shaft, head)


def _right_arrow(u, v):
    # the up arrow turned a quarter turn clockwise
    return _up_arrow(-v, u)


def _exclamation_mark(u, v):
    return union(box(u, v, 0.08, 0.24, centre=(0.0, 0.12)), circle(u, v, 0.09, centre=(0.0, -0.28)))


def _cross(u, v):
    return union(box(u, v, 0.08, 0.32, centre=(0.0, -0.02)), box(u, v, 0.32, 0.08, centre=(0.0, -0.02)))


def _stop_lettering(u, v):
    # four white blocks in a row stand in for the letters S T O P
    letters = [box(u, v, 0.1, 0.2, centre=(x, 0.0)) for x in (-0.48, -0.16, 0.16, 0.48)]
    return np.minimum.reduce(letters)


def _parking_p(u, v):
    stem = box(u, v, 0.1, 0.55, centre=(-0.2, 0.0))
    bowl = intersection(np.abs(circle(u, v, 0.22, centre=(-0.02, 0.2))) - 0.1, half_plane_right_of(u, v, -0.2))
    return union(stem, bowl)


def _circle(radius):
    return lambda u, v: circle(u, v, radius)


def _triangle(radius, pointing_up=True):
    first_normal = -90 if pointing_up else 90
    return lambda u, v: regular_polygon(u, v, 3, radius, first_normal, centre=TRIANGLE_CENTRE if pointing_up else (0.0, 0.1))


def _octagon(radius):
    return lambda u, v: regular_polygon(u, v, 8, radius, 0)


def _diamond(radius):
    return lambda u, v: regular_polygon(u, v, 4, radius, 45)


def _square(radius):
    return lambda u, v: regular_polygon(u, v, 4, radius, 0)


def _slash(angle_deg, radius):
    return lambda u, v: intersection(box(u, v, 1.0, 0.11, angle_deg), circle(u, v, radius))


SIGNS: tuple[Sign, ...] = (
    Sign("stop", (Layer(WHITE, _octagon(1.05)), Layer(RED, _octagon(0.93)), Layer(WHITE, _stop_lettering))),
    Sign("no entry", (Layer(RED, _circle(1.0)), Layer(WHITE, lambda u, v: box(u, v, 0.62, 0.17)))),
    Sign("no vehicles", (Layer(RED, _circle(1.0)), Layer(WHITE, _circle(0.76)))),
    Sign("no parking", (Layer(RED, _circle(1.0)), Layer(BLUE, _circle(0.76)), Layer(RED, _slash(-45, 0.76)))),
    Sign("end of restrictions", (Layer(GREY, _circle(1.0)), Layer(WHITE, _circle(0.9)), Layer(BLACK, _slash(45, 0.9)))),
    Sign("ahead only", (Layer(BLUE, _circle(1.0)), Layer(WHITE, _up_arrow))),
    Sign("turn right", (Layer(BLUE, _circle(1.0)), Layer(WHITE, _right_arrow))),
    Sign("general caution", (Layer(RED, _triangle(TRIANGLE_RADIUS)), Layer(WHITE, _triangle(0.72 * TRIANGLE_RADIUS)),
                             Layer(BLACK, _exclamation_mark))),
    Sign("crossroads", (Layer(RED, _triangle(TRIANGLE_RADIUS)), Layer(WHITE, _triangle(0.72 * TRIANGLE_RADIUS)),
                        Layer(BLACK, _cross))),
    Sign("yield", (Layer(RED, _triangle(TRIANGLE_RADIUS, pointing_up=False)),
                   Layer(WHITE, _triangle(0.68 * TRIANGLE_RADIUS, pointing_up=False)))),
    Sign("priority road", (Layer(WHITE, _diamond(1.1)), Layer(YELLOW, _diamond(0.8)))),
    Sign("pedestrian crossing", (Layer(BLUE, _square(1.15)), Layer(WHITE, lambda u, v: regular_polygon(u, v, 3, 0.55, -90)))),
    Sign("parking", (Layer(BLUE, _square(1.15)), Layer(WHITE, _parking_p))),
)

TRAFFIC_SIGN_CLASSES: tuple[str, ...] = tuple(sign.name for sign in SIGNS)
