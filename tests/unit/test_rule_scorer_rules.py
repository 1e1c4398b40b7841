"""Each rule of :meth:`RuleScorer.weigh`, shown alone on a text chosen for it.

The scorer runs with :class:`SocialParams`' plain defaults (every rule at its textbook weight,
no dead zone), with one parameter changed where a test needs the rule switched on. Each test
compares two texts that differ only by what its rule reads (a negator, a stop, "but", caps…), so
that it fails when that rule stops working and no other. The filler words ("our", "phone",
"today") are unknown to the tables.
"""

from __future__ import annotations

import pytest

from agora.core.sentiment_social import RuleScorer, SocialParams

PLAIN = SocialParams()
GOOD = 1.9
"""The VADER lexicon's valence of "good" (the tests only use it to check they read it)."""


def parts(text: str, **changes: float) -> tuple[float, float, float, int]:
    """:meth:`RuleScorer.parts` of ``text`` under the plain parameters with ``changes``."""
    params = SocialParams(**changes) if changes else PLAIN
    return RuleScorer(params).parts(text)


def total(text: str, **changes: float) -> float:
    """The weighted sum of valences of ``text``."""
    return parts(text, **changes)[0]


def test_a_plain_sentiment_word_counts_its_valence() -> None:
    assert parts("our phone is good") == (GOOD, GOOD, 0.0, 0)


def test_a_negator_in_reach_flips_and_damps_the_word() -> None:
    # "not" three tokens before "good" reaches it: flipped, times the negation factor
    assert parts("not our phone good") == pytest.approx((GOOD * -0.6, 0.0, GOOD * 0.6, 1))


def test_a_negator_out_of_reach_does_nothing() -> None:
    # four tokens before "good": out of the reach of three
    assert parts("not our phone today good") == (GOOD, GOOD, 0.0, 0)


def test_a_stop_ends_the_negators_clause() -> None:
    assert parts("not, good") == (GOOD, GOOD, 0.0, 0)
    assert parts("not good")[3] == 1


def test_a_negator_that_negates_nothing_carries_its_own_valence() -> None:
    assert total("no", negator=-0.7) == pytest.approx(-0.7)
    # once it negates a word, the negator's own valence is gone
    assert total("not good", negator=-0.7) == pytest.approx(GOOD * -0.6)


def test_a_contrast_weighs_what_follows_above_what_came_before() -> None:
    good, bad = total("good"), total("bad")
    assert total("good but bad") == pytest.approx(good * 0.5 + bad * 1.5)
    # both parts scale with it
    assert parts("good but bad")[1:3] == pytest.approx((good * 0.5, -bad * 1.5))


def test_a_contrast_ends_the_negators_reach() -> None:
    assert parts("not but good")[3] == 0


def test_a_booster_adds_to_the_next_sentiment_word_within_two_tokens() -> None:
    assert total("very good") == pytest.approx(GOOD + 0.3)
    assert total("very our good") == pytest.approx(GOOD + 0.3)
    assert total("very our phone good") == GOOD
    # a diminisher takes away
    assert total("slightly good") == pytest.approx(GOOD - 0.3)


def test_a_stop_ends_the_boosters_clause() -> None:
    assert total("very. good") == GOOD


def test_a_dual_word_boosts_before_a_sentiment_word_and_counts_alone() -> None:
    super_alone = total("our phone is super")
    assert super_alone == pytest.approx(2.9)
    assert total("super good") == pytest.approx(GOOD + 0.3)
    # before a clause boundary it is the sentiment word again
    assert total("super!", bang=0.0) == pytest.approx(super_alone)


def test_like_is_sentiment_only_after_a_subject() -> None:
    assert total("I like our phone") == pytest.approx(2.0)
    assert total("our phone looks like it") == 0.0
    assert total("like our phone") == 0.0


def test_a_word_in_caps_is_emphasised_unless_the_post_shouts() -> None:
    assert total("our phone is GOOD") == pytest.approx(GOOD + 0.6)
    assert total("OUR PHONE IS GOOD") == GOOD


def test_a_capitalised_word_inside_a_capitalised_run_is_a_name() -> None:
    grand = total("we saw grand prix")
    assert grand > 0.0
    assert total("we saw Grand Prix", name=0.0) == 0.0
    # a capitalised word alone is no name, nor is one in a post written in title case
    assert total("we saw Grand things", name=0.0) == grand
    assert total("We Saw Grand Prix", name=0.0) == grand


def test_an_elongated_word_is_read_as_the_word_and_emphasised() -> None:
    assert total("our phone is goooood") == pytest.approx(GOOD + 0.4)
    # an elongated booster counts twice
    assert total("sooooo good") == pytest.approx(GOOD + 2 * 0.3)


def test_a_conditional_clause_counts_less_until_its_clause_ends() -> None:
    assert total("if good", conditional=0.5) == pytest.approx(GOOD * 0.5)
    assert total("if our phone. good", conditional=0.5) == GOOD


def test_a_question_is_damped() -> None:
    assert total("is our phone good?", question=0.5) == pytest.approx(GOOD * 0.5)
    assert total("our phone is good.", question=0.5) == GOOD


def test_exclamation_marks_emphasise_the_post_up_to_four() -> None:
    assert total("good!!") == pytest.approx(GOOD + 2 * 0.3)
    assert total("bad!!") == pytest.approx(-2.5 - 2 * 0.3)
    assert total("good!!!! !!!!") == pytest.approx(GOOD + 4 * 0.3)
    # with no sentiment word they are excitement of their own
    assert total("our phone!!", bang_alone=1.1) == pytest.approx(1.1)


def test_exclamation_marks_end_the_negators_clause() -> None:
    assert parts("not! good", bang=0.0)[3] == 0


def test_a_phrase_reads_as_one_entry() -> None:
    # "can't" is a negator alone; "can't wait" is one positive phrase, nothing negated
    assert parts("can't wait") == pytest.approx((2.2, 2.2, 0.0, 0))
    assert parts("can't good")[3] == 1


def test_the_dead_zone_takes_off_every_valence() -> None:
    assert total("our phone is good", dead_zone=0.5) == pytest.approx(GOOD - 0.5)
