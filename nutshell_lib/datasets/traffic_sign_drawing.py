"""Procedurally drawn road signs: a small, offline image-classification set that needs a CNN.

Each image is a 32x32 RGB scene: a cluttered background (a blotchy colour field, random rectangles,
sometimes a post), one sign from ``TRAFFIC_SIGN_CLASSES`` rotated, scaled and shifted, sometimes
partly hidden behind an occluder, then uneven lighting and pixel noise. Shapes are drawn from signed
distances on a coordinate grid (see ``_sdf``), one NumPy pass per layer for all images of a class.
"""
from __future__ import annotations

import numpy as np

from ._checks import balanced_labels, non_negative, positive_int
from ._sdf import circle, coverage
from .traffic_sign_catalogue import SIGNS, TRAFFIC_SIGN_CLASSES

SIZE = 32
SIGN_RADIUS_PX = 10.5  # outer radius of a sign at scale 1
BACKGROUND_GRID = 5  # the background colour field is a 5x5 grid of random colours, smoothly upsampled
CLUTTER_RECTANGLES = 3

# Pixel centres, with y pointing up so that sign coordinates read like a maths plot.
_PIXEL_X = (np.arange(SIZE, dtype=np.float32) + 0.5 - SIZE / 2)[None, None, :]
_PIXEL_Y = (SIZE / 2 - np.arange(SIZE, dtype=np.float32) - 0.5)[None, :, None]


def class_names() -> tuple[str, ...]:
    """Readable names of the classes, indexed by label."""
    return TRAFFIC_SIGN_CLASSES


