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
from matplotlib.ticker import MaxNLocator


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


# --- 05-09 ---------------------------------------------------------------------------------------

def pooling_windows(grid, size, stride, max_out, avg_out):
    """Draw a 2-D map with its pooling windows outlined, next to the max- and average-pooled maps.

    grid (H, W): the input map; size, stride: the window and its step (ints);
    max_out, avg_out (Ho, Wo): the pooled maps, with Ho = (H - size) // stride + 1 (Wo likewise).
    Window k on the left and output cell k on the right share a colour; cells that no window
    covers are shaded red. Returns the Figure (three Axes: input, max, average).
    """
    grid, max_out, avg_out = np.asarray(grid), np.asarray(max_out), np.asarray(avg_out)
    if max_out.shape != avg_out.shape or max_out.ndim != 2:
        raise ValueError(f"pooling_windows: max_out {max_out.shape} and avg_out {avg_out.shape} must be one (Ho, Wo)")
    colours = plt.cm.tab10(np.arange(max_out.size) % 10)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), gridspec_kw=dict(width_ratios=[6, 4, 4]))
    axes[0].imshow(grid, cmap="Greys", vmin=0, vmax=2 * grid.max())
    _write_values(axes[0], grid, "{:.0f}")
    covered = np.zeros(grid.shape, bool)
    for index, (i, j) in enumerate(np.ndindex(*max_out.shape)):
        inset = 0.08 * (index % 3)             # staggered outlines stay visible where windows overlap
        axes[0].add_patch(Rectangle((j * stride - 0.5 + inset, i * stride - 0.5 + inset), size - 2 * inset,
                                    size - 2 * inset, fill=False, ec=colours[index], lw=2.5))
        covered[i * stride:i * stride + size, j * stride:j * stride + size] = True
    for a, b in zip(*np.nonzero(~covered)):
        axes[0].add_patch(Rectangle((b - 0.5, a - 0.5), 1, 1, color="tab:red", alpha=0.25))
    axes[0].set_title(f"input {grid.shape[0]}×{grid.shape[1]}, size {size}, stride {stride}", fontsize=9)
    for ax, out, title, fmt in [(axes[1], max_out, "max pooling", "{:.0f}"), (axes[2], avg_out, "average pooling", "{:.1f}")]:
        ax.imshow(np.ones(out.shape + (3,)))
        _write_values(ax, out, fmt)
        for index, (i, j) in enumerate(np.ndindex(*out.shape)):
            ax.add_patch(Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False, ec=colours[index], lw=2.5))
        ax.set_xlim(-0.5, max(out.shape[1], 2) - 0.5)
        ax.set_ylim(max(out.shape[0], 2) - 0.5, -0.5)
        ax.set_title(f"{title}: {out.shape[0]}×{out.shape[1]}", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def _write_values(ax, values, fmt):
    for (a, b), v in np.ndenumerate(values):
        ax.text(b, a, fmt.format(v), ha="center", va="center", fontsize=9)


def image_grid(images, titles=None, columns=8, size=1.25, cmap=None):
    """Draw images in a grid, one per Axes, without ticks.

    images: (N, 3, H, W) colour or (N, H, W) grey; titles: N strings or None; columns: Axes per row;
    size: inches per image. Unused Axes of the last row are hidden. Returns the Figure.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"image_grid: images must be (N, 3, H, W) or (N, H, W) with N > 0, got {images.shape}")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"image_grid: {len(images)} images but {len(titles)} titles")
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + 0.3 * (titles is not None)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for index, (ax, image) in enumerate(zip(axes.flat, images)):
        ax.imshow(image.transpose(1, 2, 0) if image.ndim == 3 else image, cmap=cmap)  # CHW -> HWC
        if titles is not None:
            ax.set_title(titles[index], fontsize=6)
    fig.tight_layout()
    return fig


def training_curves(histories, metrics=("loss", "accuracy"), validation_label="validation"):
    """Per-epoch curves of one or more ``fit`` histories: training solid, validation dashed.

    histories: {name: History}; metrics: which of "loss" and "accuracy" to draw, one Axes each.
    A history without validation numbers draws only its training curve. Returns the Figure.
    """
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 2.8), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for (name, history), colour in zip(histories.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"]):
            train, val = getattr(history, metric), getattr(history, f"val_{metric}")
            prefix = f"{name}: " if len(histories) > 1 else ""
            ax.plot(np.arange(1, len(train) + 1), train, "o-", color=colour, ms=3, label=f"{prefix}training")
            if val:
                ax.plot(np.arange(1, len(val) + 1), val, "s--", color=colour, ms=3,
                        label=f"{prefix}{validation_label}")
        ax.set(xlabel="epoch", ylabel="cross-entropy" if metric == "loss" else metric, title=metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if metric == "accuracy":
            ax.set_ylim(0, 1)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def confusion_matrix_plot(counts, class_names):
    """Draw a confusion matrix: rows the true class, columns the predicted one, non-zero counts written in.

    counts (C, C) integers; class_names: C strings. Returns the Figure.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or len(class_names) != len(counts):
        raise ValueError(f"confusion_matrix_plot: counts {counts.shape} must be (C, C) for {len(class_names)} names")
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(counts, cmap="Blues")
    for (i, j), count in np.ndenumerate(counts):
        if count:
            ax.text(j, i, count, ha="center", va="center", fontsize=7,
                    color="white" if count > counts.max() / 2 else "black")
    ax.set_xticks(range(len(counts)), class_names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(counts)), class_names, fontsize=7)
    ax.set(xlabel="predicted", ylabel="true")
    fig.tight_layout()
    return fig


