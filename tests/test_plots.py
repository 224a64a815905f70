"""The notebooks' drawing helpers draw what they are given: the expected images, lines, texts and boxes."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from nutshell_lib import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(ax):
    return [t.get_text() for t in ax.texts]


def boxes(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


# --- 00 ---

def test_show_image_draws_channels_last_and_hides_axes():
    fig, ax = plt.subplots()
    image = np.random.default_rng(0).uniform(size=(3, 4, 5))
    drawn = plots.show_image(ax, image, "no entry")
    assert isinstance(drawn, AxesImage)
    np.testing.assert_array_equal(drawn.get_array(), image.transpose(1, 2, 0))
    assert ax.get_title() == "no entry" and not ax.axison


def test_show_image_rejects_channels_last():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        plots.show_image(ax, np.zeros((4, 5, 3)))


def test_edge_hierarchy_one_row_per_image_with_histogram_bars():
    rng = np.random.default_rng(0)
    maps = rng.standard_normal((3, 2, 6, 6))
    histograms = rng.uniform(size=(2, 4))
    fig, axes = plots.edge_hierarchy(rng.uniform(size=(2, 3, 6, 6)), ["a", "b"], maps[0], maps[1],
                                     np.abs(maps[2]), histograms, np.linspace(0, 180, 5))
    assert axes.shape == (2, 5)
    assert axes[1, 0].get_title() == "b"
    assert all(len(axes[row, col].images) == 1 for row in range(2) for col in range(4))
    heights = [bar.get_height() for bar in axes[1, 4].patches]
    np.testing.assert_allclose(heights, histograms[1])
    # the signed maps are centred on zero, the strength starts at zero
    assert axes[0, 1].images[0].get_clim()[0] == -axes[0, 1].images[0].get_clim()[1]
    assert axes[0, 3].images[0].get_clim()[0] == 0


# --- 01 ---

def test_probability_map_draws_boundary_where_probability_is_one_half():
    fig, ax = plt.subplots()
    X = np.array([[-1.0, 0.0], [1.0, 0.0]])
    plots.probability_map(ax, lambda P: 1 / (1 + np.exp(-P[:, 0])), X, [0, 1], limits=(-2, 2), title="t")
    scatter = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatter) == 1 and np.array_equal(scatter[0].get_offsets(), X)
    # the p = 0.5 contour of sigmoid(x1) is the vertical line x1 = 0
    boundary = [c for c in ax.collections if not isinstance(c, PathCollection)][-1]
    vertices = np.concatenate([path.vertices for path in boundary.get_paths()])
    np.testing.assert_allclose(vertices[:, 0], 0, atol=0.05)
    assert ax.get_xlim() == (-2, 2) and ax.get_title() == "t"


def test_flat_tails_only_marks_runs_that_reach_an_end():
    slope = np.array([0.0, 0.001, 0.5, 0.0, 0.6, 0.002])
    np.testing.assert_array_equal(plots.flat_tails(slope), [True, True, False, False, False, True])


def test_activation_gallery_two_rows_per_function():
    activations = {"relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0),
                   "identity": (lambda z: z, np.ones_like)}
    z = np.linspace(-3, 3, 61)
    fig, axes = plots.activation_gallery(activations, z)
    assert axes.shape == (2, 2)
    assert [ax.get_title() for ax in axes[0]] == ["relu", "identity"]
    np.testing.assert_allclose(axes[1, 0].lines[0].get_ydata(), (z > 0) * 1.0)
    assert len(axes[1, 0].collections) == 1    # relu's flat negative side is shaded
    shaded = axes[1, 1].collections[0].get_paths()
    assert sum(len(p.vertices) for p in shaded) == 0   # the identity has no flat tail


# --- 02 ---

def test_perceptron_state_line_and_culprit():
    fig, ax = plt.subplots()
    X = np.array([[0.0, 0.0], [2.0, 2.0], [0.0, 3.0]])
    plots.perceptron_state(ax, X, [-1, 1, 1], np.array([1.0, 1.0]), -2.0, culprit=X[1])
    line = ax.lines[0]
    x_line, y_line = line.get_xdata(), line.get_ydata()
    np.testing.assert_allclose(x_line + y_line, 2.0)         # w . x + b = 0
    assert len(ax.collections) == 2                           # the points and the gold circle
    assert ax.get_title() == "0 wrong"


def test_perceptron_state_vertical_line_when_w2_is_zero():
    fig, ax = plt.subplots()
    plots.perceptron_state(ax, np.array([[0.0, 0.0], [2.0, 1.0]]), [-1, 1], np.array([1.0, 0.0]), -1.0)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [1.0, 1.0])
    assert len(ax.collections) == 1


# --- 03 ---

def test_circuit_labels_every_wire_with_value_and_gradient():
    nodes = {"a": (0, 0, "$a$"), "b": (0, 1, "$b$"), "sum": (2, 0.5, "+")}
    edges = [("a", "sum"), ("b", "sum")]
    fig, ax = plots.circuit(nodes, edges, {"a": 1.5, "b": -2.0}, {"a": 0.25, "b": 0.25}, title="graph")
    labels = texts(ax)
    assert {"1.50", "-2.00", "0.25", "$a$", "$b$", "+"} <= set(labels)
    assert labels.count("0.25") == 2
    assert ax.get_title() == "graph"


def test_circuit_needs_a_value_for_every_wire():
    with pytest.raises(ValueError, match="missing"):
        plots.circuit({"a": (0, 0, "a"), "b": (1, 0, "b")}, [("a", "b")], {}, {"a": 1.0})


# --- 04 ---

def test_annotate_values_skips_nan():
    fig, ax = plt.subplots()
    written = plots.annotate_values(ax, np.array([[1.0, np.nan], [-2.0, 3.0]]))
    assert [t.get_text() for t in written] == ["1", "-2", "3"]
    assert written[1].get_position() == (0, 1)   # (column, row) of the entry -2


def test_matrix_panels_boxes_and_values():
    fig, axes = plots.matrix_panels([(np.eye(2), "I", "gray"), (-np.ones((3, 3)), "minus", "coolwarm")],
                                    boxes=[(1, 0, 1, 2, 2, "tab:red")])
    assert len(axes) == 2 and [ax.get_title() for ax in axes] == ["I", "minus"]
    assert texts(axes[1]).count("-1") == 9
    (box,) = boxes(axes[1])
    assert box.get_xy() == (0.5, -0.5) and (box.get_width(), box.get_height()) == (2, 2)
    assert axes[1].images[0].get_clim() == (-1, 1)
    with pytest.raises(ValueError, match="2-D"):
        plots.matrix_panels([(np.zeros(3), "flat", "gray")])


def test_sliding_window_shows_output_only_up_to_the_window():
    image = np.arange(16.0).reshape(4, 4)
    kernel = np.array([[1.0, -1.0], [0.0, 0.0]])
    output = np.full((3, 3), -1.0)
    fig, axes = plots.sliding_window(image, kernel, output, 1, 0)
    assert len(axes) == 4
    assert len(texts(axes[3])) == 4            # the first row and (1, 0) are filled in
    assert boxes(axes[0])[0].get_width() == 2 and boxes(axes[0])[0].get_xy() == (-0.5, 0.5)
    assert texts(axes[2]) == ["4", "-5", "0", "0"]
    with pytest.raises(ValueError, match="output"):
        plots.sliding_window(image, kernel, np.zeros((4, 4)), 0, 0)


def test_conv_geometry_marks_window_starts_and_unreached_cells():
    fig, (left, right) = plots.conv_geometry(n=8, k=3, stride=2, padding=0, out=3)
    starts = left.lines[-1]
    assert sorted(set(starts.get_xdata())) == [0, 2, 4]
    cells = left.images[0].get_array()
    np.testing.assert_allclose(cells[0, 7], (1.0, 0.75, 0.75))   # column 7: no window reaches it
    np.testing.assert_allclose(cells[0, 6], (1.0, 1.0, 1.0))
    assert right.images[0].get_array().shape == (3, 3, 3)
    assert len(boxes(left)) == 2
    with pytest.raises(ValueError, match="does not fit"):
        plots.conv_geometry(n=3, k=7, stride=1, padding=0, out=1)


def test_overfitting_curves_star_at_the_kept_epoch():
    from nutshell_lib.training.history import History
    plain = History(loss=[1.0, 0.5, 0.25], val_loss=[1.0, 0.8, 0.9])
    stopped = History(loss=[1.0, 0.6], val_loss=[1.0, 0.7], best_epoch=1)
    fig, (left, right) = plots.overfitting_curves({"plain": plain, "early": stopped}, "plain", "early")
    np.testing.assert_allclose(left.lines[1].get_ydata(), plain.val_loss)
    assert [line.get_label() for line in right.lines[:2]] == ["plain", "early"]
    star = right.lines[-1]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (1, 0.7)
    with pytest.raises(ValueError, match="best_epoch"):
        plots.overfitting_curves({"plain": plain}, "plain", "plain")


def test_conv_geometry_paints_the_padding_grey():
    fig, (left, _) = plots.conv_geometry(n=5, k=3, stride=1, padding=1, out=5)
    cells = left.images[0].get_array()
    np.testing.assert_allclose(cells[0, 3], (0.82, 0.82, 0.82))   # the border row is padding
    np.testing.assert_allclose(cells[3, 3], (1.0, 1.0, 1.0))      # the input itself is white
