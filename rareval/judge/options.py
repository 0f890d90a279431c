"""The judge's command-line options, the same on every command that takes a judge.

``--judge-arg KEY=VALUE`` (repeatable) is a model argument handed to Inspect's ``get_model``
(``base_url``, ``api_key``, ``responses_api``, any provider argument), so a served judge is
reached without a provider starting one of its own. ``--judge-config KEY=VALUE`` (repeatable)
is a :class:`~rareval.judge.config.JudgeConfig` field (``max_tokens``, ``temperature``,
``reasoning_effort``, ``reasoning_max_tokens``, ``parse_retries``, …); ``--judge-calibration FILE``
applies a ``rareval judge calibrate`` file. Commands with a second
judge (``--gold-judge``) get ``--gold-judge-arg`` / ``--gold-judge-config`` beside it.
"""

from __future__ import annotations

import argparse
from typing import Annotated, Any

from pydantic import PlainSerializer

from rareval.errors import secret_name
from rareval.judge.config import judge_config, parse_settings


def add_judge_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, flag: str = "--judge") -> None:
    """Add ``FLAG-arg``, ``FLAG-config`` and ``FLAG-calibration`` (dests ``<flag>_args``, ``_config``,
    ``_calibration``)."""
    dest = flag.lstrip("-").replace("-", "_")
    parser.add_argument(f"{flag}-arg", dest=f"{dest}_args", action="append", default=[], metavar="KEY=VALUE",
                        help=f"model argument of the {flag} model for Inspect's get_model, e.g. base_url=URL or "
                        "api_key=KEY (repeatable)")
    parser.add_argument(f"{flag}-config", dest=f"{dest}_config", action="append", default=[], metavar="KEY=VALUE",
                        help=f"setting of the {flag} model (a JudgeConfig field), e.g. reasoning_effort=low, "
                        "reasoning_max_tokens=8000, max_tokens=1024, temperature=0 (repeatable)")
    parser.add_argument(f"{flag}-calibration", dest=f"{dest}_calibration", metavar="FILE",
                        help=f"thresholds of the {flag} model from `rareval judge calibrate --out FILE`")


def judge_options(args: argparse.Namespace, flag: str = "--judge") -> tuple[dict[str, Any], dict[str, Any]]:
    """``(model args, judge settings)`` from :func:`add_judge_options`' options, the settings checked
    against :class:`~rareval.judge.config.JudgeConfig` (an unknown key or bad value is an error here)."""
    dest = flag.lstrip("-").replace("-", "_")
    settings = parse_settings(getattr(args, f"{dest}_config"), f"{flag}-config value")
    if getattr(args, f"{dest}_calibration", None):
        settings["calibration"] = getattr(args, f"{dest}_calibration")
    judge_config(settings)
    return parse_settings(getattr(args, f"{dest}_args"), f"{flag}-arg value"), settings


#: What a recorded model argument that looks secret (``api_key``, ``token``, …) is written as.
REDACTED = "<redacted>"


def recorded_args(model_args: dict[str, Any]) -> dict[str, Any]:
    """Model arguments as they may be written to a run directory or log: a value whose key names a key,
    token, secret or password is :data:`REDACTED` (pass keys through the provider's environment variable).

    >>> recorded_args({"base_url": "http://127.0.0.1:8000/v1", "api_key": "sk-123"})
    {'base_url': 'http://127.0.0.1:8000/v1', 'api_key': '<redacted>'}
    """
    return {k: REDACTED if secret_name(k) else v for k, v in model_args.items()}


#: Model arguments in a recorded config (a run's ``config.json``, ``heldout.json``): secrets redacted on dump.
ModelArgs = Annotated[dict[str, Any], PlainSerializer(recorded_args)]
