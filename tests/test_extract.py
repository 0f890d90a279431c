"""rareval.extract.extract_choice on wrapped, revised and adversarial answers."""

import pytest

from rareval.extract import extract_choice

CASES = [
    # --- plain and wrapped explicit markers
    ("ANSWER: C", "C"),
    ("**ANSWER: C**", "C"),
    ("**Answer:** B", "B"),
    ("**Answer**: D", "D"),
    ("Answer: $C$", "C"),
    ("ANSWER: $\\boxed{\\text{C}}$", "C"),
    ("Final Answer: The final answer is $\\boxed{A}$. I hope it is correct.", "A"),
    ("\\boxed{C}", "C"),
    ("\\boxed{\\text{C}}", "C"),
    ("\\boxed{\\textbf{(D)}}", "D"),
    ("so we get \\boxed{ b }", "B"),
    ("\\boxed{C) 3.2 eV}", "C"),
    ("### Final Answer\n\\boxed{A}", "A"),
    ("Answer: C) 3.2 eV, because the gap narrows.", "C"),
    ("Answer: option (B)", "B"),
    ("The correct answer is (B).", "B"),
    ("Therefore, the answer is: D.", "D"),
    ("The answer is A because the other three violate parity.", "A"),
    ("ANSWER: C\n\nExplanation: the ester hydrolyses first, then...", "C"),
    ("Answer:\nB", "B"),
    # --- bare forms, used only when no explicit marker exists
    ("$C$", "C"),
    ("**C**", "C"),
    ("Working...\n\n(D)", "D"),
    ("Step 1 ...\nC.\n", "C"),
    # --- several candidates: the last explicit marker wins; explicit beats bare
    ("Answer: B\nWait, I mis-signed the charge. Answer: D", "D"),
    ("\\boxed{B} ... on reflection, ANSWER: C", "C"),
    ("ANSWER: A. Option (B) looks tempting but ignores spin.", "A"),
    ("Options (A) and (B) fail, so I pick (D).", "D"),
    ("the capacitance $C$ doubles, so ANSWER: B", "B"),
    # --- adversarial: no letter may be read out of prose
    ("A patient presents with fever and a rash.", None),
    ("I think it's probably the second one.", None),
    ("Answer: A patient with these findings needs imaging.", None),
    ("Answer: B or C, I cannot decide.", None),
    ("Answer: A-level chemistry suffices here.", None),
    ("the capacitance $C$ doubles.", None),
    ("\\boxed{42}", None),
    ("ANSWER: E", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_extract_choice(text, expected):
    assert extract_choice(text) == expected


def test_case_table_is_large():
    assert len(CASES) >= 25


def test_custom_letters():
    assert extract_choice("ANSWER: E", letters="ABCDE") == "E"
    assert extract_choice("\\boxed{e}", letters="abcde") == "E"
    # "I" is a valid option here, but never as the pronoun
    assert extract_choice("Answer: I think it is F", letters="ABCDEFGHIJ") is None
    assert extract_choice("Answer: I", letters="ABCDEFGHIJ") == "I"


def test_bad_letters_rejected():
    with pytest.raises(ValueError, match="letters"):
        extract_choice("ANSWER: A", letters="A1")