def traffic_signs(n: int, seed: int = 0, *, rotation: float = 10.0, scale: float = 0.15, shift: float = 0.15,
                  noise: float = 0.03, occlusion: float = 0.15, lighting: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` road-sign images, classes balanced and shuffled.

    Knobs (0 turns each one off):
      rotation:  largest rotation of a sign, in degrees (each sign gets uniform in [-rotation, rotation]).
                 Keep it below 45: "ahead only" turned by 90 degrees is "turn right".
      scale:     relative size jitter: sign radius is SIGN_RADIUS_PX * uniform(1 - scale, 1 + scale).
      shift:     largest offset of the sign centre, as a fraction of the image side, in x and in y.
      noise:     standard deviation of the pixel noise (uniform, independent per pixel and channel).
      occlusion: largest radius of the occluding blob, relative to the sign radius; the blob sits on the
                 sign's rim, so about occlusion/2 of the sign's width can be hidden.
      lighting:  strength in [0, 1] of the brightness, colour-cast, shading-gradient and haze changes.

    Returns:
      X: float32 array (n, 3, 32, 32), RGB in [0, 1], NCHW.
      y: int64 array (n,), labels in [0, len(TRAFFIC_SIGN_CLASSES)).
    """
    n = positive_int("n", n)
    rotation = non_negative("rotation", rotation, maximum=180.0)
    scale = non_negative("scale", scale, maximum=0.9)
    shift = non_negative("shift", shift, maximum=0.5)
    noise = non_negative("noise", noise)
    occlusion = non_negative("occlusion", occlusion)
    lighting = non_negative("lighting", lighting, maximum=1.0)

    rng = np.random.default_rng(seed)
    labels = balanced_labels(n, len(SIGNS), rng)
    # Every random number is drawn here, for all images at once and in a fixed order, so the
    # images depend only on the seed and the knobs, not on how the drawing below is grouped.
    scene = {
        "angle": np.deg2rad(rotation) * rng.uniform(-1, 1, n),
        "radius": SIGN_RADIUS_PX * rng.uniform(1 - scale, 1 + scale, n),
        "centre": shift * SIZE * rng.uniform(-1, 1, (n, 2)),
        "colour_jitter": 0.04 * rng.standard_normal((n, 3)),
        "background": rng.uniform(0.2, 0.8, (n, 3, BACKGROUND_GRID, BACKGROUND_GRID)),
        "rectangles": rng.uniform(0, SIZE, (n, CLUTTER_RECTANGLES, 4)),
        "rectangle_colours": rng.uniform(0.15, 0.85, (n, CLUTTER_RECTANGLES, 3)),
        "has_post": rng.random(n) < 0.5,
        "occluder_angle": rng.uniform(0, 2 * np.pi, n),
        "occluder_size": occlusion * rng.random(n),
        "occluder_colour": rng.uniform(0, 0.7, (n, 3)),
        "brightness": np.exp(lighting * rng.uniform(-0.8, 0.4, n)),
        "cast": np.exp(lighting * 0.3 * rng.standard_normal((n, 3))),
        "light_direction": rng.uniform(0, 2 * np.pi, n),
        "light_slope": lighting * rng.uniform(0, 0.6, n) / (SIZE / 2),
        "haze": lighting * rng.uniform(0, 0.5, n),
        "haze_colour": rng.uniform(0.5, 1.0, n),
        # Pixel noise as random bytes: Gaussian or float noise would take longer than all the drawing.
        "noise_bytes": rng.integers(0, 256, (n, 3, SIZE, SIZE), dtype=np.uint8),
    }
    scene = {key: value.astype(np.float32) if value.dtype == np.float64 else value for key, value in scene.items()}
    images = np.empty((n, 3, SIZE, SIZE), dtype=np.float32)
    for label, sign in enumerate(SIGNS):
        chosen = np.flatnonzero(labels == label)
        if chosen.size:
            part = {key: value[chosen] for key, value in scene.items()}
            images[chosen] = _draw_scenes(sign, part, noise)
    return images, labels


def _draw_scenes(sign, scene: dict, noise: float) -> np.ndarray:
    """Background, clutter, post, sign, occluder, lighting and noise for m images of one class.

    ``scene`` holds the random parameters of the m images; returns float32 (m, 3, 32, 32) in [0, 1].
    """
    images = _background(scene["background"])
    _paint_rectangles(images, scene["rectangles"], scene["rectangle_colours"])
    cx = scene["centre"][:, 0, None, None]
    cy = scene["centre"][:, 1, None, None]
    _paint_post(images, cx, cy, scene["has_post"])

    # sign coordinates of every pixel: undo the shift, the rotation and the scale
    radius = scene["radius"][:, None, None]
    cos = np.cos(scene["angle"])[:, None, None]
    sin = np.sin(scene["angle"])[:, None, None]
    dx, dy = _PIXEL_X - cx, _PIXEL_Y - cy
    u = (cos / radius) * dx + (sin / radius) * dy
    v = (cos / radius) * dy - (sin / radius) * dx
    jitter = scene["colour_jitter"]
    for layer in sign.layers:
        colour = np.clip(np.asarray(layer.colour, dtype=np.float32) + jitter, 0, 1)
        _paint(images, coverage(layer.shape(u, v), radius), colour)

    angle = scene["occluder_angle"][:, None, None]
    ox = cx / radius + np.cos(angle)
    oy = cy / radius + np.sin(angle)
    occluder = circle(_PIXEL_X / radius, _PIXEL_Y / radius, 0.0, (ox, oy)) - scene["occluder_size"][:, None, None]
    _paint(images, coverage(occluder, radius), scene["occluder_colour"])
    _light(images, scene)
    _add_uniform_noise(images, scene["noise_bytes"], noise)
    return np.clip(images, 0.0, 1.0, out=images)


def _background(grid: np.ndarray) -> np.ndarray:
    """Bilinearly upsample (m, 3, g, g) random colours to a smooth (m, 3, 32, 32) colour field."""
    m, _, g, _ = grid.shape
    positions = (np.arange(SIZE) + 0.5) * (g - 1) / SIZE
    weights = np.maximum(0.0, 1.0 - np.abs(positions[:, None] - np.arange(g)[None, :]))  # (32, g)
    # one matrix product for all images: upsampling rows and columns is the Kronecker product
    upsample = np.kron(weights, weights).astype(np.float32)  # (32 * 32, g * g)
    return (grid.reshape(m * 3, g * g) @ upsample.T).reshape(m, 3, SIZE, SIZE)


def _paint(images: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    """Blend ``colour`` (3,) or (m, 3) over ``images`` (m, 3, H, W) with ``alpha`` (m, H, W), in place."""
    colour = np.broadcast_to(colour, (images.shape[0], 3))
    for channel in range(3):
        plane = images[:, channel]
        plane += alpha * (colour[:, channel, None, None] - plane)


def _paint_rectangles(images: np.ndarray, corners: np.ndarray, colours: np.ndarray) -> None:
    """Axis-aligned rectangles between two random corners (x0, y0, x1, y1) in pixels."""
    columns = np.arange(SIZE)
    for k in range(corners.shape[1]):
        x0, y0, x1, y1 = (corners[:, k, i, None] for i in range(4))
        inside_x = (columns >= np.minimum(x0, x1)) & (columns <= np.maximum(x0, x1))
        inside_y = (columns >= np.minimum(y0, y1)) & (columns <= np.maximum(y0, y1))
        inside = inside_y[:, None, :, None] & inside_x[:, None, None, :]
        np.copyto(images, colours[:, k, :, None, None], where=inside)


def _paint_post(images: np.ndarray, cx: np.ndarray, cy: np.ndarray, has_post: np.ndarray) -> None:
    """A grey post, 3 pixels wide, from the sign's centre down to the bottom edge, where ``has_post``."""
    columns = np.abs(_PIXEL_X - cx) < 1.5  # (m, 1, 32)
    below_centre = _PIXEL_Y < cy  # (m, 32, 1)
    inside = (columns & below_centre) & has_post[:, None, None]
    np.copyto(images, np.array([0.5, 0.5, 0.52], dtype=np.float32)[:, None, None], where=inside[:, None])


def _add_uniform_noise(images: np.ndarray, noise_bytes: np.ndarray, std: float) -> None:
    """Add noise uniform over 256 levels with standard deviation ``std`` and mean 0, in place."""
    byte_std = np.sqrt((256**2 - 1) / 12)
    images += noise_bytes * np.float32(std / byte_std)
    images -= np.float32(std / byte_std * 127.5)


def _light(images: np.ndarray, scene: dict) -> None:
    """Uneven lighting, in place: brightness, colour cast, a linear shading gradient, then haze."""
    direction = scene["light_direction"][:, None, None]
    shading = 1 + scene["light_slope"][:, None, None] * (np.cos(direction) * _PIXEL_X + np.sin(direction) * _PIXEL_Y)
    haze = scene["haze"][:, None]
    gain = (scene["brightness"][:, None] * scene["cast"] * (1 - haze))[:, :, None, None]
    images *= gain * shading[:, None]
    images += (haze * scene["haze_colour"][:, None])[:, :, None, None]
