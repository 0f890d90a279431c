"""Building preference pairs with a generator (:mod:`rareval.rubrics.pairs`) and ``rareval alignment build``:
scripted generators, real HealthBench rows, the pairs file on disk."""

import json

import pytest

from rareval.data.alignment import load_pairs, save_pairs
from rareval.data.healthbench import load_healthbench
from rareval.rubrics.pairs import build_pairs_sync
from tests.conftest import SHARED

UNION = SHARED / "data/healthbench/healthbench_offline_union.jsonl"
RUBRIC = json.dumps([{"title": "Rest", "description": "Essential Criteria: Advises 'rest'.", "weight": 5},
                     {"title": "No antibiotics", "description": "Pitfall Criteria: Recommends 'antibiotics'.",
                      "weight": -2}])


@pytest.fixture(scope="module")
def rows():
    return load_healthbench(path=UNION)[:120]


def test_build_degraded_pairs_with_rubrics_and_round_trip(rows, tmp_path):
    from inspect_ai.model import get_model

    # one scripted model answers both kinds of request: the reply parses as a rewrite and as a rubric
    writer = get_model("scripted/policy", reply="[reasoning] vaguer [perturbed_completion] Rest, maybe. "
                                                "[chunks_added] none [chunks_removed] none\n" + RUBRIC)
    pairs, failures = build_pairs_sync(rows, UNION, kind="degraded", generator=writer, rubrics=True, limit=3,
                                       progress=False, screened=False)  # a fixed rewrite fails the length screen
    assert not failures and len(pairs) == 3
    p = pairs[0]
    assert p.rejected.startswith("Rest, maybe.") and p.rubric_ref is not None and len(p.rubric_noref) == 2
    assert p.provenance.generator == "scripted/policy" and set(p.provenance.prompt_versions) == {
        "degrade", "rubric_generate", "rubric_generate_noref"}
    path = save_pairs(pairs, tmp_path / "pairs.jsonl")
    assert load_pairs(path) == pairs


def test_generator_failures_are_reported_not_invented(rows):
    pairs, failures = build_pairs_sync(rows, UNION, kind="degraded", generator="scripted/malformed", limit=2,
                                       progress=False)
    assert pairs == [] and len(failures) == 2
    with pytest.raises(ValueError, match="generator"):
        build_pairs_sync(rows, UNION, kind="degraded", limit=1)


def test_an_interrupted_build_resumes_without_losing_pairs(rows, tmp_path):
    """Each pair is appended as it is built: a build stopped after 2 pairs keeps them, and the next build of 4
    asks the generator for the other 2 only. A rewrite cut off at max_tokens is rejected and named."""
    from inspect_ai.model import get_model

    reply = "[reasoning] vaguer [perturbed_completion] Rest, maybe. [chunks_added] none [chunks_removed] none"
    out = tmp_path / "pairs.jsonl"
    first, _ = build_pairs_sync(rows, UNION, kind="degraded", generator=get_model("scripted/policy", reply=reply),
                                limit=2, progress=False, out=out, screened=False)  # fixed rewrite: no length screen
    assert len(load_pairs(out)) == 2  # on disk before the build returned: what an interruption leaves
    writer = get_model("scripted/policy", reply=reply, memoize=False)
    pairs, failures = build_pairs_sync(rows, UNION, kind="degraded", generator=writer, limit=4, progress=False,
                                       out=out, concurrency=2, screened=False)
    assert not failures and len(pairs) == 4 and pairs[:2] == first and writer.api.calls == 2
    assert {p.pair_id for p in load_pairs(out)} == {p.pair_id for p in pairs}
    cut = get_model("scripted/policy", reply=reply + " and then" * 50, cut_at_max_tokens=True)
    kept, failed = build_pairs_sync(rows, UNION, kind="degraded", generator=cut, limit=2, progress=False,
                                    max_tokens=20, screened=False)
    assert kept == [] and len(failed) == 2 and all("cut off at max_tokens=20" in f for f in failed)


