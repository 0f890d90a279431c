"""rareval.evals.extract.extract_choice on wrapped, revised and adversarial answers."""

import pytest

from rareval.evals.extract import extract_choice

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
    # --- rejected options are not answers (rule 4)
    ("(A) is wrong … (D) is wrong", None),
    ("(A) is wrong because parity fails. (B) is incorrect too. (C) can be ruled out.", None),
    ("We can eliminate (A), (B) and (C).", None),
    ("Options (A) and (B) are both wrong.", None),
    ("(D) isn't consistent with the NMR data.", None),
    ("Answer: (C) is not correct.", None),
    ("\\boxed{C} is wrong, since the spin is conserved.", None),
    ("Answer: (C) is incorrect, the correct one is D", "D"),
    ("It is (B) rather than (C).", "B"),
    ("Neither (A) nor (B) fits; the spectrum needs (C).", "C"),
    ("Ruling out (A) and (B) leaves (D).", "D"),
    ("(B) is the answer; (A) is wrong.", "B"),
    ("(A) is incorrect. (B) is incorrect. (C) is correct. (D) is incorrect.", "C"),
    ("Thus the correct option is (B), not (D).", "B"),
    ("I'd choose (C) over (A).", "C"),
    ("ANSWER: C\n\n(A) is wrong because ..., (B) is wrong because ..., (D) is wrong because ...", "C"),
    # --- hedging between letters
    ("It is either (B) or (C).", None),
    ("Maybe (A), maybe (D).", None),
    ("I am torn between (B) and (D).", None),
    ("Answer: B/C", None),
    ("Answer: (B) and (C)", None),
    ("Final answer: \\boxed{B} or D, hard to say.", None),
    ("answer: b/c the other options violate parity", None),
    # --- lower case after an explicit answer marker, never an article out of prose
    ("answer: c", "C"),
    ("The answer is (b).", "B"),
    ("ANSWER: $d$", "D"),
    ("Final answer: **a**", "A"),
    ("The answer is a bit subtle; (C) looks right.", "C"),
    ("The answer is a given once the symmetry is noticed.", None),
    ("Answer: c because the bond is weaker.", "C"),
    # --- a final choice phrase with an (emphasised) letter
    ("So the best choice is **C**.", "C"),
    ("Therefore, I choose **B**.", "B"),
    ("The correct option is *D*", "D"),
    ("I would go with \\textbf{A}.", "A"),
    ("My final choice is __B__.", "B"),
    ("I'll pick option (C).", "C"),
    ("The correct option is not B; it is (D).", "D"),
    ("We select B as the reference state.", None),
    ("The correct one is a ketone.", None),
    ("I would go with A more careful derivation first.", None),
    # --- revisions: the final affirmative answer wins, a withdrawn answer gives None (rule 6)
    ("Answer: B\nHmm, no: (B) is wrong. Answer: D", "D"),
    ("The answer is (B). On second thought, I choose **D**.", "D"),
    ("Answer: C. Actually I made a sign error; C is wrong, and the correct option is **A**.", "A"),
    ("Answer: C\nWait, C is wrong.", None),
    ("\\boxed{B}\nHmm, option B is incorrect after all.", None),
    ("Answer: C, D is wrong.", "C"),
    # --- adversarial: letters naming things are not options
    ("ANSWER: C\n\nExplanation: compound C is not the major product of step 2.", "C"),
    ("Compound C is not aromatic, so the answer is D.", "D"),
    ("the capacitance $C$ is not constant, so ANSWER: C", "C"),
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


REJECTIONS = ["({0}) is wrong.", "Option ({0}) is incorrect.", "We can rule out ({0}).", "({0}) can be ruled out.",
              "Eliminate ({0}) and ({1}).", "({1}) and ({0}) both fail.", "It is not ({0}).",
              "Maybe ({0}), maybe ({1}).", "Answer: ({0}) is not correct.", "\\boxed{{{0}}}\nWait, ({0}) is wrong."]
AFFIRMATIONS = ["So the best choice is **{0}**.", "Therefore, I choose **{0}**.", "answer: {1}",
                "The answer is ({1}).", "Answer: ({2}) is incorrect, the correct one is {0}.",
                "({2}) is wrong, so ({0})."]


@pytest.mark.parametrize("letter", "ABCD")
def test_every_letter_is_rejected_and_affirmed_alike(letter):
    # position bias guard: a rule that only works for the last letter, or reads the rejected
    # neighbour instead, fails here for some letter
    other = "ABCD"[("ABCD".index(letter) + 1) % 4]
    for template in REJECTIONS:
        text = template.format(letter, other)
        assert extract_choice(text) is None, text
    for template in AFFIRMATIONS:
        text = template.format(letter, letter.lower(), other)
        assert extract_choice(text) == letter, text


def test_custom_letters():
    assert extract_choice("ANSWER: E", letters="ABCDE") == "E"
    assert extract_choice("\\boxed{e}", letters="abcde") == "E"
    # "I" is a valid option here, but never as the pronoun
    assert extract_choice("Answer: I think it is F", letters="ABCDEFGHIJ") is None
    assert extract_choice("Answer: I", letters="ABCDEFGHIJ") == "I"


def test_bad_letters_rejected():
    with pytest.raises(ValueError, match="letters"):
        extract_choice("ANSWER: A", letters="A1")
