"""Drawing helpers for the course notebooks.

The notebooks keep the ideas (the formulas, the loops, the numbers they print) in their own cells and
call these functions only to draw them, so a learner reads the concept first and not 40 lines of
matplotlib. Every helper takes the values it draws as arguments, keeps no state between calls, and
returns the figure and/or axes it drew on; the notebook decides when to ``plt.show()``.

The functions are grouped by the notebook that first uses them.
"""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle


def _matrix(name: str, values) -> np.ndarray:
    """``values`` as a 2-D float array, or a ValueError naming the argument."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows, columns), got shape {array.shape}")
    return array


# --- 00 Learning from data ---------------------------------------------------------------------

def show_image(ax, image, title: str = ""):
    """Draw one colour image without axes.

    ax: the matplotlib Axes to draw on. image: (3, H, W) RGB values in [0, 1], the layout of the
    course's data sets (channels first). title: drawn above, wrapped to lines of 12 characters.
    Returns the AxesImage.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"image must be (3, H, W) RGB, got shape {image.shape}")
    drawn = ax.imshow(image.transpose(1, 2, 0))  # (3, H, W) -> (H, W, 3) for matplotlib
    ax.set_title(textwrap.fill(title, 12), fontsize=7)
    ax.axis("off")
    return drawn


def edge_hierarchy(images, titles, rightward, upward, strength, histograms, bin_edges):
    """One row per image: the image, two edge maps, the edge strength, and a histogram of directions.

    images: (M, 3, H, W) RGB images in [0, 1]; titles: M names.
    rightward, upward: (M, h, w) responses of a left-right and a bottom-top edge filter.
    strength: (M, h, w) edge strength. histograms: (M, B) share of edge strength per direction bin.
    bin_edges: (B + 1,) the direction bins in degrees.
    Returns (fig, axes) with axes of shape (M, 5).
    """
    histograms = np.asarray(histograms, dtype=float)
    bin_edges = np.asarray(bin_edges, dtype=float)
    if histograms.ndim != 2 or bin_edges.shape != (histograms.shape[1] + 1,):
        raise ValueError(f"histograms (M, B) need bin_edges (B + 1,); got shapes {histograms.shape} "
                         f"and {bin_edges.shape}")
    rows = len(images)
    fig, axes = plt.subplots(rows, 5, figsize=(12, 2.2 * rows), squeeze=False,
                             gridspec_kw=dict(width_ratios=[1, 1, 1, 1, 1.6]))
    maps = [(rightward, "layer 1: left-right change", "RdBu"), (upward, "layer 1: bottom-top change", "RdBu"),
            (strength, "edge strength", "magma")]
    widths = np.diff(bin_edges)
    for row in range(rows):
        show_image(axes[row, 0], images[row], titles[row])
        for column, (values, title, cmap) in enumerate(maps, start=1):
            limit = np.abs(values[row]).max()
            axes[row, column].imshow(values[row], cmap=cmap, vmin=-limit if cmap == "RdBu" else 0, vmax=limit)
            axes[row, column].set_title(title, fontsize=8)
            axes[row, column].axis("off")
        axes[row, 4].bar(bin_edges[:-1] + widths / 2, histograms[row], width=0.9 * widths)
        axes[row, 4].set_xticks([0, 45, 90, 135, 180])
        axes[row, 4].set_title("layer 2: edge directions on the sign", fontsize=8)
    axes[-1, 4].set_xlabel("edge direction in degrees (0 and 180: horizontal)")
    fig.tight_layout()
    return fig, axes


# --- 01 The sigmoid ----------------------------------------------------------------------------

