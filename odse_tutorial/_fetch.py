"""Fetching a dataset's files with pooch, from their home URL or a mirror (a URL or a folder).

pooch does the work: the registry of SHA-256 digests, the cache folder (and its
environment variable), the download into a temporary file that is moved into place only
when its digest matches, and the download again of a cached file that fails its check.
This module adds what pooch has not: a mirror set by an environment variable, a
downloader for local folders, one log line per dataset, and errors that name the file,
the problem and the fix.
"""

from __future__ import annotations

import logging
import os
import shutil
import urllib.parse
import urllib.request
from pathlib import Path

import pooch

logger = logging.getLogger(__name__)

#: The registries (``sha256sum`` format) shipped with the package.
REGISTRIES = Path(__file__).resolve().parent / "registries"


def read_sha256sums(path: str | os.PathLike) -> dict[str, str]:
    """``relative path -> SHA-256`` from a file in ``sha256sum`` format.

    Examples
    --------
    >>> registry = read_sha256sums(REGISTRIES / "simulated.sha256")
    >>> registry["dataset.json"][:12], len(registry)
    ('01990d4d69e3', 307)
    """
    lines = Path(path).read_text().split("\n")
    return {name: digest for digest, name in (line.split(maxsplit=1) for line in lines if line)}


def _copy_file(url: str, output_file: str, pup: pooch.Pooch) -> None:
    """A pooch downloader for ``file://`` URLs (pooch has none): copy the local file."""
    shutil.copyfile(_local_path(url), output_file)


def _local_path(url: str) -> str:
    return urllib.request.url2pathname(urllib.parse.urlparse(url).path)


def _as_base_url(source: str) -> str:
    """A base URL ending in "/" from a URL, a ``file://`` URL or a local folder."""
    if "://" not in source:
        source = Path(source).expanduser().resolve().as_uri()
    return source.rstrip("/") + "/"


def fetch(
    what: str,
    registry: dict[str, str],
    *,
    path: str | os.PathLike,
    base_url: str,
    source_env: str,
    cache_env: str | None = None,
    version: str | None = None,
) -> Path:
    """Fetch every file of ``registry`` into pooch's cache; return the cache folder.

    ``base_url`` (formatted with ``version``, as :func:`pooch.create` does) is replaced
    by the mirror in the environment variable ``source_env`` when it is set: an HTTP(S)
    base URL, a ``file://`` URL or a local folder holding the same relative paths.

    Raises
    ------
    OSError
        Naming the file that could not be fetched or failed its SHA-256 check, and the fix.
    """
    mirror = os.environ.get(source_env)
    local = bool(mirror) and _as_base_url(mirror).startswith("file:")
    pup = pooch.create(
        path=path,
        base_url=_as_base_url(mirror) if mirror else base_url,
        version=version,
        version_dev="main",
        env=cache_env,
        registry=registry,
        retry_if_failed=0 if local else 2,
    )
    # A stalled connection fails instead of hanging.
    downloader = _copy_file if local else pooch.HTTPDownloader(timeout=60)
    home = base_url.format(version=version and pooch.check_version(version, fallback="main"))
    fetched: dict[str, str] = {}  # file name -> pooch's verb: "Downloading" or "Updating"

    def one_line_per_dataset(record: logging.LogRecord) -> bool:
        """Keep pooch's line per fetched file (verb, file name, ...) for our summary."""
        if record.args and record.args[0] in ("Downloading", "Updating"):
            fetched[record.args[1]] = record.args[0]
        return record.levelno >= logging.WARNING

    pooch.get_logger().addFilter(one_line_per_dataset)
    try:
        for fname in registry:
            try:
                pup.fetch(fname, downloader=downloader)
            except (ValueError, OSError) as err:
                raise _error(what, pup, fname, err, source_env, home, fetched) from err
            if fetched.get(fname) == "Updating":
                logger.warning(
                    "%s: the cached file %s was corrupted or incomplete (SHA-256 "
                    "mismatch); fetched it again from %s.",
                    what,
                    pup.abspath / fname,
                    pup.base_url,
                )
    finally:
        pooch.get_logger().removeFilter(one_line_per_dataset)
    logger.info("%s: %d files checked in %s, %d fetched from %s.",
                what, len(registry), pup.abspath, len(fetched), pup.base_url)  # fmt: skip
    return Path(pup.abspath)


def _error(
    what: str,
    pup: pooch.Pooch,
    fname: str,
    err: Exception,
    source_env: str,
    home_url: str,
    fetched: dict[str, str],
) -> OSError:
    """An error naming the file, what went wrong, and the fix."""
    url, target = pup.get_url(fname), pup.abspath / fname
    local = url.startswith("file:")
    where = _local_path(url) if local else url
    elsewhere = (
        f"unset {source_env} to download from {home_url}"
        if os.environ.get(source_env)
        else f"set {source_env} to a mirror (a base URL, or a folder with the same files)"
    )
    intro = (
        f"The cached file {target} is corrupted or incomplete (SHA-256 mismatch) and was not "
        "used; fetching it again failed. "
        if fetched.get(fname) == "Updating"
        else ""
    )
    if isinstance(err, ValueError):  # pooch: the digest of the new copy does not match
        problem = (
            f"{fname!r} from {where} failed its SHA-256 check (expected {pup.registry[fname]}): "
            "that copy is corrupted or incomplete; it was discarded, not used."
        )
        fix = (
            f"replace {where} with an intact copy, or {elsewhere}."
            if local
            else f"try again (a download cut off in transit); if it fails again, {elsewhere}."
        )
    elif local and isinstance(err, FileNotFoundError):
        folder = Path(where.removesuffix(fname))
        problem = f"{fname!r} is missing from the mirror folder {folder}" + (
            "." if folder.is_dir() else ": that folder does not exist."
        )
        fix = f"copy the complete dataset there (here {where}), or {elsewhere}."
    else:
        problem = f"Could not fetch {fname!r} from {where}: {err}."
        fix = f"check the internet connection and that {target.parent} is writable, or {elsewhere}."
    return OSError(f"{what}: {intro}{problem} Fix: {fix}")
