"""Let learners load the kernels an administrator compiled into a shared, read-only install.

Numba caches compiled kernels in ``__pycache__`` next to the source, but only uses a folder it can
write. On a hub, the admin installs the kit into a root-owned environment and runs ``nutshell
warm`` there; each learner is another user, so Numba skips that cache and would compile every
kernel again into the learner's home (seconds of CPU per learner, at the same moment for a whole
workshop). Before any kernel is defined, this copies the admin's cache files into the folder
Numba will use for this user, where they are missing or older. The files are ~1 MB; Numba itself
checks that they match the source (a hash of each file) and recompiles anything that does not.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from numba.core import caching

# Numba 0.59-0.60 call it _CacheImpl; later releases CacheImpl. Its locator list is the order in
# which Numba itself picks a cache folder.
CACHE_IMPL = getattr(caching, "CacheImpl", None) or caching._CacheImpl

CACHE_SUFFIXES = (".nbi", ".nbc")


def where_numba_caches(python_function) -> Path | None:
    """The folder Numba will cache ``python_function``'s kernels in, found as Numba finds it."""
    source = python_function.__code__.co_filename
    for locator_class in CACHE_IMPL._locator_classes:
        locator = locator_class.from_function(python_function, source)
        if locator is not None:
            return Path(locator.get_cache_path())
    return None


def is_writable(folder: Path) -> bool:
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def seed_from_install(python_function) -> int:
    """Copy the install's own cache (``__pycache__`` beside the source of ``python_function``) into
    the folder Numba will use, when that is another folder. Returns the number of files copied."""
    shipped = Path(python_function.__code__.co_filename).parent / "__pycache__"
    target = where_numba_caches(python_function)
    if target is None or not shipped.is_dir() or target.resolve() == shipped.resolve() or not is_writable(target):
        return 0
    copied = 0
    for source in shipped.iterdir():
        if source.suffix not in CACHE_SUFFIXES:
            continue
        destination = target / source.name
        try:
            if destination.exists() and destination.stat().st_mtime >= source.stat().st_mtime:
                continue
            # Write beside, then rename: another kernel of the same learner may be loading it now.
            partial = destination.with_name(f".{source.name}.{os.getpid()}")
            shutil.copyfile(source, partial)
            os.replace(partial, destination)
            copied += 1
        except OSError:
            continue  # an unreadable file is compiled as usual instead
    return copied
