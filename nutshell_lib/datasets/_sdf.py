"""Signed distance functions for drawing shapes on coordinate grids.

Each function takes arrays ``u, v`` of the same shape (sign coordinates: u to the right, v up, the sign's
outer radius is about 1) and returns an array of that shape: negative inside the shape, positive outside,
roughly the distance to the edge. Drawing with distances instead of hard masks gives anti-aliased
edges for free (see ``coverage``), and unions/intersections are just elementwise min/max.
"""
from __future__ import annotations

import numpy as np

union = np.minimum
intersection = np.maximum


def coverage(distance: np.ndarray, pixels_per_unit: np.ndarray) -> np.ndarray:
    """Fraction of each pixel inside the shape: 1 deep inside, 0 outside, a one-pixel ramp at the edge.

    ``pixels_per_unit`` (broadcastable to ``distance``) converts sign units to pixels.
    """
    return np.clip(0.5 - distance * pixels_per_unit, 0.0, 1.0)


def circle(u, v, radius: float, centre: tuple[float, float] = (0.0, 0.0)):
    u = u - centre[0]
    v = v - centre[1]
    return np.sqrt(u * u + v * v) - radius


def regular_polygon(u, v, sides: int, radius: float, first_normal_deg: float, centre=(0.0, 0.0)):
    """Regular polygon with circumradius ``radius``, as the intersection of ``sides`` half-planes.

    ``first_normal_deg`` is the direction of one edge's outward normal (90 puts a flat edge on top).
    Outside, near the corners, the value underestimates the true distance, which only matters
    farther than a pixel from the edge, where coverage is 0 anyway.
    """
    u = u - centre[0]
    v = v - centre[1]
    apothem = radius * np.cos(np.pi / sides)
    distance = None
    for k in range(sides):
        angle = np.deg2rad(first_normal_deg) + 2 * np.pi * k / sides
        along_normal = u * np.float32(np.cos(angle)) + v * np.float32(np.sin(angle))
        distance = along_normal if distance is None else np.maximum(distance, along_normal)
    return distance - apothem


def box(u, v, half_width: float, half_height: float, angle_deg: float = 0.0, centre=(0.0, 0.0)):
    """Rectangle, rotated anticlockwise by ``angle_deg`` about its centre."""
    u = u - centre[0]
    v = v - centre[1]
    if angle_deg:
        c, s = np.float32(np.cos(np.deg2rad(angle_deg))), np.float32(np.sin(np.deg2rad(angle_deg)))
        u, v = c * u + s * v, c * v - s * u
    return np.maximum(np.abs(u) - half_width, np.abs(v) - half_height)


def half_plane_right_of(u, v, boundary: float):
    """The half-plane u >= boundary."""
    return boundary - u
