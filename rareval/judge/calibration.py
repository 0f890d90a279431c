"""Calibrated P(yes) thresholds: which verdict threshold a judge gets, and how one is fitted.

A one-token verdict is ``P(yes) >= threshold``. A small judge's P(yes) is not centred on
0.5, and differs by kind of criterion (a pitfall, a positive criterion, or a tag such as
``level:cluster``), so a threshold per kind is fitted on development rows
(:func:`fit_thresholds`, run by ``benchmarks/judge_quality.py --calibrate``) and stored in
``calibrations.json`` beside this module, under the judge's identity.

The identity is what the weights are, not how they are reached (:func:`identity`): the
weights file's name without its directory or ``.gguf`` (``qwen2.5-coder-1.5b-instruct-q4_k_m``),
read from the Inspect model string. So the same GGUF gets the same thresholds in process
(``local/qwen-1.5b``, an alias of its entry), served by llama.cpp
(``openai-api/llamacpp//models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf``) or by vLLM. Each entry
records the sha256 of the weights it was fitted on. This module knows judges only by that
table: it never imports the model catalog.

Lookup order (:func:`thresholds`): a single configured threshold, else configured
per-kind thresholds (0.5 for kinds not named), else a calibration file
(``rareval judge calibrate``'s output, ``JudgeConfig.calibration``; refused when it records another
judge's identity, unless ``JudgeConfig.calibration_any_judge``), else the table's entry
for the identity, else 0.5 for every criterion. :func:`calibrated` re-expresses P(met) so that 0.5 is the
threshold, which makes P(met) comparable across kinds (one AUC can span them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from rareval.rubric import Criterion

CALIBRATIONS_PATH = Path(__file__).with_name("calibrations.json")

#: Every criterion's threshold where nothing is configured or calibrated.
UNCALIBRATED = {"default": 0.5}

#: Tags that get a threshold of their own when fitted with enough criteria (besides pitfall / positive).
CALIBRATED_KINDS = {"level:cluster": None}


@cache
def calibrations() -> dict[str, dict[str, Any]]:
    """The stored calibrations by judge identity: ``{"thresholds": {kind: t}, "weights_sha256", "fitted"}``."""
    return json.loads(CALIBRATIONS_PATH.read_text(encoding="utf-8"))


def identity(model_name: str) -> str:
    """The judge's identity in the calibration table: an entry's alias (``local/qwen-1.5b``) as it is,
    else the weights' name: the last path part of the model string, lowercase, without ``.gguf``.

    >>> identity("openai-api/llamacpp//models/Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf")
    'qwen2.5-coder-1.5b-instruct-q4_k_m'
    >>> identity("local/qwen-1.5b"), identity("openai/gpt-4.1-2025-04-14")
    ('qwen2.5-coder-1.5b-instruct-q4_k_m', 'gpt-4.1-2025-04-14')
    """
    for key, entry in calibrations().items():
        if model_name in entry.get("aliases", ()):
            return key
    return model_name.rsplit("/", 1)[-1].lower().removesuffix(".gguf")


def calibrated_thresholds(model_name: str) -> dict[str, float]:
    """The thresholds stored for the judge ``model_name`` (by :func:`identity`; ``"default"`` for other kinds),
    else 0.5 for all."""
    entry = calibrations().get(identity(model_name))
    return dict(entry["thresholds"]) if entry else dict(UNCALIBRATED)


class CalibrationMismatch(ValueError):
    """A calibration file fitted for another judge than the one it is applied to."""


def read_calibration(path: str | Path, judge: str | None = None, any_judge: bool = False) -> dict[str, float]:
    """The thresholds of a calibration file written by ``rareval judge calibrate`` (``{"thresholds": …}``).

    ``judge``: the model they are for. A file that records another judge (its ``identity``, else its
    ``judge``'s, :func:`identity`) is refused with :class:`CalibrationMismatch`, naming the file and both
    judges: a threshold fitted to one judge's P(yes) misreads another's. ``any_judge`` applies it anyway.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        by_kind = {str(k): float(v) for k, v in data["thresholds"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"{path}: not a calibration file ({type(e).__name__}: {e}); write one with "
                         f"`rareval judge calibrate`") from None
    if "default" not in by_kind or not all(0 <= t <= 1 for t in by_kind.values()):
        raise ValueError(f"{path}: thresholds need a 'default' and values in [0, 1], got {by_kind}")
    fitted_for = data.get("identity") or (identity(str(data["judge"])) if data.get("judge") else None)
    if judge is not None and not any_judge and fitted_for and fitted_for != identity(judge):
        raise CalibrationMismatch(
            f"{path} was fitted for the judge {data.get('judge') or fitted_for} (identity {fitted_for}), not for "
            f"{judge} (identity {identity(judge)}): calibrate this judge with `rareval judge calibrate`, or apply "
            f"the file anyway with the judge setting calibration_any_judge=true")
    return by_kind


def thresholds(model_name: str, threshold: float | None = None, by_kind: Mapping[str, float] | None = None,
               calibration: str | Path | None = None, any_judge: bool = False) -> dict[str, float]:
    """The thresholds a judge uses: ``threshold`` for all, else ``by_kind`` (0.5 for other kinds), else the
    ``calibration`` file's (refused when fitted for another judge, unless ``any_judge``:
    :func:`read_calibration`), else those stored for the judge ``model_name``."""
    if threshold is not None:
        return {"default": threshold}
    if by_kind is not None:
        return {"default": 0.5, **by_kind}
    if calibration is not None:
        return read_calibration(calibration, model_name, any_judge)
    return calibrated_thresholds(model_name)


def criterion_kind(criterion: Criterion, kinds: Mapping[str, Any] = ()) -> str:
    """The first of the criterion's tags that ``kinds`` names (e.g. ``level:cluster``), else
    ``"pitfall"`` for a negative weight, else ``"positive"``."""
    tag = next((t for t in criterion.tags if t in kinds), None)
    return tag or ("pitfall" if criterion.weight < 0 else "positive")


def threshold_for(criterion: Criterion, by_kind: Mapping[str, float]) -> float:
    """The threshold of ``criterion``'s kind in ``by_kind``, else its ``"default"``."""
    return by_kind.get(criterion_kind(criterion, by_kind), by_kind["default"])


def calibrated(p: float, threshold: float) -> float:
    """P(met) with the threshold moved to 0.5: ``σ(logit p − logit threshold)``.

    The verdict is unchanged (``p ≥ threshold`` ⇔ result ≥ 0.5); P(met) of criteria of
    different kinds becomes comparable, so one ranking (AUC) can span them.
    """
    if threshold == 0.5:
        return p
    eps = 1e-9
    p, t = min(max(p, eps), 1 - eps), min(max(threshold, eps), 1 - eps)
    return 1 / (1 + math.exp(-(math.log(p / (1 - p)) - math.log(t / (1 - t)))))


def best_threshold(truth: Sequence[bool], p_met: Sequence[float | None]) -> tuple[float, float]:
    """``(threshold, agreement)`` maximising agreement of ``p >= threshold`` with ``truth``.

    Candidates are midpoints between consecutive distinct P(met) values (and the
    ends); ties go to the threshold closest to 0.5.
    """
    scored = sorted((p, t) for t, p in zip(truth, p_met) if p is not None)
    if not scored:
        raise ValueError("best_threshold needs at least one P(met)")
    values = sorted({p for p, _ in scored})
    candidates = [0.0] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 1e-9]
    best = max(candidates, key=lambda th: (sum((p >= th) == t for p, t in scored), -abs(th - 0.5)))
    return min(best, 1.0), sum((p >= best) == t for p, t in scored) / len(scored)


def fit_thresholds(truth: Sequence[bool], p_met: Sequence[float | None], kinds: Sequence[str],
                   min_count: int = 20, bounds: tuple[float, float] = (0.05, 0.95)) -> dict[str, float]:
    """:func:`best_threshold` for each kind of criterion with at least ``min_count`` labels, and
    ``"default"`` over all of them (kinds as in :func:`criterion_kind`).

    Thresholds are kept within ``bounds``: a kind whose best threshold is 0 or 1 (the
    judge cannot tell its criteria apart, the base rate wins) still keeps its ranking.
    """
    clamp = lambda th: round(min(max(th, bounds[0]), bounds[1]), 3)  # noqa: E731
    out = {"default": clamp(best_threshold(truth, p_met)[0])}
    for kind in sorted(set(kinds)):
        idx = [i for i, k in enumerate(kinds) if k == kind and p_met[i] is not None]
        if len(idx) >= min_count:
            out[kind] = clamp(best_threshold([truth[i] for i in idx], [p_met[i] for i in idx])[0])
    return out
