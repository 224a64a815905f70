"""MNIST and Fashion-MNIST: downloaded once into a cache folder, checked, read with NumPy.

``fetch`` makes sure one file is in the cache (downloading it if needed) and that its SHA-256 matches
the published one; ``read_idx`` parses it; ``mnist`` puts the four files of a set together. Nothing
is downloaded when the files are already there, so after one download (or a manual copy) it all works
offline.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
from pathlib import Path

import numpy as np

from .cache import CACHE_ENV_VAR, resolve_cache_dir
from .idx import read_idx

KINDS = {"digits": "mnist", "fashion": "fashion-mnist"}  # kind -> folder in the cache
FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
MIRRORS = {
    # yann.lecun.com no longer serves the files reliably; this is the mirror PyTorch uses.
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}
# Published SHA-256 sums of the gzipped files, keyed by their path inside the cache folder.
SHA256 = {
    "mnist/train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "mnist/train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "mnist/t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "mnist/t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    "fashion-mnist/train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "fashion-mnist/train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "fashion-mnist/t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "fashion-mnist/t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
DOWNLOAD_TIMEOUT_S = 60


class DownloadError(OSError):
    """A dataset file is missing and could not be downloaded (offline, or the mirror is down)."""


class ChecksumError(ValueError):
    """A dataset file's SHA-256 differs from the published one: it is corrupt or incomplete."""


def url_of(file: str) -> str:
    """Download address of ``file``, a path such as ``"mnist/train-images-idx3-ubyte.gz"``."""
    folder, name = file.split("/", 1)
    return MIRRORS[folder] + name


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, destination: Path) -> None:
    """Copy ``url`` to ``destination``. The only function here that touches the network."""
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(destination, "wb") as out:
        shutil.copyfileobj(response, out)


def fetch(file: str, cache_dir=None) -> Path:
    """Return the path of ``file`` in the cache, downloading it first if it is not there.

    ``file`` is a key of ``SHA256`` such as ``"mnist/train-images-idx3-ubyte.gz"``. ``cache_dir``
    defaults to ``$NUTSHELL_DATA`` or the user's cache directory (see ``cache.default_cache_dir``).
    Raises DownloadError when the file is missing and cannot be downloaded, and ChecksumError when the
    file (cached or just downloaded) does not match its published SHA-256.
    """
    if file not in SHA256:
        raise ValueError(f"file must be one of {sorted(SHA256)}, got {file!r}")
    path = resolve_cache_dir(cache_dir) / file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")  # never leave a half-written file under the real name
        try:
            download(url_of(file), partial)
        except OSError as error:  # urllib's URLError and socket timeouts are OSErrors
            partial.unlink(missing_ok=True)
            raise DownloadError(f"could not download {file}: {error}\n" + manual_download_help([file], path.parent.parent)) from error
        _check(partial, file, downloaded=True)
        os.replace(partial, path)
    _check(path, file, downloaded=False)
    return path


def _check(path: Path, file: str, downloaded: bool) -> None:
    actual = sha256_of(path)
    if actual != SHA256[file]:
        if downloaded:
            path.unlink()
        advice = "the download was corrupt; try again" if downloaded else f"delete {path} and run again to download it"
        raise ChecksumError(f"{path} has SHA-256 {actual}, expected {SHA256[file]}: {advice}")


def manual_download_help(files, cache_dir: Path) -> str:
    """Instructions for downloading ``files`` by hand into ``cache_dir``."""
    lines = [f"To use it offline, download these files (keep them gzipped) into {cache_dir}:"]
    lines += [f"  {url_of(file)}  ->  {cache_dir / file}" for file in files]
    lines.append(f"(pass cache_dir=... or set {CACHE_ENV_VAR} to use another folder)")
    return "\n".join(lines)


def mnist(kind: str = "digits", cache_dir=None):
    """MNIST handwritten digits (kind="digits") or Fashion-MNIST clothes (kind="fashion").

    Downloads the four IDX files once into ``cache_dir`` (default: ``$NUTSHELL_DATA`` or the user's
    cache directory) and checks their SHA-256.

    Returns ((X_train, y_train), (X_test, y_test)):
      X_*: float32 arrays (n, 1, 28, 28), pixel intensities in [0, 1], NCHW (n = 60000 and 10000).
      y_*: int64 arrays (n,), the class 0..9.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    cache_dir = resolve_cache_dir(cache_dir)
    files = [f"{KINDS[kind]}/{name}" for name in FILES]
    missing = [file for file in files if not (cache_dir / file).exists()]
    try:
        paths = [fetch(file, cache_dir) for file in files]
    except DownloadError as error:
        raise DownloadError(f"could not download {kind} MNIST ({error.__cause__})\n"
                            + manual_download_help(missing, cache_dir)) from error.__cause__
    train_images, train_labels, test_images, test_labels = paths
    return _images_and_labels(train_images, train_labels), _images_and_labels(test_images, test_labels)


def _images_and_labels(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images_path} and {labels_path} do not match: images {images.shape}, labels {labels.shape}")
    X = (images[:, None] / np.float32(255)).astype(np.float32)
    return X, labels.astype(np.int64)
