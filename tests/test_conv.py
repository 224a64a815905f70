"""conv2d / conv2d_backward on the CPU against oracles that share no code with the library:
naive loops over windows, scipy.signal.correlate, and float64 central differences."""
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import correlate

from nutshell_lib.kernels.cpu_conv import col2im, im2col
from nutshell_lib.ops import conv as conv_module
from nutshell_lib.ops import winograd as winograd_module
from nutshell_lib.ops.conv import conv2d, conv2d_backward
from oracles import central_difference, conv2d_backward_loops, conv2d_loops

# ---------------------------------------------------------------- oracles (float64, plain loops)

pytestmark = pytest.mark.usefixtures("threads_even_for_small_arrays")

KERNELS = ("im2col", "col2im", "direct_forward", "direct_backward")


@pytest.fixture(scope="module", autouse=True, params=["direct", "winograd", "im2col"])
def conv_path(request):
    """Every test runs three times: with the direct kernels for every stride-1 float32 layer; with
    Winograd's algorithm for every other stride-1 float32 3x3 layer's forward pass; and with
    im2col and the BLAS for every layer. (DIRECT_MAX_FILTERS and WINOGRAD_MIN_CHANNELS pick
    between them by the numbers of filters and channels; float64 always takes im2col.)"""
    defaults = conv_module.DIRECT_MAX_FILTERS, conv_module.WINOGRAD_MIN_CHANNELS
    conv_module.DIRECT_MAX_FILTERS = 1_000_000 if request.param == "direct" else 0
    conv_module.WINOGRAD_MIN_CHANNELS = 0 if request.param == "winograd" else 1_000_000
    yield request.param
    conv_module.DIRECT_MAX_FILTERS, conv_module.WINOGRAD_MIN_CHANNELS = defaults


def without_kernels(monkeypatch):
    """Calling any kernel now raises a TypeError of its own, which the tests' patterns do not match."""
    for name in KERNELS:
        monkeypatch.setattr(conv_module, name, None)


