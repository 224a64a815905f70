"""Tests for the drawing helpers of notebooks 05-09 in nutshell_lib.plots: the artists they make.

Each test counts what a learner would see (outlined windows, written numbers, curves, images) and
checks it against the arguments, so a helper that silently draws nothing or the wrong thing fails.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from nutshell_lib import plots  # noqa: E402
from nutshell_lib.training import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def outlines(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]


def shaded(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_fill()]


@pytest.mark.parametrize("size, stride", [(2, 2), (3, 1), (4, 4), (2, 3)])
def test_pooling_windows_outlines_every_window_and_shades_the_uncovered(size, stride):
    grid = np.arange(36.0).reshape(6, 6)
    out = (6 - size) // stride + 1
    max_out = np.array([[grid[i * stride:i * stride + size, j * stride:j * stride + size].max()
                         for j in range(out)] for i in range(out)])
    avg_out = max_out / 2
    fig = plots.pooling_windows(grid, size, stride, max_out, avg_out)
    left, middle, right = fig.axes
    assert len(outlines(left)) == len(outlines(middle)) == len(outlines(right)) == out * out
    covered = np.zeros((6, 6), bool)
    for i in range(out):
        for j in range(out):
            covered[i * stride:i * stride + size, j * stride:j * stride + size] = True
    assert len(shaded(left)) == (~covered).sum()
    assert [t.get_text() for t in left.texts] == [f"{v:.0f}" for v in grid.ravel()]
    assert [t.get_text() for t in middle.texts] == [f"{v:.0f}" for v in max_out.ravel()]
    assert [t.get_text() for t in right.texts] == [f"{v:.1f}" for v in avg_out.ravel()]
    # window k and output cell k share their colour
    assert [tuple(p.get_edgecolor()) for p in outlines(left)] == [tuple(p.get_edgecolor()) for p in outlines(middle)]


def test_pooling_windows_rejects_mismatched_outputs():
    with pytest.raises(ValueError, match="max_out"):
        plots.pooling_windows(np.zeros((4, 4)), 2, 2, np.zeros((2, 2)), np.zeros((2, 3)))


def test_image_grid_draws_each_image_once_in_hwc_and_hides_the_rest():
    images = np.random.default_rng(0).random((5, 3, 4, 6))
    fig = plots.image_grid(images, titles=list("abcde"), columns=3)
    assert len(fig.axes) == 6
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 5
    for ax, image, title in zip(drawn, images, "abcde"):
        np.testing.assert_array_equal(ax.images[0].get_array(), image.transpose(1, 2, 0))
        assert ax.get_title() == title
    assert not fig.axes[-1].images


def test_image_grid_grey_and_bad_input():
    fig = plots.image_grid(np.zeros((2, 8, 8)), columns=2, cmap="gray_r")
    assert all(ax.images[0].get_array().shape == (8, 8) for ax in fig.axes)
    with pytest.raises(ValueError, match="titles"):
        plots.image_grid(np.zeros((2, 8, 8)), titles=["one"])
    with pytest.raises(ValueError, match="images"):
        plots.image_grid(np.zeros((8, 8)))


def test_training_curves_plot_the_history_numbers():
    with_val = History(loss=[2.0, 1.0, 0.5], accuracy=[0.2, 0.5, 0.9], val_loss=[2.1, 1.2, 0.9],
                       val_accuracy=[0.1, 0.4, 0.8])
    train_only = History(loss=[3.0, 2.0], accuracy=[0.1, 0.3])
    fig = plots.training_curves({"a": with_val, "b": train_only})
    loss_ax, acc_ax = fig.axes
    lines = {line.get_label(): line for line in loss_ax.lines}
    assert set(lines) == {"a: training", "a: validation", "b: training"}
    np.testing.assert_array_equal(lines["a: validation"].get_ydata(), [2.1, 1.2, 0.9])
    np.testing.assert_array_equal(lines["b: training"].get_xdata(), [1, 2])
    acc_lines = {line.get_label(): line for line in acc_ax.lines}
    np.testing.assert_array_equal(acc_lines["a: training"].get_ydata(), [0.2, 0.5, 0.9])
    assert acc_ax.get_ylim() == (0, 1)
    fig.canvas.draw()
    assert all(float(tick).is_integer() for tick in loss_ax.get_xticks())     # epochs are whole numbers


def test_confusion_matrix_plot_writes_nonzero_counts():
    counts = np.array([[5, 0, 1], [0, 7, 0], [2, 0, 3]])
    fig = plots.confusion_matrix_plot(counts, ["x", "y", "z"])
    (ax,) = fig.axes
    assert sorted(int(t.get_text()) for t in ax.texts) == sorted(counts[counts > 0].tolist())
    np.testing.assert_array_equal(ax.images[0].get_array(), counts)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "z"]
    with pytest.raises(ValueError, match="counts"):
        plots.confusion_matrix_plot(counts, ["x", "y"])


def test_conv_filters_symmetric_colour_range_per_filter():
    weights = np.random.default_rng(1).standard_normal((2, 3, 5, 5))
    fig = plots.conv_filters(weights)
    assert len(fig.axes) == 8
    for k in range(2):
        limit = np.abs(weights[k]).max()
        for c in range(3):
            image = fig.axes[4 * k + c + 1].images[0]
            np.testing.assert_array_equal(image.get_array(), weights[k, c])
            assert image.get_clim() == (-limit, limit)
        colour = fig.axes[4 * k].images[0].get_array()
        assert colour.shape == (5, 5, 3) and colour.min() == 0 and colour.max() == 1
    with pytest.raises(ValueError, match="K, 3"):
        plots.conv_filters(np.zeros((2, 1, 5, 5)))


def test_feature_map_rows_one_image_per_map():
    rows = [("first", np.zeros((4, 6, 6))), ("second", np.ones((10, 2, 2)))]
    fig = plots.feature_map_rows(np.zeros((3, 8, 8)), rows, title="sign")
    assert len(fig.axes) == 22
    assert sum(len(ax.images) for ax in fig.axes) == 1 + 4 + 10
    assert fig.axes[0].get_title() == "sign"
    assert fig.axes[12].get_title(loc="left") == "second  (10, 2, 2)"


def test_unrolled_rnn_has_one_cell_per_step_plus_the_folded_one():
    for steps in (2, 4):
        fig = plots.unrolled_rnn(steps)
        (ax,) = fig.axes
        cells = [t for t in ax.texts if t.get_text() == "RNN\ncell"]
        assert len(cells) == steps + 1
        inputs = [t.get_text() for t in ax.texts if t.get_text().startswith("$x_")]
        assert inputs == ["$x_t$"] + [f"$x_{k}$" for k in range(1, steps + 1)]


def test_gate_heatmaps_units_in_rows_time_in_columns():
    rng = np.random.default_rng(2)
    gates = {name: rng.random((7, 3)) for name in "ifgoc"}
    order = np.array([2, 0, 1])
    fig = plots.gate_heatmaps(gates, order=order, time_labels={0: "start", 6: "?"}, title="t")
    panels = [ax for ax in fig.axes if ax.images and ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["input gate i", "forget gate f", "candidate g", "output gate o",
                                                 "cell state c"]
    for ax, name in zip(panels, "ifgoc"):
        np.testing.assert_array_equal(ax.images[0].get_array(), gates[name][:, order].T)
    bound = np.abs(gates["c"]).max()
    assert panels[4].images[0].get_clim() == (-bound, bound)
    assert panels[2].images[0].get_clim() == (-1, 1)
    assert [t.get_text() for t in panels[0].get_xticklabels()] == ["start", "?"]


def test_search_scatter_colours_by_score_and_stars_the_best():
    fig, ax = plt.subplots()
    x, y, score = np.array([1e-3, 1e-2, 1e-1]), np.array([1e-5, 1e-3, 1e-1]), np.array([0.5, 0.9, 0.7])
    points = plots.search_scatter(ax, x, y, score, best=1, xlabel="lr", ylabel="decay")
    assert isinstance(points, PathCollection)
    np.testing.assert_array_equal(points.get_offsets(), np.stack([x, y], axis=1))
    np.testing.assert_array_equal(points.get_array(), score)
    (star,) = ax.lines
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (1e-2, 1e-3)
    assert ax.get_xscale() == ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="score"):
        plots.search_scatter(ax, x, y, score[:2])