def conv_filters(weights):
    """Draw first-layer filters: each as a colour image (rescaled to 0..1) and its three channels.

    weights (K, 3, R, S). Channels use a diverging map, red positive and blue negative, symmetric
    around 0 per filter. Returns the Figure (K rows of 4 Axes).
    """
    weights = np.asarray(weights)
    if weights.ndim != 4 or weights.shape[1] != 3:
        raise ValueError(f"conv_filters: weights must be (K, 3, R, S), got {weights.shape}")
    fig, axes = plt.subplots(len(weights), 4, figsize=(5, 1.25 * len(weights)), squeeze=False)
    for k, w in enumerate(weights):
        spread = w.max() - w.min()
        axes[k, 0].imshow(((w - w.min()) / (spread if spread else 1)).transpose(1, 2, 0))
        limit = np.abs(w).max()
        for c, channel in enumerate("RGB"):
            axes[k, c + 1].imshow(w[c], cmap="RdBu_r", vmin=-limit, vmax=limit)
            axes[0, c + 1].set_title(channel)
        axes[k, 0].set_ylabel(f"filter {k}")
    axes[0, 0].set_title("as colour")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def feature_map_rows(image, rows, title=""):
    """Draw an input image and, row by row, the feature maps of a network's layers.

    image (3, H, W); rows: list of (name, maps) with maps (K, h, w), at most 10 maps a row.
    Returns the Figure (len(rows) x 11 Axes; the input sits top left).
    """
    if any(len(maps) > 10 for _, maps in rows):
        raise ValueError("feature_map_rows: at most 10 maps per row")
    fig, axes = plt.subplots(len(rows), 11, figsize=(10, len(rows)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(np.asarray(image).transpose(1, 2, 0))
    axes[0, 0].set_title(title, fontsize=7)
    for r, (name, maps) in enumerate(rows):
        for k, feature_map in enumerate(maps):
            axes[r, k + 1].imshow(feature_map, cmap="gray")
        axes[r, 1].set_title(f"{name}  {tuple(np.shape(maps))}", fontsize=7, loc="left")
    return fig


def _box(ax, x, y, text, colour):
    ax.text(x, y, text, ha="center", va="center", fontsize=11, bbox=dict(boxstyle="round,pad=0.4", fc=colour, ec="0.3"))


def _arrow(ax, start, end, **style):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", color="0.3", **style))


def unrolled_rnn(steps=4):
    """Draw a recurrent cell folded (with its loop) and unrolled into ``steps`` copies sharing weights.

    Returns the Figure; every cell is a text box labelled "RNN\\ncell" (1 folded + ``steps`` unrolled).
    """
    fig, ax = plt.subplots(figsize=(9, 3))
    _box(ax, 0, 1, "RNN\ncell", "lightblue")
    _box(ax, 0, -0.3, "$x_t$", "lightyellow")
    _box(ax, 0, 2.3, "$h_t$", "honeydew")
    _arrow(ax, (0, -0.05), (0, 0.55))
    _arrow(ax, (0, 1.45), (0, 2.05))
    _arrow(ax, (0.45, 1.2), (0.45, 0.8), connectionstyle="arc,angleA=0,angleB=0,armA=25,armB=25,rad=5")
    ax.text(0.95, 1, "$h_{t-1}$", fontsize=10, va="center")
    ax.text(1.75, 1, "=", fontsize=22, ha="center", va="center")
    _box(ax, 2.65, 1, "$h_0 = 0$", "honeydew")
    positions = np.arange(steps) * 1.8 + 4.1
    for k, x in enumerate(positions):
        _box(ax, x, 1, "RNN\ncell", "lightblue")
        _box(ax, x, -0.3, f"$x_{k + 1}$", "lightyellow")
        _box(ax, x, 2.3, f"$h_{k + 1}$", "honeydew")
        _arrow(ax, (x, -0.05), (x, 0.55))
        _arrow(ax, (x, 1.45), (x, 2.05))
        _arrow(ax, (3.15 if k == 0 else x - 1.35, 1), (x - 0.45, 1))
        if k:
            ax.text(x - 0.9, 1.1, f"$h_{k}$", ha="center", fontsize=10)
    ax.text(positions[-1] + 0.7, 1, "...", fontsize=16, va="center")
    ax.text((2.65 + positions[-1]) / 2, -1.05, "the same weights $W_{ih}, W_{hh}, b$ in every copy",
            ha="center", fontsize=10, color="0.3")
    ax.set(xlim=(-0.8, positions[-1] + 1.2), ylim=(-1.3, 2.8))
    ax.axis("off")
    return fig


def gate_heatmaps(gates, order=None, time_labels=None, title="", ylabel="unit"):
    """Draw an LSTM's gates and cell state over time for one sequence, one panel each.

    gates: {"i", "f", "g", "o", "c"} -> (T, H) arrays; order: H unit indices for the rows (default
    as stored); time_labels: {step: label} for the x ticks. Gates use 0..1, the candidate -1..1 and
    the cell state a range symmetric around 0; ylabel names the rows. Returns the Figure (5 panels and 5 colour bars).
    """
    panels = (("i", "input gate i", "viridis", (0, 1)), ("f", "forget gate f", "viridis", (0, 1)),
              ("g", "candidate g", "coolwarm", (-1, 1)), ("o", "output gate o", "viridis", (0, 1)),
              ("c", "cell state c", "coolwarm", None))
    fig, axes = plt.subplots(1, 5, figsize=(10, 3.6), sharey=True)
    for ax, (name, label, cmap, limits) in zip(axes, panels):
        values = np.asarray(gates[name])
        values = (values if order is None else values[:, order]).T     # (units, time)
        if limits is None:
            bound = np.abs(values).max()
            limits = (-bound, bound)
        image = ax.imshow(values, aspect="auto", cmap=cmap, vmin=limits[0], vmax=limits[1])
        ax.set_title(label, fontsize=9)
        if time_labels:
            ax.set_xticks(list(time_labels), list(time_labels.values()), fontsize=8)
        fig.colorbar(image, ax=ax, orientation="horizontal", pad=0.1, fraction=0.05)
    axes[0].set_ylabel(ylabel)
    fig.suptitle(title, fontsize=9, y=1.02)
    return fig


def search_scatter(ax, x, y, score, best=None, xlabel="", ylabel="", score_label="validation accuracy"):
    """Scatter the tries of a hyperparameter search on log-log axes, coloured by their score.

    x, y (n,) positive hyperparameter values of each try; score (n,) its validation score; best: index
    of the chosen try, drawn as a star, or None. Fills ``ax`` and returns the scatter's PathCollection.
    """
    x, y, score = np.asarray(x), np.asarray(y), np.asarray(score)
    if not x.shape == y.shape == score.shape or x.ndim != 1:
        raise ValueError(f"search_scatter: x {x.shape}, y {y.shape} and score {score.shape} must be one (n,)")
    points = ax.scatter(x, y, c=score, cmap="viridis", s=60, edgecolors="0.3")
    if best is not None:
        ax.plot(x[best], y[best], "*", color="tab:red", ms=18, mec="k", label="chosen on validation")
        ax.legend(fontsize=8, loc="lower left")
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel)
    ax.figure.colorbar(points, ax=ax, label=score_label)
    return points