def scipy_forward(x, w, b, stride, padding):
    """Stride-1 'valid' correlation of the padded images, then keep every stride-th position."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.stack([
        np.stack([correlate(xp[n], w[k], mode="valid")[0] + b[k] for k in range(w.shape[0])])
        for n in range(x.shape[0])
    ])
    return y[:, :, ::sh, ::sw]


# ---------------------------------------------------------------- random cases


def tolerance(dtype):
    return dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


def with_layout(array, layout):
    """The same values as ``array`` in C order, Fortran order, or as a strided slice of a larger array."""
    if layout == "fortran":
        return np.asfortranarray(array)
    if layout == "strided":
        bigger = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), array.dtype)
        bigger[..., ::2] = array
        return bigger[..., ::2]
    return array


@st.composite
def conv_cases(draw, max_batch=3, max_channels=3, max_extra=6, min_kernel=1, max_kernel=4, max_stride=4,
               dtypes=(np.float32, np.float64)):
    """A random valid convolution: kernel, stride (may exceed the kernel), padding, then an input
    at least as large as the kernel once padded."""
    kernel = (draw(st.integers(min_kernel, max_kernel)), draw(st.integers(min_kernel, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = [draw(st.integers(max(1, k - 2 * p), max(1, k - 2 * p) + max_extra)) for k, p in zip(kernel, padding)]
    n_batch = draw(st.integers(1, max_batch))
    channels = draw(st.integers(1, max_channels))
    out_channels = draw(st.integers(1, max_channels))
    dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_batch, channels, *size))
    w = rng.standard_normal((out_channels, channels, *kernel))
    b = rng.standard_normal(out_channels)
    return dict(x=x, w=w, b=b, stride=stride, padding=padding, dtype=dtype, rng=rng)


# ---------------------------------------------------------------- forward


@settings(max_examples=60, deadline=None)
@given(case=conv_cases(), layout=st.sampled_from(["C", "fortran", "strided"]))
def test_forward_matches_naive_loops(case, layout):
    dtype, stride, padding = case["dtype"], case["stride"], case["padding"]
    x, w, b = (case[k].astype(dtype) for k in "xwb")
    y = conv2d(with_layout(x, layout), with_layout(w, layout), b, stride=stride, padding=padding, device="cpu")
    expected = conv2d_loops(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), stride, padding)
    assert y.dtype == dtype and y.shape == expected.shape
    np.testing.assert_allclose(y, expected, **tolerance(dtype))


def check_stride_1_float32_layer(case):
    padding, rng = case["padding"], case["rng"]
    x, w, b = (case[k].astype(np.float32) for k in "xwb")
    y = conv2d(x, w, b, padding=padding, device="cpu")
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    np.testing.assert_allclose(y, conv2d_loops(x64, w64, b.astype(np.float64), (1, 1), padding), **tolerance(np.float32))
    dy = rng.standard_normal(y.shape).astype(np.float32)
    got = conv2d_backward(dy, x, w, padding=padding, device="cpu")
    for name, g, e in zip(("dx", "dw", "db"), got, conv2d_backward_loops(dy.astype(np.float64), x64, w64, (1, 1), padding)):
        np.testing.assert_allclose(g, e, err_msg=name, **tolerance(np.float32))


@settings(max_examples=40, deadline=None)
@given(case=conv_cases(max_kernel=12, max_stride=1, dtypes=(np.float32,), max_channels=4))
def test_stride_1_float32_layers_with_kernels_up_to_12_wide(case):
    """The layers the direct kernels take (stride 1, float32), with kernel widths on both sides of
    their groups of five taps, forward and backward against the loops."""
    check_stride_1_float32_layer(case)


@settings(max_examples=40, deadline=None)
@given(case=conv_cases(min_kernel=3, max_kernel=3, max_stride=1, dtypes=(np.float32,), max_channels=5, max_extra=9))
def test_stride_1_float32_3x3_layers(case):
    """The layers Winograd's algorithm takes (3x3, stride 1, float32): odd and even output sizes
    (its tiles are 2x2), forward and backward against the loops."""
    check_stride_1_float32_layer(case)


@settings(max_examples=30, deadline=None)
@given(case=conv_cases())
def test_forward_matches_scipy_correlate(case):
    y = conv2d(case["x"], case["w"], case["b"], stride=case["stride"], padding=case["padding"], device="cpu")
    np.testing.assert_allclose(y, scipy_forward(case["x"], case["w"], case["b"], case["stride"], case["padding"]), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("x_shape, w_shape", [((2, 5, 4, 3), (3, 5, 1, 1)), ((1, 1, 1, 1), (1, 1, 1, 1))])
def test_pointwise_fast_path(x_shape, w_shape):
    """1x1 kernels with stride 1 and no padding skip im2col; they must still match the loops."""
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    dy = rng.standard_normal((x_shape[0], w_shape[0], *x_shape[2:]))
    np.testing.assert_allclose(conv2d(x, w, b, device="cpu"), conv2d_loops(x, w, b, (1, 1), (0, 0)), rtol=1e-12)
    for got, expected in zip(conv2d_backward(dy, x, w, device="cpu"), conv2d_backward_loops(dy, x, w, (1, 1), (0, 0))):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("budget", [1, 2 * 3 * 3 * 3 * 4 * 3])
def test_large_batches_in_chunks_match_one_piece(monkeypatch, budget):
    """A column budget of 1 element forces one image per chunk; 2 images' worth leaves a remainder of 1."""
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((5, 3, 7, 6)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    dy = rng.standard_normal((5, 2, 4, 3))
    monkeypatch.setattr(conv_module, "COLUMN_CHUNK_ELEMENTS", budget)
    np.testing.assert_allclose(conv2d(x, w, b, stride=(2, 2), padding=1, device="cpu"),
                               conv2d_loops(x, w, b, (2, 2), (1, 1)), rtol=1e-12, atol=1e-12)
    got = conv2d_backward(dy, x, w, stride=2, padding=1, device="cpu")
    for name, g, e in zip(("dx", "dw", "db"), got, conv2d_backward_loops(dy, x, w, (2, 2), (1, 1))):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("budget", [1, 16 * 4 * 4 * 4 * 2])
def test_winograd_in_chunks_matches_the_loops(budget):
    """A budget of 1 element: one image per chunk; two images' worth leaves a remainder of 1 in each
    thread's block of 3 images (24 images, at most 8 blocks), and the tile arrays of a chunk are
    reused by the next."""
    rng = np.random.default_rng(6)
    x, w, b = (rng.standard_normal(shape).astype(np.float32) for shape in ((24, 3, 7, 8), (4, 3, 3, 3), (4,)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(winograd_module, "COLUMN_CHUNK_ELEMENTS", budget)
        patch.setattr(conv_module, "DIRECT_MAX_FILTERS", 0)
        patch.setattr(conv_module, "WINOGRAD_MIN_CHANNELS", 0)
        y = conv2d(x, w, b, padding=1, device="cpu")
    np.testing.assert_allclose(y, conv2d_loops(*(a.astype(np.float64) for a in (x, w, b)), (1, 1), (1, 1)),
                               **tolerance(np.float32))


def test_no_bias_means_zero_bias():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3))
    np.testing.assert_array_equal(conv2d(x, w, stride=2, padding=1, device="cpu"),
                                  conv2d(x, w, np.zeros(4), stride=2, padding=1, device="cpu"))


def test_dtype_follows_x():
    x = np.ones((1, 2, 4, 4), np.float32)
    w = np.ones((3, 2, 2, 2), np.float64)
    assert conv2d(x, w, np.ones(3, np.float64), device="cpu").dtype == np.float32
    dx, dw, db = conv2d_backward(np.ones((1, 3, 3, 3), np.float64), x, w, device="cpu")
    assert dx.dtype == dw.dtype == db.dtype == np.float32
    # Integer input becomes float64, with exact results for small integers.
    y = conv2d(np.ones((1, 2, 4, 4), int), np.ones((3, 2, 2, 2), int), device="cpu")
    assert y.dtype == np.float64 and np.all(y == 8)


# ---------------------------------------------------------------- backward


@settings(max_examples=60, deadline=None)
@given(case=conv_cases(), layout=st.sampled_from(["C", "fortran", "strided"]))
def test_backward_matches_naive_loops(case, layout):
    dtype, stride, padding, rng = case["dtype"], case["stride"], case["padding"], case["rng"]
    x, w = case["x"].astype(dtype), case["w"].astype(dtype)
    dy = rng.standard_normal(conv2d_loops(case["x"], case["w"], case["b"], stride, padding).shape).astype(dtype)
    got = conv2d_backward(with_layout(dy, layout), with_layout(x, layout), w, stride=stride, padding=padding, device="cpu")
    expected = conv2d_backward_loops(dy.astype(np.float64), x.astype(np.float64), w.astype(np.float64), stride, padding)
    for name, g, e in zip(("dx", "dw", "db"), got, expected):
        assert g.dtype == dtype and g.shape == e.shape, name
        np.testing.assert_allclose(g, e, err_msg=name, **tolerance(dtype))


@settings(max_examples=10, deadline=None)
@given(case=conv_cases(max_batch=2, max_channels=2, max_extra=3))
def test_backward_matches_central_differences(case):
    """L = sum(y * dy) has gradient dy with respect to y, so conv2d_backward(dy, ...) is dL/d(x, w, b)."""
    x, w, b, stride, padding, rng = case["x"], case["w"], case["b"], case["stride"], case["padding"], case["rng"]
    dy = rng.standard_normal(conv2d(x, w, b, stride=stride, padding=padding, device="cpu").shape)

    def loss():
        return np.sum(conv2d(x, w, b, stride=stride, padding=padding, device="cpu") * dy)

    dx, dw, db = conv2d_backward(dy, x, w, stride=stride, padding=padding, device="cpu")
    for name, analytic, variable in (("dx", dx, x), ("dw", dw, w), ("db", db, b)):
        np.testing.assert_allclose(analytic, central_difference(loss, variable), rtol=1e-6, atol=1e-6, err_msg=name)


# ---------------------------------------------------------------- bad input


def good_args():
    return np.ones((2, 3, 8, 8)), np.ones((4, 3, 3, 3))


@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(x=np.ones((2, 3, 8))), ValueError, r"x must have 4 dimensions \(N, C, H, W\), got shape \(2, 3, 8\)"),
    (dict(w=np.ones((4, 3, 3))), ValueError, r"w must have 4 dimensions \(K, C, R, S\), got shape \(4, 3, 3\)"),
    (dict(w=np.ones((4, 2, 3, 3))), ValueError, r"C = 2 input channels but x .* C = 3.*\(2, 3, 8, 8\).*\(4, 2, 3, 3\)"),
    (dict(w=np.ones((4, 3, 11, 3)), padding=1), ValueError, r"11x3 kernel .*\(4, 3, 11, 3\).*larger than the padded input 10x10 .*padding \(1, 1\)"),
    (dict(b=np.ones(5)), ValueError, r"b must have shape \(K,\) = \(4,\).*got shape \(5,\)"),
    (dict(b=np.ones((4, 1))), ValueError, r"b must have 1 dimensions \(K,\), got shape \(4, 1\)"),
    (dict(stride=0), ValueError, r"stride must be positive, got 0"),
    (dict(stride=(1, -2)), ValueError, r"stride must be positive, got \(1, -2\)"),
    (dict(stride=1.5), TypeError, r"stride must be an int or a pair"),
    (dict(padding=-1), ValueError, r"padding must be >= 0, got -1"),
    (dict(x=np.array([["a"]])), TypeError, r"x must hold real numbers, got an array of dtype <U1"),
    (dict(w="filters"), TypeError, r"w must be a numeric array \(K, C, R, S\), got str"),
    (dict(x=np.ones((2, 3, 8, 8), complex)), TypeError, r"x must hold real numbers, got an array of dtype complex128"),
    (dict(x=np.ones((0, 3, 8, 8))), ValueError, r"must not have empty axes, got x of shape \(0, 3, 8, 8\)"),
    (dict(device="gpu"), ValueError, r"device must be one of \('auto', 'cpu', 'cuda'\), got 'gpu'"),
])
def test_forward_rejects_bad_input_before_any_kernel(monkeypatch, kwargs, error, pattern):
    without_kernels(monkeypatch)
    x, w = good_args()
    args = dict(x=x, w=w, b=np.ones(4), stride=1, padding=0, device="cpu") | kwargs
    with pytest.raises(error, match=pattern):
        conv2d(args.pop("x"), args.pop("w"), args.pop("b"), **args)