def test_a_pair_whose_rubrics_failed_is_kept_without_them_and_tried_again(rows, tmp_path):
    """A rule-based pair stands without a model: when its rubrics fail it is kept without them and named
    (its rubric conditions leave it unscored), and a rerun asks for those rubrics only."""
    from inspect_ai.model import get_model

    from rareval.data.rule_pairs import rule_pairs

    base, out = rule_pairs(rows, UNION, "removed_criteria")[:2], tmp_path / "pairs.jsonl"
    failing = get_model("scripted/policy", reply=RUBRIC, fail_first=2, memoize=False)  # both tries of pair 1
    pairs, failures = build_pairs_sync(rows, UNION, kind="removed_criteria", generator=failing, rubrics=True,
                                       base=base, out=out, progress=False)
    assert [p.pair_id for p in pairs] == [p.pair_id for p in base] == [p.pair_id for p in load_pairs(out)]
    assert pairs[0].rubric_ref is None and pairs[0].rejected == base[0].rejected
    assert pairs[1].rubric_ref is not None and pairs[1].rubric_noref is not None
    assert len(failures) == 1 and failures[0].startswith(f"{base[0].pair_id}: no rubrics: ")
    writer = get_model("scripted/policy", reply=RUBRIC, memoize=False)
    again, failures = build_pairs_sync(rows, UNION, kind="removed_criteria", generator=writer, rubrics=True,
                                       base=base, out=out, progress=False)
    assert not failures and writer.api.calls == 2 and again[1] == pairs[1]  # pair 2 was kept, not rebuilt
    assert all(p.rubric_ref is not None for p in again)


def build(capsys, *args: str) -> tuple[int, str, str]:
    """``rareval alignment build`` on the union file, as a user runs it: exit code, stdout, stderr."""
    from rareval.cli import main

    code = main(["alignment", "build", "--source", str(UNION), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_build_into_a_pairs_file_keeps_the_pairs_and_rubrics_already_there(tmp_path, capsys):
    """Building B into the file of build A (another --kind and --select) keeps A's pairs with their generated
    rubrics, and says so; B's pairs are added after them."""
    out = tmp_path / "pairs.jsonl"
    code, said, _ = build(capsys, "--kind", "removed_criteria", "--select", "3", "--rubrics", "--generator",
                          "scripted/keyword", "--out", str(out))
    first = load_pairs(out)
    assert code == 0 and len(first) == 3 and all(p.rubric_ref is not None and p.rubric_noref for p in first)
    assert "3 added, 0 replaced, 0 unchanged; 0 other pairs kept from the file; 3 pairs in the file" in said
    code, said, _ = build(capsys, "--kind", "removed_safety", "--select", "2", "--seed", "1", "--out", str(out))
    both = load_pairs(out)
    assert code == 0 and both[:3] == first and [p.kind for p in both[3:]] == ["removed_safety"] * 2
    assert "2 removed_safety pairs built into" in said and \
        "2 added, 0 replaced, 0 unchanged; 3 other pairs kept from the file; 5 pairs in the file" in said
    code, said, _ = build(capsys, "--kind", "removed_criteria", "--select", "3", "--out", str(out))  # again
    assert code == 0 and load_pairs(out) == both and "0 added, 0 replaced, 3 unchanged; 2 other pairs kept" in said


def test_rebuild_remakes_the_pairs_in_the_file_and_keeps_their_rubrics(tmp_path, capsys):
    """--rebuild makes the file's rule-based pairs again (as after a fix to the rule) with no generator: a stale
    rejected answer is replaced and the pair keeps its rubrics; a pair whose chosen answer no longer matches
    the data loses them, with a warning naming it; a pair the rule does not make is left out and named."""
    out = tmp_path / "pairs.jsonl"
    build(capsys, "--kind", "removed_criteria", "--select", "3", "--rubrics", "--generator", "scripted/keyword",
          "--out", str(out))
    built = load_pairs(out)
    stale = built[0].model_copy(update={"rejected": "1. 2. what the old rule left"})
    moved = built[1].model_copy(update={"chosen": built[1].chosen + " An edit."})
    unknown = built[2].model_copy(update={"pair_id": "not-a-row:removed_criteria:0"})
    save_pairs([stale, moved, built[2], unknown], out)
    code, said, err = build(capsys, "--kind", "removed_criteria", "--rebuild", "--out", str(out))
    after = load_pairs(out)
    assert code == 0 and [p.pair_id for p in after] == [p.pair_id for p in built]
    assert after[0] == built[0] and after[2] == built[2]  # the rule's rejected answer back, rubrics kept
    assert after[1].chosen == built[1].chosen and after[1].rubric_ref is None
    assert ("2 replaced (1 with their stored rubrics), 1 unchanged; 0 other pairs kept from the file; 1 left out, "
            "no longer made: not-a-row:removed_criteria:0; 3 pairs in the file") in said
    assert "1 pairs were rebuilt without their stored rubrics" in err and built[1].pair_id in err
    code, _, err = build(capsys, "--kind", "degraded", "--rebuild", "--out", str(out))
    assert code == 2 and "--rebuild remakes the rule-based or reference pairs" in err
    code, _, err = build(capsys, "--kind", "removed_safety", "--rebuild", "--out", str(out))
    assert code == 2 and "holds no removed_safety pairs to make again" in err
