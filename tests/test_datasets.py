"""Tests for nutshell_lib.datasets: shapes, determinism, balance, geometry oracles, IDX and MNIST caching.

No test touches the network: the ``no_network`` fixture makes any real download fail the test.
"""
from __future__ import annotations

import gzip
import hashlib
import urllib.error
import urllib.request

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nutshell_lib import datasets
from nutshell_lib.datasets import mnist_files as mnist_module
from nutshell_lib.datasets.cache import default_cache_dir

TOY_SETS = [datasets.blobs, datasets.moons, datasets.circles, datasets.xor, datasets.spirals]
TOY_CLASSES = {"blobs": 3, "moons": 2, "circles": 2, "xor": 2, "spirals": 3}


def assert_balanced(y, classes):
    counts = np.bincount(y, minlength=classes)
    assert len(counts) == classes
    assert counts.max() - counts.min() <= 1, counts


# ---------------------------------------------------------------- toy 2-d sets


@pytest.mark.parametrize("make", TOY_SETS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_toy_shapes_dtypes_and_balance(make, n):
    X, y = make(n)
    assert X.shape == (n, 2) and X.dtype == np.float64 and np.isfinite(X).all()
    assert y.shape == (n,) and y.dtype == np.int64
    assert_balanced(y, TOY_CLASSES[make.__name__]) if n >= TOY_CLASSES[make.__name__] else None
    assert set(y) <= set(range(TOY_CLASSES[make.__name__]))


@pytest.mark.parametrize("make", TOY_SETS, ids=lambda f: f.__name__)
def test_toy_determinism_under_seed(make):
    X1, y1 = make(50, seed=3)
    X2, y2 = make(50, seed=3)
    X3, y3 = make(50, seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", TOY_SETS, ids=lambda f: f.__name__)
def test_toy_noise_moves_points(make):
    X0, y0 = make(60, noise=0.0, seed=1)
    X1, y1 = make(60, noise=0.3, seed=1)
    np.testing.assert_array_equal(y0, y1)
    assert not np.allclose(X0, X1)


def test_moons_without_noise_lie_on_their_arcs():
    X, y = datasets.moons(200, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert (upper[:, 1] >= 0).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert (lower[:, 1] <= 0.5).all()


def test_circles_without_noise_have_two_radii():
    X, y = datasets.circles(200, noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)


def test_xor_without_noise_label_is_sign_disagreement():
    X, y = datasets.xor(300, noise=0.0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))
    assert (np.abs(X) <= 1).all()


def test_blobs_without_noise_sit_on_one_centre_per_class():
    X, y = datasets.blobs(90, noise=0.0, classes=4)
    assert_balanced(y, 4)
    centres = [np.unique(X[y == k], axis=0) for k in range(4)]
    assert all(c.shape == (1, 2) for c in centres)
    np.testing.assert_allclose([np.hypot(*c[0]) for c in centres], 3.0)


def test_spirals_without_noise_follow_their_arm():
    classes = 3
    X, y = datasets.spirals(300, noise=0.0, classes=classes)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert (radius <= 1).all()
    angle = np.arctan2(X[:, 0], X[:, 1])  # the arms are drawn as (r sin t, r cos t)
    expected = 4 * radius + 2 * np.pi * y / classes
    wrapped = np.angle(np.exp(1j * (angle - expected)))
    np.testing.assert_allclose(wrapped[radius > 1e-6], 0.0, atol=1e-9)


@pytest.mark.parametrize("make", TOY_SETS, ids=lambda f: f.__name__)
def test_toy_bad_arguments(make):
    with pytest.raises(ValueError, match="n must be"):
        make(0)
    with pytest.raises(ValueError, match="n must be"):
        make(-5)
    with pytest.raises(TypeError, match="n must be an int"):
        make(2.5)
    with pytest.raises(ValueError, match="noise"):
        make(10, noise=-0.1)


# ---------------------------------------------------------------- traffic signs

CLEAN = dict(rotation=0, scale=0, shift=0, noise=0, occlusion=0, lighting=0)
PALETTE = {
    "red": (0.8, 0.1, 0.1), "white": (0.95, 0.95, 0.95), "blue": (0.1, 0.3, 0.7),
    "yellow": (1.0, 0.8, 0.1), "black": (0.05, 0.05, 0.05),
}
# Colour at the centre of each sign, read off real signs (written here by hand, not from the catalogue).
CENTRE_COLOUR = {
    "stop": "red", "no entry": "white", "no vehicles": "white", "no parking": "red",
    "end of restrictions": "black", "ahead only": "white", "turn right": "white",
    "general caution": "black", "crossroads": "black", "yield": "white", "priority road": "yellow",
    "pedestrian crossing": "white", "parking": "white",
}
# Most common colour in the middle of each sign (about half its radius around the centre), also by hand.
MAIN_COLOUR = {
    "stop": "red", "no entry": "red", "no vehicles": "white", "no parking": "blue",
    "end of restrictions": "white", "ahead only": "blue", "turn right": "blue",
    "general caution": "white", "crossroads": "white", "yield": "white", "priority road": "yellow",
    "pedestrian crossing": "blue", "parking": "blue",
}


def nearest_palette_colour(rgb: np.ndarray) -> np.ndarray:
    """Names of the palette colours nearest to each RGB triple of ``rgb`` (..., 3)."""
    palette = np.array(list(PALETTE.values()))
    distances = ((rgb[..., None, :] - palette) ** 2).sum(axis=-1)
    return np.array(list(PALETTE))[distances.argmin(axis=-1)]


def test_traffic_signs_shapes_dtypes_ranges_and_balance():
    X, y = datasets.traffic_signs(131, seed=2)
    assert X.shape == (131, 3, 32, 32) and X.dtype == np.float32
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert y.shape == (131,) and y.dtype == np.int64
    assert_balanced(y, len(datasets.TRAFFIC_SIGN_CLASSES))


def test_traffic_signs_are_deterministic_under_seed():
    X1, y1 = datasets.traffic_signs(40, seed=5)
    X2, y2 = datasets.traffic_signs(40, seed=5)
    X3, _ = datasets.traffic_signs(40, seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_traffic_sign_names():
    names = datasets.TRAFFIC_SIGN_CLASSES
    assert len(names) >= 10
    assert len(set(names)) == len(names)
    assert datasets.class_names() == names
    assert set(CENTRE_COLOUR) == set(names)


def test_traffic_sign_labels_match_their_names():
    """With every knob off, each image's colours are those its label's name calls for."""
    X, y = datasets.traffic_signs(13 * 4, seed=0, **CLEAN)
    centre = nearest_palette_colour(X[:, :, 15:17, 15:17].mean(axis=(2, 3)))
    middle = nearest_palette_colour(X[:, :, 10:22, 10:22].transpose(0, 2, 3, 1).reshape(len(X), -1, 3))
    for label, centre_colour, middle_colours in zip(y, centre, middle):
        name = datasets.TRAFFIC_SIGN_CLASSES[label]
        assert centre_colour == CENTRE_COLOUR[name], name
        names, counts = np.unique(middle_colours, return_counts=True)
        assert names[counts.argmax()] == MAIN_COLOUR[name], name


def test_clean_signs_of_one_class_share_the_sign_but_not_the_background():
    X, y = datasets.traffic_signs(26, seed=1, **CLEAN)
    first, second = X[y == 4][:2]  # two clean "end of restrictions" signs
    centre = np.s_[:, 12:20, 12:20]
    corner = np.s_[:, :4, :4]
    assert np.abs(first[centre] - second[centre]).mean() < 0.1
    assert np.abs(first[corner] - second[corner]).mean() > 0.02


@pytest.mark.parametrize("knob, value", [("rotation", 30.0), ("scale", 0.3), ("shift", 0.2), ("noise", 0.1),
                                         ("occlusion", 0.6), ("lighting", 0.8)])
def test_each_knob_changes_the_images(knob, value):
    base, y_base = datasets.traffic_signs(26, seed=3, **CLEAN)
    changed, y_changed = datasets.traffic_signs(26, seed=3, **{**CLEAN, knob: value})
    np.testing.assert_array_equal(y_base, y_changed)
    difference = np.abs(changed - base).max(axis=(1, 2, 3))
    # occlusion hides part of the sign only when the blob is big enough to reach a pixel centre
    assert (difference > 0.05).mean() > (0.5 if knob == "occlusion" else 0.9)


def test_noise_knob_sets_the_noise_level():
    clean, _ = datasets.traffic_signs(20, seed=4, **CLEAN)
    noisy, _ = datasets.traffic_signs(20, seed=4, **{**CLEAN, "noise": 0.05})
    interior = (clean > 0.2) & (clean < 0.8)  # away from the clipping at 0 and 1
    assert abs((noisy - clean)[interior].std() - 0.05) < 0.005
    assert abs((noisy - clean)[interior].mean()) < 0.005


@pytest.mark.parametrize("kwargs, name", [
    (dict(n=0), "n"), (dict(n=-1), "n"), (dict(n=10, rotation=-5), "rotation"), (dict(n=10, scale=1.5), "scale"),
    (dict(n=10, shift=-0.1), "shift"), (dict(n=10, noise=-1), "noise"), (dict(n=10, occlusion=-1), "occlusion"),
    (dict(n=10, lighting=1.5), "lighting"),
])
def test_traffic_signs_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        datasets.traffic_signs(**kwargs)


def test_traffic_signs_refuses_a_float_count():
    with pytest.raises(TypeError, match="n must be an int"):
        datasets.traffic_signs(10.0)


# ---------------------------------------------------------------- digits


def test_digits_are_sklearns_digits_scaled():
    from sklearn.datasets import load_digits

    X, y = datasets.digits()
    reference = load_digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_allclose(X[:, 0] * 16, reference.images, atol=1e-5)
    np.testing.assert_array_equal(y, reference.target)


# ---------------------------------------------------------------- sequences


@pytest.mark.parametrize("lag, n_symbols", [(1, 2), (2, 4), (9, 3), (30, 8)])
def test_long_lag_recall_structure(lag, n_symbols):
    X, y = datasets.long_lag_recall(101, lag, n_symbols=n_symbols, seed=1)
    assert X.shape == (101, lag + 1, n_symbols + 1) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    np.testing.assert_array_equal(X.sum(axis=2), 1.0)
    assert set(np.unique(X)) <= {0.0, 1.0}
    symbols = X.argmax(axis=2)
    np.testing.assert_array_equal(symbols[:, 0], y)  # the target is shown first
    np.testing.assert_array_equal(symbols[:, -1], n_symbols)  # the last step is the query
    assert (symbols[:, :-1] < n_symbols).all()  # the query marker appears nowhere else
    assert_balanced(y, n_symbols)


def test_long_lag_recall_distractors_are_random_and_seeded():
    X1, y1 = datasets.long_lag_recall(200, 10, seed=7)
    X2, y2 = datasets.long_lag_recall(200, 10, seed=7)
    X3, _ = datasets.long_lag_recall(200, 10, seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    distractors = X1[:, 1:-1].argmax(axis=2)
    # the distractors say nothing about the answer: each step agrees with it about 1/4 of the time
    assert abs((distractors == y1[:, None]).mean() - 0.25) < 0.05


@pytest.mark.parametrize("kwargs, name", [(dict(n=0, lag=3), "n"), (dict(n=5, lag=0), "lag"),
                                          (dict(n=5, lag=-2), "lag"), (dict(n=5, lag=3, n_symbols=1), "n_symbols")])
def test_long_lag_recall_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        datasets.long_lag_recall(**kwargs)


@pytest.mark.parametrize("T", [2, 3, 10, 51])
def test_adding_problem_structure(T):
    X, y = datasets.adding_problem(64, T, seed=2)
    assert X.shape == (64, T, 2) and X.dtype == np.float32
    assert y.shape == (64,) and y.dtype == np.float32
    values, markers = X[:, :, 0], X[:, :, 1]
    assert ((values >= 0) & (values < 1)).all()
    np.testing.assert_array_equal(markers[:, : T // 2].sum(axis=1), 1)
    np.testing.assert_array_equal(markers[:, T // 2:].sum(axis=1), 1)
    expected = np.array([sum(v for v, m in zip(row_v, row_m) if m == 1) for row_v, row_m in zip(values, markers)])
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_adding_problem_chance_level_is_one_sixth():
    _, y = datasets.adding_problem(40000, 6, seed=0)
    assert abs(np.mean((y - 1.0) ** 2) - 1 / 6) < 0.005


def test_adding_problem_is_seeded_and_checks_arguments():
    np.testing.assert_array_equal(datasets.adding_problem(5, 8, seed=1)[0], datasets.adding_problem(5, 8, seed=1)[0])
    assert not np.array_equal(datasets.adding_problem(5, 8, seed=1)[0], datasets.adding_problem(5, 8, seed=2)[0])
    with pytest.raises(ValueError, match="^T must be"):
        datasets.adding_problem(5, 1)
    with pytest.raises(ValueError, match="^n must be"):
        datasets.adding_problem(0, 5)


# ---------------------------------------------------------------- IDX files

IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
             np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode ``array`` as IDX, written from the format's description (independently of read_idx)."""
    header = bytes([0, 0, IDX_CODES[array.dtype], array.ndim])
    sizes = np.array(array.shape, dtype=">u4").tobytes()
    return header + sizes + array.astype(array.dtype.newbyteorder(">")).tobytes()


@settings(max_examples=40, deadline=None)
@given(
    dtype=st.sampled_from(list(IDX_CODES)),
    shape=st.lists(st.integers(0, 5), min_size=1, max_size=4),
    compressed=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_read_idx_round_trip(tmp_path_factory, dtype, shape, compressed, seed):
    rng = np.random.default_rng(seed)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    data = idx_bytes(array)
    path = tmp_path_factory.mktemp("idx") / "file.idx"
    path.write_bytes(gzip.compress(data) if compressed else data)
    result = datasets.read_idx(path)
    assert result.dtype == dtype and result.shape == tuple(shape)
    np.testing.assert_array_equal(result, array)


def test_read_idx_rejects_bad_headers_and_sizes(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x01\x00\x08\x01" + np.array([3], ">u4").tobytes() + b"abc")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(path)
    path.write_bytes(idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))[:-1])
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        datasets.read_idx(path)


# ---------------------------------------------------------------- MNIST download and cache


@pytest.fixture
def no_network(monkeypatch):
    """Any real network access fails the test."""

    def refuse(*args, **kwargs):
        pytest.fail("a test tried to use the network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def tiny_mnist_files(n_train=5, n_test=3, seed=0):
    """Gzipped IDX bytes for a tiny fake MNIST, keyed by file name, plus the arrays they hold."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    return {name: gzip.compress(idx_bytes(array)) for name, array in arrays.items()}, arrays


@pytest.fixture
def fake_mirror(monkeypatch, no_network):
    """Serve tiny fake MNIST files instead of downloading; their checksums replace the published ones."""
    served = {}
    for folder, seed in (("mnist", 0), ("fashion-mnist", 1)):
        files, arrays = tiny_mnist_files(seed=seed)
        for name, data in files.items():
            key = f"{folder}/{name}"
            served[mnist_module.url_of(key)] = data
            monkeypatch.setitem(mnist_module.SHA256, key, hashlib.sha256(data).hexdigest())
        served[folder] = arrays
    downloads = []

    def fake_download(url, destination):
        downloads.append(url)
        destination.write_bytes(served[url])

    monkeypatch.setattr(mnist_module, "download", fake_download)
    return served, downloads


@pytest.mark.parametrize("kind, folder", [("digits", "mnist"), ("fashion", "fashion-mnist")])
def test_mnist_downloads_once_and_reads_the_files(tmp_path, fake_mirror, kind, folder):
    served, downloads = fake_mirror
    (X_train, y_train), (X_test, y_test) = datasets.mnist(kind, cache_dir=tmp_path)
    arrays = served[folder]
    assert X_train.shape == (5, 1, 28, 28) and X_test.shape == (3, 1, 28, 28)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0 <= X_train.min() and X_train.max() <= 1
    np.testing.assert_allclose(X_train[:, 0] * 255, arrays["train-images-idx3-ubyte.gz"], atol=1e-3)
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte.gz"])
    np.testing.assert_allclose(X_test[:, 0] * 255, arrays["t10k-images-idx3-ubyte.gz"], atol=1e-3)
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert len(downloads) == 4 and all(url.startswith(mnist_module.MIRRORS[folder]) for url in downloads)
    assert sorted(p.name for p in (tmp_path / folder).iterdir()) == sorted(mnist_module.FILES)

    datasets.mnist(kind, cache_dir=tmp_path)
    assert len(downloads) == 4  # the second call reads the cache


def test_cache_dir_comes_from_the_argument_then_the_environment(tmp_path, monkeypatch, fake_mirror):
    monkeypatch.setenv("NUTSHELL_DATA", str(tmp_path / "from_env"))
    assert default_cache_dir() == tmp_path / "from_env"
    datasets.mnist("digits")
    assert (tmp_path / "from_env" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()
    datasets.mnist("digits", cache_dir=tmp_path / "from_argument")
    assert (tmp_path / "from_argument" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()


def test_default_cache_dir_without_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("NUTSHELL_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("sys.platform", "linux")
    assert default_cache_dir() == tmp_path / "nutshell"


def test_offline_error_says_what_to_download_and_where(tmp_path, monkeypatch, no_network):
    def unreachable(url, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)  # the real download() meets no network
    with pytest.raises(datasets.DownloadError) as error:
        datasets.mnist("fashion", cache_dir=tmp_path)
    message = str(error.value)
    assert "name resolution" in message
    assert str(tmp_path) in message
    for name in mnist_module.FILES:
        assert mnist_module.MIRRORS["fashion-mnist"] + name in message
    assert not list((tmp_path / "fashion-mnist").iterdir())  # no partial file left behind


def test_offline_error_lists_only_the_missing_files(tmp_path, fake_mirror, monkeypatch):
    datasets.mnist("digits", cache_dir=tmp_path)
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").unlink()

    def offline(url, destination):
        raise OSError("network is unreachable")

    monkeypatch.setattr(mnist_module, "download", offline)
    with pytest.raises(datasets.DownloadError, match="t10k-images") as error:
        datasets.mnist("digits", cache_dir=tmp_path)
    assert "train-images" not in str(error.value)


def test_corrupt_cached_file_is_reported(tmp_path, fake_mirror):
    datasets.mnist("digits", cache_dir=tmp_path)
    corrupt = tmp_path / "mnist" / "train-labels-idx1-ubyte.gz"
    corrupt.write_bytes(corrupt.read_bytes()[:-3])
    with pytest.raises(datasets.ChecksumError, match="train-labels-idx1-ubyte.gz has SHA-256") as error:
        datasets.mnist("digits", cache_dir=tmp_path)
    assert mnist_module.SHA256["mnist/train-labels-idx1-ubyte.gz"] in str(error.value)


def test_corrupt_download_is_reported_and_not_kept(tmp_path, fake_mirror, monkeypatch):
    def truncated(url, destination):
        destination.write_bytes(b"\x1f\x8b not the real file")

    monkeypatch.setattr(mnist_module, "download", truncated)
    with pytest.raises(datasets.ChecksumError, match="download was corrupt"):
        datasets.fetch("mnist/t10k-labels-idx1-ubyte.gz", tmp_path)
    assert not list((tmp_path / "mnist").iterdir())


def test_published_checksums_are_well_formed():
    assert set(mnist_module.SHA256) == {f"{folder}/{name}" for folder in ("mnist", "fashion-mnist")
                                        for name in mnist_module.FILES}
    assert all(len(value) == 64 and int(value, 16) >= 0 for value in mnist_module.SHA256.values())
    assert len(set(mnist_module.SHA256.values())) == 8


def test_mnist_and_fetch_bad_arguments(tmp_path, no_network):
    with pytest.raises(ValueError, match="^kind must be one of"):
        datasets.mnist("kmnist", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="^file must be one of"):
        datasets.fetch("mnist/readme.txt", tmp_path)
