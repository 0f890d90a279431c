"""rareval as a user gets it from a wheel, without the repository.

The wheel is built from a copy of the package's sources (the checkout is not written to), installed with
no dependencies into a ``site-packages`` folder outside the checkout (the name matters: Inspect namespaces
the tasks of a package it finds on a ``site-packages`` path, ``rareval/healthbench``), and run from
another folder with that folder first on ``PYTHONPATH``; the virtualenv supplies the dependencies.
Each command runs under an audit hook that records every file opened inside the checkout (the
virtualenv, which lives there, aside) and every ``rareval`` module loaded from anywhere but the
installed copy: a file missing from the wheel that the checkout's editable install would quietly supply
fails here. Under a minute on 2 cores (one wheel, four processes; 56 s measured with other jobs running), so it
runs in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from inspect_ai.log import read_eval_log

ROOT = Path(__file__).resolve().parents[1]
TASKS = ("healthbench", "gpqa_diamond", "healthbench_meta_eval", "judge_alignment")

#: Runs a console script of the installed distributions (``rareval``, ``inspect``) as its ``bin/``
#: launcher does, and writes to ``$PROBE_REPORT`` what it read from the checkout.
PROBE = r"""
import atexit, json, os, sys
from importlib.metadata import entry_points

checkout, venv, installed = (os.path.realpath(os.environ[k]) for k in ("PROBE_CHECKOUT", "PROBE_VENV",
                                                                        "PROBE_SITE"))
opened = set()

def inside(path, folder):
    return path == folder or path.startswith(folder + os.sep)

def audit(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if inside(path, checkout) and not inside(path, venv):
            opened.add(path)

def where(module):  # a module's file; a namespace package (rareval.evals) has only its folders
    file = getattr(module, "__file__", None)
    return [file] if file else list(getattr(module, "__path__", None) or [None])

def report():
    modules = {name: where(module) for name, module in list(sys.modules.items())
               if name == "rareval" or name.startswith("rareval.")}
    outside = {n: f for n, f in modules.items()
               if not all(p and inside(os.path.realpath(p), installed) for p in f)}
    with open(os.environ["PROBE_REPORT"], "w") as f:
        json.dump({"opened": sorted(opened), "modules": len(modules), "outside": outside}, f)

sys.addaudithook(audit)
atexit.register(report)
[script] = entry_points(group="console_scripts", name=sys.argv[1])
sys.argv = sys.argv[1:]
sys.exit(script.load()())
"""


def _copy_sources(dest: Path) -> Path:
    """What the wheel is built from: pyproject.toml, README.md and the package, without caches."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "rareval", dest / "rareval", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def _pip(*args: str) -> None:
    run = subprocess.run([sys.executable, "-m", "pip", *args, "--no-deps", "--quiet", "--disable-pip-version-check"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> SimpleNamespace:
    tmp = tmp_path_factory.mktemp("installed")
    assert not tmp.resolve().is_relative_to(ROOT), "the temporary folder must be outside the checkout"
    _pip("wheel", "--no-build-isolation", "-w", str(tmp / "dist"), str(_copy_sources(tmp / "src")))
    [wheel] = (tmp / "dist").glob("rareval-*.whl")
    site = tmp / "site-packages"
    _pip("install", "--target", str(site), str(wheel))
    (tmp / "work").mkdir()
    return SimpleNamespace(tmp=tmp, wheel=wheel, site=site, work=tmp / "work")


def run_installed(installed: SimpleNamespace, script: str, *args: str, cwd: Path | None = None
                  ) -> tuple[subprocess.CompletedProcess, dict]:
    """``script args…`` (a console script) with only the installed copy on the path, and its probe report."""
    report = installed.tmp / "probe.json"
    report.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "RAREVAL_", "INSPECT_"))}
    env.update(PYTHONPATH=str(installed.site), PROBE_CHECKOUT=str(ROOT), PROBE_VENV=sys.prefix,
               PROBE_SITE=str(installed.site), PROBE_REPORT=str(report), RAREVAL_OFFLINE="1",
               RAREVAL_CACHE_DIR=str(installed.tmp / "cache"), INSPECT_LOG_DIR=str(installed.tmp / "logs"))
    run = subprocess.run([sys.executable, "-c", PROBE, script, *args], cwd=cwd or installed.work, env=env,
                         capture_output=True, text=True, timeout=600, check=False)
    probe = json.loads(report.read_text())
    assert probe["opened"] == [], f"read from the checkout: {probe['opened']}"
    assert probe["outside"] == {}, f"rareval modules not from the installed copy: {probe['outside']}"
    return run, probe


def test_the_wheel_holds_every_file_the_package_reads(installed):
    """Prompts, calibrations, fixtures, catalogs and configs: every file of the package that is not code."""
    data = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rareval").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".py", ".pyc"}}
    assert data, "the package has data files"
    assert data - set(zipfile.ZipFile(installed.wheel).namelist()) == set()


def test_rareval_help_runs_from_the_installed_copy(installed):
    run, probe = run_installed(installed, "rareval", "--help")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("usage: rareval") and "reproduce" in run.stdout
    assert probe["modules"] > 0


def test_inspect_lists_and_resolves_the_installed_tasks(installed):
    """``inspect list tasks rareval`` in the installed folder shows the four tasks, and each resolves by its
    registered name ``rareval/<task>`` (what ``inspect eval rareval/<task>`` looks up)."""
    run, _ = run_installed(installed, "inspect", "list", "tasks", "rareval", cwd=installed.site)
    assert run.returncode == 0, run.stderr[-2000:]
    assert {line.split("@")[-1] for line in run.stdout.split()} >= set(TASKS), run.stdout
    lookup = ("from inspect_ai._util.registry import registry_info, registry_lookup\n"
              f"for name in {TASKS!r}:\n"
              "    print(registry_info(registry_lookup('task', 'rareval/' + name)).name)\n")
    run = subprocess.run([sys.executable, "-c", lookup], cwd=installed.work, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(installed.site)}, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == [f"rareval/{name}" for name in TASKS]


def test_a_scripted_healthbench_eval_runs_from_the_installed_wheel(installed):
    logs = installed.tmp / "eval-logs"
    run, _ = run_installed(installed, "inspect", "eval", "rareval/healthbench", "--model", "scripted/policy",
                           "-M", "reply=Drink water and rest.", "--model-role", "grader=scripted/keyword",
                           "--limit", "1", "--log-dir", str(logs), "--display", "plain")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    [log_file] = logs.glob("*.eval")
    log = read_eval_log(str(log_file))
    assert log.status == "success" and log.eval.task == "rareval/healthbench"
    [sample] = log.samples
    assert isinstance(sample.scores["healthbench_scorer"].value, float)
    assert log.results.scores[0].metrics
    assert str(ROOT) not in log.model_dump_json().replace(sys.prefix, "<venv>")
