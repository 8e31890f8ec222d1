"""Dataset names and paths, and :class:`DatasetError`, the error every data module raises.

Names are names, never paths: :func:`check_name` enforces :data:`NAME_RULE` and :func:`safe_path`
keeps every file written inside its folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any


class DatasetError(ValueError):
    """A dataset that cannot be loaded or split as asked; the message says what to do."""



# --- names and paths ----------------------------------------------------------------------

NAME_RULE = "[A-Za-z0-9][A-Za-z0-9._-]*"
_NAME_RE = re.compile(NAME_RULE)
NAME_MAX_LENGTH = 128


def check_name(name: Any, what: str = "dataset name") -> str:
    """Return ``name`` if it is a plain name (``NAME_RULE``, at most 128 characters), else raise.

    Names become file names, so they never hold path separators, spaces, or ``.``/``..``.

    >>> check_name("credit-g")
    'credit-g'
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise DatasetError(
            f"Invalid {what} {name!r}: a name must match {NAME_RULE} (letters, digits, '.', '_' and '-', "
            "starting with a letter or digit; no spaces, no '/' or '\\'). A file path is not a name: "
            "choose a plain name such as 'my-data'."
        )
    if len(name) > NAME_MAX_LENGTH:
        raise DatasetError(f"Invalid {what} {name[:40]!r}...: {len(name)} characters, at most {NAME_MAX_LENGTH}.")
    return name


def sanitize_name(text: str, fallback: str = "dataset") -> str:
    """A valid name made from ``text`` (e.g. a file stem): other characters become ``-``.

    >>> sanitize_name("my data (v2)")
    'my-data-v2'
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text).lstrip("._-").rstrip("-")[:NAME_MAX_LENGTH]
    return name or fallback


def safe_path(folder: str | os.PathLike, filename: str | os.PathLike) -> Path:
    """The resolved path of ``filename`` inside ``folder``; ValueError if it would land outside.

    Catches ``..``, absolute paths and symbolic links that point out of ``folder``.

    >>> safe_path("out", "../x.json")                          # doctest: +SKIP
    Traceback (most recent call last):
    ValueError: Refusing to use '../x.json': ...
    """
    root = Path(folder).resolve()
    path = (root / filename).resolve()
    if root not in path.parents:
        raise DatasetError(
            f"Refusing to use {str(filename)!r}: it resolves to {path}, outside the folder {root}. "
            "Names must be plain file names inside their folder."
        )
    return path



def _normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")
