"""Where downloaded datasets are kept."""
from __future__ import annotations

import os
import sys
from pathlib import Path

CACHE_ENV_VAR = "NUTSHELL_DATA"


def default_cache_dir() -> Path:
    """``$NUTSHELL_DATA`` when set, else a ``nutshell`` folder in the user's cache directory."""
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR]).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "nutshell"


def resolve_cache_dir(cache_dir) -> Path:
    """``cache_dir`` if given, else ``default_cache_dir()``."""
    return default_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
