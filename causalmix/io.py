"""Files the project writes and reads back: atomic writes and checked checksums.

- :func:`atomic_write` writes through a temporary name in the same folder and renames it onto the
  target, so a reader (or a kill, or a full disk) sees the old file or the new one, never half.
- :func:`check_sha256` refuses a file whose sha256 is not the one recorded for it (a published
  table, a dataset file), naming the file and both hashes. ``CAUSALMIX_VERIFY_CHECKSUMS=0`` (the
  command line's ``--no-verify-checksums``) turns the check off, for a file changed on purpose.

>>> import tempfile; target = Path(tempfile.mkdtemp()) / "a.txt"
>>> atomic_write(target, lambda p: p.write_text("hello"))
>>> check_sha256(target, "0" * 64)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
causalmix.io.ChecksumError: ...a.txt has sha256 2cf24dba..., but 00000000... was recorded for it: ...
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from causalmix.provenance import file_sha256

__all__ = ["CHECKSUMS_ENV", "ChecksumError", "atomic_write", "check_sha256", "checksums_enabled", "load_yaml",
           "markdown_table", "write_bytes_atomic"]

#: Environment variable: ``0`` skips the sha256 checks of :func:`check_sha256`.
CHECKSUMS_ENV = "CAUSALMIX_VERIFY_CHECKSUMS"


class ChecksumError(ValueError):
    """A file's content is not the content recorded for it."""


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` then rename onto ``path``: readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (no half-written file)."""
    atomic_write(path, lambda p: p.write_bytes(data))


def checksums_enabled() -> bool:
    """False when ``CAUSALMIX_VERIFY_CHECKSUMS=0`` (or ``false``/``no``/``off``)."""
    return os.environ.get(CHECKSUMS_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


def check_sha256(path: str | os.PathLike, expected: str | None, *, what: str = "file", fix: str = "") -> str:
    """The sha256 of ``path``; ChecksumError when ``expected`` is given and differs (unless checks are off).

    The message names the file, the sha256 recorded for it and the one it has, and ``fix``.
    """
    actual = file_sha256(path)
    if expected and actual != expected and checksums_enabled():
        raise ChecksumError(
            f"The {what} {path} has sha256 {actual}, but {expected} was recorded for it: it was changed, truncated "
            f"or replaced since. {fix + ' ' if fix else ''}Refusing to use it (set {CHECKSUMS_ENV}=0, or pass "
            "--no-verify-checksums, only for a file changed on purpose)."
        )
    return actual


#: Limits of :func:`load_yaml`: a configuration is a few KB; aliases that expand it past this many
#: nodes ("billion laughs") are refused before anything is built from them.
YAML_MAX_BYTES = 1 << 20
YAML_MAX_NODES = 100_000


def load_yaml(path: str | os.PathLike, *, max_bytes: int = YAML_MAX_BYTES, max_nodes: int = YAML_MAX_NODES):
    """A YAML file's content, safely: ``yaml.SafeLoader`` (no Python tags), at most ``max_bytes``,
    and at most ``max_nodes`` nodes once its aliases are expanded (no recursive aliases). Errors
    are ValueError naming the file (and the line, for malformed YAML).

    >>> import tempfile; bomb = Path(tempfile.mkdtemp()) / "bomb.yaml"
    >>> _ = bomb.write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\\n" + "".join(
    ...     f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\\n" for p, c in zip("abcdefg", "bcdefgh")))
    >>> load_yaml(bomb)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...bomb.yaml: its aliases expand to more than 100000 values...
    """
    import yaml

    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ValueError(f"{path}: {size} bytes, more than a configuration's limit of {max_bytes}.")
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"Cannot read {path}: {err}.") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        sizes: dict[int, int] = {}
        active: set[int] = set()

        def count(n) -> int:
            if id(n) in sizes:
                return sizes[id(n)]
            if id(n) in active:
                raise ValueError(f"{path}: a recursive alias (line {n.start_mark.line + 1}); not allowed.")
            active.add(id(n))
            if isinstance(n, yaml.SequenceNode):
                total = 1 + sum(count(c) for c in n.value)
            elif isinstance(n, yaml.MappingNode):
                total = 1 + sum(count(k) + count(v) for k, v in n.value)
            else:
                total = 1
            active.discard(id(n))
            sizes[id(n)] = total
            if total > max_nodes:
                raise ValueError(f"{path}: its aliases expand to more than {max_nodes} values (line "
                                 f"{n.start_mark.line + 1}); a configuration this large is refused.")
            return total

        count(node)
        return loader.construct_document(node)
    except yaml.YAMLError as err:
        raise ValueError(f"{path} is not valid YAML: {' '.join(str(err).split())}") from None
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply.") from None
    finally:
        loader.dispose()


def markdown_table(text: str, first: str | None = None) -> list[list[str]]:
    """The cells of the first markdown table in ``text`` (whose first header cell is ``first``, when given):
    header row first, the separator row dropped, ``\\|`` read as a literal ``|``; ``[]`` when there is none.

    >>> markdown_table("intro\\n| a | b |\\n|---|---|\\n| 1 | x \\\\| y |\\n\\nafter")
    [['a', 'b'], ['1', 'x | y']]
    """
    def cells(line: str) -> list[str]:
        return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]

    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("|")
                  and (first is None or cells(line)[0] == first)), None)
    rows = []
    for line in lines[start:] if start is not None else []:
        if not line.lstrip().startswith("|"):
            break
        if not re.fullmatch(r"\|?[\s:|-]+\|?", line.strip()):
            rows.append(cells(line))
    return rows