@pytest.mark.parametrize("dy_shape, pattern", [
    ((2, 4, 6, 5), r"dy must have the shape of conv2d's output \(N, K, Ho, Wo\) = \(2, 4, 6, 6\).*got shape \(2, 4, 6, 5\)"),
    ((2, 4, 6), r"dy must have 4 dimensions \(N, K, Ho, Wo\), got shape \(2, 4, 6\)"),
])
def test_backward_rejects_wrong_dy(monkeypatch, dy_shape, pattern):
    without_kernels(monkeypatch)
    x, w = good_args()
    with pytest.raises(ValueError, match=pattern):
        conv2d_backward(np.ones(dy_shape), x, w, device="cpu")


def test_backward_rejects_channel_mismatch():
    x, _ = good_args()
    with pytest.raises(ValueError, match=r"C = 5 input channels but x"):
        conv2d_backward(np.ones((2, 4, 6, 6)), x, np.ones((4, 5, 3, 3)), device="cpu")


def test_cuda_without_gpu_says_why(monkeypatch):
    from nutshell_lib.ops import device

    monkeypatch.setattr(device, "cuda_status", lambda: (False, "no usable NVIDIA GPU or driver was found"))
    x, w = good_args()
    with pytest.raises(RuntimeError, match=r"device='cuda' was asked for, but CUDA is not usable here: no usable NVIDIA GPU"):
        conv2d(x, w, device="cuda")
    with pytest.raises(RuntimeError, match=r"not usable here"):
        conv2d_backward(np.ones((2, 4, 6, 6)), x, w, device="cuda")


