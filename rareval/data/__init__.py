"""Data loaders: HealthBench (+ meta-eval, HealthBench-1k split, bundled sample) and RaR.

Every loader reads an explicit ``path``, else the cache (:func:`data_dir`), else
downloads from the official source; offline, it fails within seconds with a
:class:`DataUnavailable` that says where to put the file. Malformed rows raise
:class:`DataError` naming the file, line and field, or are skipped and counted
with ``skip_bad_rows=True``.
"""

from rareval.data.cache import (
    ChecksumMismatch,
    DataError,
    DataUnavailable,
    Rows,
    SkippedRow,
    data_dir,
    download,
    fetch,
    load_jsonl,
    read_jsonl,
    sha256_file,
    verify_sha256,
)
from rareval.data.healthbench import (
    HEALTHBENCH_FILES,
    SAMPLE_PATH,
    GraderVerdict,
    HealthBenchExample,
    Message,
    healthbench_path,
    load_healthbench,
    parse_healthbench_row,
)
from rareval.data.healthbench_1k import in_healthbench_1k, read_1k_ids, split_1k, write_1k_ids
from rareval.data.healthbench_meta import MetaEvalExample, load_healthbench_meta_eval, parse_meta_eval_row
from rareval.data.rar import RAR_DATASETS, RaRExample, dedupe_against_train, load_rar, parse_rar_row

__all__ = [
    "ChecksumMismatch", "DataError", "DataUnavailable", "Rows", "SkippedRow", "data_dir", "download", "fetch",
    "load_jsonl", "read_jsonl", "sha256_file", "verify_sha256",
    "HEALTHBENCH_FILES", "SAMPLE_PATH", "GraderVerdict", "HealthBenchExample", "Message", "healthbench_path",
    "load_healthbench", "parse_healthbench_row",
    "in_healthbench_1k", "read_1k_ids", "split_1k", "write_1k_ids",
    "MetaEvalExample", "load_healthbench_meta_eval", "parse_meta_eval_row",
    "RAR_DATASETS", "RaRExample", "dedupe_against_train", "load_rar", "parse_rar_row",
]
