"""GoogLeNet's inception module (Szegedy et al. 2014): four parallel branches whose outputs are
stacked on the channel axis, so the next layer sees 1x1, 3x3 and 5x5 features and pooled features
side by side."""
from __future__ import annotations

import numpy as np

from .activations import ReLU
from .composite import Composite
from .conv import Conv2D
from .init import check_positive_int, make_rng
from .pool import MaxPool2D
from .sequential import Sequential


class Inception(Composite):
    """Inception(in_channels, n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj).

    Branches (each convolution followed by a ReLU, as in GoogLeNet), in output order:

    - ``branch1``: 1x1 conv to n1x1 channels;
    - ``branch3``: 1x1 conv to n3x3_reduce, then 3x3 conv (padding 1) to n3x3;
    - ``branch5``: 1x1 conv to n5x5_reduce, then 5x5 conv (padding 2) to n5x5;
    - ``branch_pool``: 3x3 max-pool (stride 1, padding 1), then 1x1 conv to pool_proj.

    Input (N, in_channels, H, W); output (N, n1x1 + n3x3 + n5x5 + pool_proj, H, W). Arrays are
    named like "branch3.2.W" (branch3's second conv). ``rng`` seeds all the convolutions.
    """

    def __init__(self, in_channels, n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj, *,
                 rng=None, dtype=np.float32, device="auto"):
        sizes = dict(in_channels=in_channels, n1x1=n1x1, n3x3_reduce=n3x3_reduce, n3x3=n3x3,
                     n5x5_reduce=n5x5_reduce, n5x5=n5x5, pool_proj=pool_proj)
        for name, value in sizes.items():
            check_positive_int("Inception", name, value)
        self.sizes = sizes
        rng = make_rng(rng)

        def conv(cin, cout, k, pad=0):
            return [Conv2D(cin, cout, k, padding=pad, rng=rng, dtype=dtype, device=device), ReLU()]

        super().__init__({
            "branch1": Sequential(conv(in_channels, n1x1, 1)),
            "branch3": Sequential(conv(in_channels, n3x3_reduce, 1) + conv(n3x3_reduce, n3x3, 3, pad=1)),
            "branch5": Sequential(conv(in_channels, n5x5_reduce, 1) + conv(n5x5_reduce, n5x5, 5, pad=2)),
            "branch_pool": Sequential([MaxPool2D(3, stride=1, padding=1, device=device)] + conv(in_channels, pool_proj, 1)),
        })
        self.in_channels = in_channels
        self.out_channels = n1x1 + n3x3 + n5x5 + pool_proj
        self.branch_channels = [n1x1, n3x3, n5x5, pool_proj]

    def __repr__(self) -> str:
        arguments = ", ".join(str(value) for value in self.sizes.values())
        return f"Inception({arguments} -> {self.out_channels} channels)"

    def forward(self, x, training=True):
        """x (N, in_channels, H, W) -> y (N, out_channels, H, W), branches concatenated on channels."""
        x = np.asarray(x)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r}: expected input (N, {self.in_channels}, H, W), got {x.shape}")
        outputs = [branch.forward(x, training=training) for branch in self.children.values()]
        y = np.concatenate(outputs, axis=1)
        self.output_shape = y.shape
        return y

    def backward(self, dy):
        """dy (N, out_channels, H, W) -> dx (N, in_channels, H, W): the sum of the branches' dx."""
        dy = self._check_dy(dy, self._saved("output_shape"))
        bounds = np.cumsum([0] + self.branch_channels)
        dx = None
        for branch, start, stop in zip(self.children.values(), bounds[:-1], bounds[1:]):
            branch_dx = branch.backward(dy[:, start:stop])
            dx = branch_dx if dx is None else dx + branch_dx
        return dx
