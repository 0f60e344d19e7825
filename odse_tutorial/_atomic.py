"""Atomic file output: files appear complete under their final names, or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["atomic_output"]

_UMASK = os.umask(0o022)  # read once, at import (reading it means setting it)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` only on success.

    The temporary file lives in the same folder, so the final :func:`os.replace` is
    atomic on POSIX and Windows. If the block raises (or the process is killed), the
    final path is left untouched and the temporary file is removed when possible.
    A set of files (``_atomic_outputs``) is replaced one rename after another: an
    exception puts every old file back, but a process killed during those milliseconds
    can leave some new and some old files (and hidden ``.part`` files). As
    ``predict_maps(..., skip_existing=True)`` re-makes a tile-year only when one of its
    products is missing, delete the folder of a tile-year that a killed run was writing.

    Parameters
    ----------
    path : path-like
        The final file name.
    suffix : str, optional
        Suffix of the temporary file (defaults to the final file's suffix, so that
        drivers choosing a format by extension still work).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "hello.txt"
    >>> with atomic_output(out) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> out.read_text()
    'hello'
    """
    with _atomic_outputs([path], suffix=suffix) as (tmp,):
        yield tmp


@contextlib.contextmanager
def _atomic_outputs(
    paths: Sequence[str | os.PathLike], *, suffix: str | None = None
) -> Iterator[list[Path]]:
    """Like :func:`atomic_output` for a set of files: all replace their final names, or none.

    Old files are first moved aside; if any rename fails, every old file is put back.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "b.txt").mkdir()  # a folder where a file should go: nothing is replaced
    >>> with _atomic_outputs([folder / "a.txt", folder / "b.txt"]) as tmps:  # doctest: +ELLIPSIS
    ...     _ = [tmp.write_text("new") for tmp in tmps]
    Traceback (most recent call last):
    ...
    IsADirectoryError: ...b.txt is a folder, not a file; nothing was replaced. Rename or remove it.
    >>> sorted(p.name for p in folder.iterdir())
    ['b.txt']
    """
    finals, tmps, moved = [Path(p) for p in paths], [], []
    for final in finals:  # before any work: the most common way a rename fails
        if final.is_dir():
            raise IsADirectoryError(f"{final} is a folder, not a file; nothing was replaced. "
                                    "Rename or remove it.")  # fmt: skip
    try:
        for final in finals:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent,
                                        suffix=(final.suffix if suffix is None else suffix) + ".part")  # fmt: skip
            os.close(fd)
            tmps.append(Path(name))
        yield tmps
        for tmp, final in zip(tmps, finals, strict=True):  # old files aside, new ones in place
            old = tmp.with_name(tmp.name + ".old") if final.exists() else None
            if old is not None:
                os.replace(final, old)
            moved.append((final, old))
            os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 would hide the file from others
            os.replace(tmp, final)
    except BaseException:
        for final, old in reversed(moved):  # put every old file back
            os.replace(old, final) if old is not None else final.unlink(missing_ok=True)
        raise
    finally:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
    for _, old in moved:  # every new file is in place: the old ones go, best effort
        with contextlib.suppress(OSError):
            old and old.unlink(missing_ok=True)