def probability_map(ax, probability, X, y, limits=(-8.0, 8.0), title: str = ""):
    """A 2-d classifier's probability as background colour, its boundary p = 0.5 as a black line.

    ax: the Axes. probability: a function mapping (n, 2) points to (n,) probabilities of class 1.
    X: (N, 2) data points, drawn coloured by y: (N,) labels 0 or 1. limits: (low, high) of both axes.
    Returns ax.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be (N, 2) points, got shape {X.shape}")
    grid = np.linspace(limits[0], limits[1], 200)
    G1, G2 = np.meshgrid(grid, grid)
    p = np.asarray(probability(np.column_stack([G1.ravel(), G2.ravel()]))).reshape(G1.shape)
    ax.contourf(G1, G2, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    ax.contour(G1, G2, p, levels=[0.5], colors="k")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=12, edgecolor="k", linewidth=0.3)
    ax.set(xlim=limits, ylim=limits, xlabel="$x_1$", ylabel="$x_2$", title=title)
    return ax


def flat_tails(slope, tolerance: float = 0.01) -> np.ndarray:
    """(n,) bool: True where |slope| stays below ``tolerance`` from there out to either end of the array."""
    small = np.abs(np.asarray(slope)) < tolerance
    return np.logical_and.accumulate(small) | np.logical_and.accumulate(small[::-1])[::-1]


def activation_gallery(activations, z, tolerance: float = 0.01):
    """Each activation function (top row) above its slope (bottom row), with flat tails shaded grey.

    activations: dict name -> (f, df), functions of a (n,) array z. z: (n,) increasing inputs.
    tolerance: a tail counts as flat where |df| < tolerance all the way to the edge of the plot.
    Returns (fig, axes) with axes of shape (2, len(activations)).
    """
    z = np.asarray(z, dtype=float)
    fig, axes = plt.subplots(2, len(activations), figsize=(2.4 * len(activations), 4.5), sharex=True,
                             squeeze=False)
    for column, (name, (f, df)) in enumerate(activations.items()):
        slope = df(z)
        axes[0, column].plot(z, f(z))
        axes[0, column].set_title(name)
        axes[1, column].plot(z, slope, color="C1")
        axes[1, column].axhline(0, color="k", lw=0.5)
        axes[1, column].fill_between(z, slope.min() - 0.1, slope.max() + 0.1, where=flat_tails(slope, tolerance),
                                     color="grey", alpha=0.25)
        axes[1, column].set_xlabel("z")
    axes[0, 0].set_ylabel("f(z)")
    axes[1, 0].set_ylabel(f"f'(z)  (grey: flat tail,\n|slope| < {tolerance:g})")
    fig.tight_layout()
    return fig, axes


# --- 02 The perceptron -------------------------------------------------------------------------

def perceptron_state(ax, X, y, w, b, culprit=None, title: str | None = None):
    """Labelled points and the line w . x + b = 0 of one perceptron state.

    ax: the Axes. X: (N, 2) points; y: (N,) labels in {-1, +1}. w: (2,) weights, b: the bias.
    culprit: (2,) the point that caused the last update, circled in gold (None: no circle).
    title: defaults to the number of misclassified points. Returns ax.
    """
    X = np.asarray(X, dtype=float)
    w = np.asarray(w, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2 or w.shape != (2,):
        raise ValueError(f"X must be (N, 2) and w (2,), got shapes {X.shape} and {w.shape}")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=14, edgecolor="k", linewidth=0.3)
    low, high = X.min(axis=0) - 1, X.max(axis=0) + 1
    x_line = np.array([low[0], high[0]])
    if abs(w[1]) > 1e-12:
        ax.plot(x_line, -(w[0] * x_line + b) / w[1], "k")
    elif abs(w[0]) > 1e-12:
        ax.axvline(-b / w[0], color="k")
    if culprit is not None:
        ax.scatter(*culprit, s=160, facecolor="none", edgecolor="gold", linewidth=2)
    if title is None:
        title = f"{int(np.sum(np.asarray(y) * (X @ w + b) <= 0))} wrong"
    ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), title=title)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


# --- 03 Backpropagation ------------------------------------------------------------------------

def circuit(nodes, edges, forward, grad, title: str = ""):
    """A computation graph with each wire's forward value (green, above) and gradient (red, below).

    nodes: dict name -> (x, y, label): where to draw each node and the text inside it. Nodes that
    no edge points to (the inputs) are drawn yellow, the operations blue.
    edges: list of (source, target) names; the wire carries the source's value.
    forward, grad: dicts name -> float, the value of each source node and dL/d(that value).
    Returns (fig, ax).
    """
    missing = sorted({source for source, _ in edges} - set(forward) | {source for source, _ in edges} - set(grad))
    if missing:
        raise ValueError(f"forward and grad need a value for every wire's source; missing {missing}")
    targets = {target for _, target in edges}
    xs, ys = zip(*(position[:2] for position in nodes.values()))
    fig, ax = plt.subplots(figsize=(9, 3.8))
    for source, target in edges:
        (x0, y0), (x1, y1) = nodes[source][:2], nodes[target][:2]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="->", color="0.5", shrinkA=13, shrinkB=13))
        xm, ym = x0 + 0.4 * (x1 - x0), y0 + 0.4 * (y1 - y0)  # label the wire near its start
        if x0 == x1:  # a vertical wire: value to its left, gradient to its right
            ax.text(xm - 0.1, ym, f"{forward[source]:.2f}", color="green", ha="right", va="center", fontsize=9)
            ax.text(xm + 0.1, ym, f"{grad[source]:.2f}", color="red", ha="left", va="center", fontsize=9)
        else:
            ax.text(xm, ym + 0.12, f"{forward[source]:.2f}", color="green", ha="center", va="bottom", fontsize=9)
            ax.text(xm, ym - 0.12, f"{grad[source]:.2f}", color="red", ha="center", va="top", fontsize=9)
    for name, (x, y, label) in nodes.items():
        ax.text(x, y, label, ha="center", va="center", fontsize=12,
                bbox=dict(boxstyle="round", fc="lightblue" if name in targets else "lightyellow", ec="0.4"))
    ax.set(xlim=(min(xs) - 0.5, max(xs) + 1.0), ylim=(min(ys) - 0.4, max(ys) + 0.4), title=title)
    ax.axis("off")
    return fig, ax


def overfitting_curves(runs, baseline: str, stopped: str, train_label: str = "training",
                       val_label: str = "validation"):
    """Left: training and validation loss of one run; right: every run's validation loss.

    runs: dict name -> History (``nutshell_lib.training``) with per-epoch ``loss`` and ``val_loss``.
    baseline: the name of the run drawn on the left. stopped: the name of a run trained with early
    stopping; a star marks the epoch whose weights it kept (its ``best_epoch``, 0-based).
    train_label, val_label: the legend entries of the two curves on the left. Returns (fig, (left, right)).
    """
    missing = sorted({baseline, stopped} - set(runs))
    if missing:
        raise ValueError(f"runs has no run named {missing}; it has {sorted(runs)}")
    if runs[stopped].best_epoch is None:
        raise ValueError(f"run {stopped!r} has no best_epoch: was it trained with early stopping?")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    plain = runs[baseline]
    left.plot(plain.loss, label=train_label)
    left.plot(plain.val_loss, label=val_label)
    left.set(xlabel="epoch", ylabel="loss", yscale="log", title=baseline)
    left.legend(fontsize=8)
    for name, run in runs.items():
        right.plot(run.val_loss, label=name)
    best = runs[stopped].best_epoch
    right.plot(best, runs[stopped].val_loss[best], "k*", ms=10, label="weights kept by early stopping")
    right.set(xlabel="epoch", ylabel="validation loss", title="the cures")
    right.legend(fontsize=7)
    fig.tight_layout()
    return fig, (left, right)


# --- 04 Convolution ----------------------------------------------------------------------------

def annotate_values(ax, values, fmt: str = "{:.0f}", color: str = "k"):
    """Write every finite entry of a (rows, columns) array at its cell of an ``imshow``; skip NaNs.

    Returns the list of Text artists.
    """
    values = _matrix("values", values)
    return [ax.text(col, row, fmt.format(v), ha="center", va="center", fontsize=8, color=color)
            for (row, col), v in np.ndenumerate(values) if np.isfinite(v)]


def matrix_panels(panels, boxes=(), fmt: str = "{:.0f}", height: float = 3.0):
    """A row of small matrices, each cell coloured and labelled with its value.

    panels: list of (values, title, cmap): values a (rows, columns) array (NaN cells stay blank);
    cmap "gray" is scaled from 0 to the largest value, any other colour map symmetrically about 0.
    boxes: list of (panel, row, column, height, width, colour): rectangles around blocks of cells.
    fmt: how to write each value. height: figure height in inches.
    Returns (fig, axes), one Axes per panel.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(2.75 * len(panels), height), squeeze=False)
    axes = axes[0]
    for ax, (values, title, cmap) in zip(axes, panels):
        values = _matrix(f"the values of panel {title!r}", values)
        limit = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0
        limit = limit or 1.0
        ax.imshow(values, cmap=cmap, vmin=0 if cmap == "gray" else -limit, vmax=limit)
        annotate_values(ax, values, fmt, color="tab:orange" if cmap == "gray" else "k")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for panel, row, col, box_height, box_width, colour in boxes:
        axes[panel].add_patch(Rectangle((col - 0.5, row - 0.5), box_width, box_height, fill=False, ec=colour, lw=2.5))
    fig.tight_layout()
    return fig, axes


