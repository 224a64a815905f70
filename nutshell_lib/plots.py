"""Drawing helpers for the course notebooks, so that a notebook shows the idea, not the plotting code.

Every function draws with matplotlib and returns the ``Figure`` (or fills the ``Axes`` it is given);
the notebook calls ``plt.show()``. Nothing here computes what a notebook teaches: the numbers come in
as arguments. Images are NumPy arrays in the course's layouts: a map (H, W), colour images (3, H, W).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

# 05-09


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
