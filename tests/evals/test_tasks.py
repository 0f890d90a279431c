"""rareval's tasks, registered (``rareval/healthbench``) and as the repository's task files (``tasks/``).

A task file declares the registered task under its plain name (:func:`rareval.evals.tasks.as_task_file`):
the same arguments, which Inspect reads from the signature to pass ``-T`` values and record them in the
log, and the same relative-path rule, with the file's repository as the fallback a registered task lacks.
The tasks are built here, not evaluated; ``tests/test_installed.py`` runs one from a wheel.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from inspect_ai._util.registry import registry_info, registry_lookup

from rareval.data import cache
from rareval.evals import tasks
from tests.test_installed import TASKS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "rareval/data/healthbench_sample.jsonl"  # relative to the repository root


def task_file_task(name: str):
    """The task ``tasks/<name>.py`` registers, loaded as ``inspect eval`` loads it."""
    from inspect_ai._eval.loader import load_file_tasks

    load_file_tasks(ROOT / "tasks" / f"{name}.py")
    return registry_lookup("task", name)


@pytest.mark.parametrize("name", TASKS)
def test_a_task_file_takes_the_registered_tasks_arguments_under_its_own_name(name):
    registered, from_file = registry_lookup("task", f"rareval/{name}"), task_file_task(name)
    assert registry_info(registered).name == f"rareval/{name}" and registry_info(from_file).name == name
    assert registry_info(from_file).metadata["params"] == registry_info(registered).metadata["params"]
    assert inspect.signature(from_file) == inspect.signature(registered)
    assert from_file.__doc__ == registered.__doc__ and "-T" in from_file.__doc__


def test_a_relative_path_falls_back_to_the_task_files_repository_only(tmp_path, monkeypatch):
    """Run elsewhere, ``-T path=rareval/data/…`` names the repository's file from a task file; the registered
    task, which has no repository, reads it from where the command was run and finds nothing there."""
    monkeypatch.setattr(cache, "LAUNCH_DIR", tmp_path)
    built = task_file_task("healthbench")(path=SAMPLE)
    assert len(built.dataset) > 0
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / SAMPLE))):
        tasks.healthbench(path=SAMPLE)
    (tmp_path / SAMPLE).parent.mkdir(parents=True)
    (tmp_path / SAMPLE).write_text((ROOT / SAMPLE).read_text().split("\n", 1)[0] + "\n")
    assert len(tasks.healthbench(path=SAMPLE).dataset) == 1 == len(task_file_task("healthbench")(path=SAMPLE).dataset)


def test_the_package_module_run_as_a_task_file_runs(tmp_path, monkeypatch):
    """`inspect list tasks` in the repository lists rareval/evals/tasks.py@healthbench beside tasks/*.py, and a
    bare `inspect eval` there loads every file it lists: the module, loaded by path rather than imported, runs."""
    from inspect_ai import eval as inspect_eval

    monkeypatch.chdir(ROOT)
    [log] = inspect_eval("rareval/evals/tasks.py@healthbench", model="scripted/policy",
                         model_roles={"grader": "scripted/keyword"}, limit=1, log_dir=str(tmp_path),
                         display="none")
    assert log.status == "success" and log.eval.task == "healthbench"