def sliding_window(image, kernel, output, i: int, j: int):
    """One step of a sliding-window sum: the window at (i, j), its products, and the output so far.

    image: (H, W) input; kernel: (R, S); output: (H - R + 1, W - S + 1) the full result, drawn
    only up to (i, j) in raster order. Returns (fig, axes) with four panels.
    """
    image, kernel, output = _matrix("image", image), _matrix("kernel", kernel), _matrix("output", output)
    R, S = kernel.shape
    if output.shape != (image.shape[0] - R + 1, image.shape[1] - S + 1):
        raise ValueError(f"output must be (H - R + 1, W - S + 1) for image {image.shape} and kernel {kernel.shape}, "
                         f"got {output.shape}")
    if not (0 <= i < output.shape[0] and 0 <= j < output.shape[1]):
        raise ValueError(f"(i, j) = ({i}, {j}) is outside the output of shape {output.shape}")
    order = np.arange(output.size).reshape(output.shape)
    done = np.where(order <= order[i, j], output, np.nan)
    window = image[i:i + R, j:j + S]
    panels = [(image, "input x", "gray"), (kernel, "kernel k", "coolwarm"),
              (window * kernel, f"window × kernel, sum = {output[i, j]:.0f}", "coolwarm"), (done, "output y", "coolwarm")]
    return matrix_panels(panels, boxes=[(0, i, j, R, S, "tab:red"), (3, i, j, 1, 1, "tab:red")])


