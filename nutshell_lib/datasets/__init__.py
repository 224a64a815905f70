"""Small, offline, seeded datasets for the course.

Toy 2-d sets (``blobs``, ``moons``, ``circles``, ``xor``, ``spirals``) return ``X (n, 2), y (n,)``.
"""
from .toy2d import blobs, circles, moons, spirals, xor

__all__ = ["blobs", "moons", "circles", "xor", "spirals"]