def test_cpu_path_never_imports_numba_cuda():
    code = (
        "import sys, numpy as np\n"
        "from nutshell_lib.ops.conv import conv2d, conv2d_backward\n"
        "x, w = np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3))\n"
        "conv2d_backward(conv2d(x, w, device='cpu'), x, w, device='cpu')\n"
        "assert 'numba.cuda' not in sys.modules, 'numba.cuda was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("w_shape, stride, padding", [((4, 3, 3, 3), 2, 1), ((4, 3, 1, 1), 1, 0)])
def test_backward_without_input_grad_gives_the_same_weight_grads(w_shape, stride, padding):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal(w_shape)
    dy = rng.standard_normal(conv2d(x, w, stride=stride, padding=padding, device="cpu").shape)
    dx, dw, db = conv2d_backward(dy, x, w, stride=stride, padding=padding, device="cpu")
    no_dx, dw_only, db_only = conv2d_backward(dy, x, w, stride=stride, padding=padding, device="cpu", input_grad=False)
    assert no_dx is None and dx is not None
    np.testing.assert_array_equal(dw_only, dw)
    np.testing.assert_array_equal(db_only, db)


@pytest.mark.parametrize("filters, stride, dtype, path", [
    (8, 1, np.float32, "direct"), (9, 1, np.float32, "im2col"), (8, 2, np.float32, "im2col"),
    (3, (1, 2), np.float32, "im2col"), (8, 1, np.float64, "im2col")])
def test_the_default_rule_picks_direct_kernels_for_few_filters_and_stride_1(monkeypatch, filters, stride, dtype, path):
    monkeypatch.setattr(conv_module, "DIRECT_MAX_FILTERS", 8)
    x, w = np.ones((2, 3, 8, 8), dtype), np.ones((filters, 3, 3, 3), dtype)
    unused = ("im2col", "col2im") if path == "direct" else ("direct_forward", "direct_backward")
    for name in unused:
        monkeypatch.setattr(conv_module, name, None)
    y = conv2d(x, w, stride=stride, padding=1, device="cpu")
    conv2d_backward(y, x, w, stride=stride, padding=1, device="cpu")


@pytest.mark.parametrize("channels, kernel, stride, dtype, winograd", [
    (16, 3, 1, np.float32, True), (15, 3, 1, np.float32, False), (16, 3, 2, np.float32, False),
    (16, 5, 1, np.float32, False), (16, 3, 1, np.float64, False)])
def test_the_default_rule_runs_3x3_layers_with_many_channels_forward_by_winograd(monkeypatch, channels, kernel, stride,
                                                                                 dtype, winograd):
    monkeypatch.setattr(conv_module, "DIRECT_MAX_FILTERS", 8)
    monkeypatch.setattr(conv_module, "WINOGRAD_MIN_CHANNELS", 16)
    x, w = np.ones((2, channels, 8, 8), dtype), np.ones((9, channels, kernel, kernel), dtype)
    unused = ("im2col", "direct_forward") if winograd else ()
    for name in unused:
        monkeypatch.setattr(conv_module, name, None)
    for name in () if winograd else ("input_tiles", "output_tiles"):
        monkeypatch.setattr(winograd_module, name, None)
    conv2d(x, w, stride=stride, padding=1, device="cpu")


@settings(max_examples=40, deadline=None)
@given(case=conv_cases())
def test_im2col_writes_its_documented_layout_and_col2im_is_its_adjoint(case):
    """The two kernels alone: im2col against the layout in its module's docstring, written as loops
    over a padded copy (col starts as NaN, so an entry it leaves unwritten shows), and col2im
    against the definition of the adjoint, <im2col(x), g> = <x, col2im(g)>."""
    x, w, (sh, sw), (ph, pw) = case["x"], case["w"], case["stride"], case["padding"]
    count, channels, height, width = x.shape
    _, _, kernel_h, kernel_w = w.shape
    out_h, out_w = (height + 2 * ph - kernel_h) // sh + 1, (width + 2 * pw - kernel_w) // sw + 1
    col = np.full((channels * kernel_h * kernel_w, count, out_h, out_w), np.nan)
    im2col(x, kernel_h, kernel_w, sh, sw, ph, pw, col)
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    expected = np.empty_like(col)
    for c in range(channels):
        for r in range(kernel_h):
            for s in range(kernel_w):
                for i in range(out_h):
                    for j in range(out_w):
                        expected[(c * kernel_h + r) * kernel_w + s, :, i, j] = padded[:, c, i * sh + r, j * sw + s]
    np.testing.assert_array_equal(col, expected)
    grad = case["rng"].standard_normal(col.shape)
    dx = np.full_like(x, np.nan)  # col2im overwrites all of it
    col2im(grad, kernel_h, kernel_w, sh, sw, ph, pw, dx)
    np.testing.assert_allclose(np.sum(dx * x), np.sum(grad * col), rtol=1e-10, atol=1e-10)