def conv_geometry(n: int, k: int, stride: int, padding: int, out: int):
    """Where a k x k window starts on an n x n input with the given stride and padding.

    Padding cells are grey, dots mark window starts, cells no window covers are red. The first
    window and its output pixel are blue, the next one along a row orange.
    out: the output size (the caller's formula, drawn as given). Returns (fig, (left, right)).
    """
    m = n + 2 * padding
    if not 1 <= k <= m:
        raise ValueError(f"a {k}x{k} kernel does not fit in an {n}x{n} input with padding {padding}")
    starts = np.arange(out) * stride
    covered = np.zeros(m, bool)
    for start in starts:
        covered[start:start + k] = True
    cells = np.ones((m, m, 3))
    is_pad = np.zeros(m, bool)
    is_pad[:padding] = is_pad[m - padding:] = True
    cells[is_pad[:, None] | is_pad[None, :]] = 0.82
    cells[~covered[:, None] | ~covered[None, :]] = (1.0, 0.75, 0.75)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.4), gridspec_kw=dict(width_ratios=[m, max(out, 3)]))
    left.imshow(cells)
    _grid_lines(left, m, m, color="0.6", lw=0.5)
    start_rows, start_cols = np.meshgrid(starts, starts, indexing="ij")
    left.plot(start_cols.ravel(), start_rows.ravel(), "k.", ms=6)
    left.add_patch(Rectangle((-0.5, -0.5), k, k, fill=False, ec="tab:blue", lw=2.5))
    if out > 1:
        left.add_patch(Rectangle((stride - 0.5, -0.5), k, k, fill=False, ec="tab:orange", lw=2, ls="--"))
    left.set_title(f"input {n}×{n}, padding {padding}, kernel {k}×{k}, stride {stride}", fontsize=9)
    output = np.ones((out, out, 3))
    output[0, 0] = (0.6, 0.75, 1.0)
    if out > 1:
        output[0, 1] = (1.0, 0.8, 0.5)
    right.imshow(output)
    _grid_lines(right, out, out, color="0.4", lw=0.8)
    right.set_title(f"output {out}×{out} = ⌊({n}+2·{padding}−{k})/{stride}⌋+1", fontsize=9)
    fig.tight_layout()
    return fig, (left, right)


def _grid_lines(ax, rows: int, cols: int, **line_style):
    """Cell borders for an imshow of (rows, cols) cells, without ticks."""
    for edge in np.arange(rows + 1) - 0.5:
        ax.axhline(edge, **line_style)
    for edge in np.arange(cols + 1) - 0.5:
        ax.axvline(edge, **line_style)
    ax.set_xticks([])
    ax.set_yticks([])
