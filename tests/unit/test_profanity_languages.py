"""Profanity across languages, in authors' handles, and at a bounded cost, through the real
moderation hook of a wall with the default ``[moderation]`` section (``profanity_languages =
["en"]``): a post is read with the lists of the language it is written in, whatever its tag says;
an English listed word that is an everyday word of the post's language does not hide it; the
handle is read like the display name; a hostile post cannot hold the ingest thread."""

from __future__ import annotations

import itertools
import random
import string
import time
from datetime import UTC, datetime

import pytest

from agora.config.schema import ModerationConfig
from agora.core.moderation import RuleModeration
from agora.core.post import Author, Moderation, Post
from agora.core.profanity import (
    ELSEWHERE,
    EVERYDAY_ELSEWHERE,
    UNMISTAKABLE,
    UNREADABLE,
    list_words,
    normal_word,
)
from agora.core.text import clean_name, clean_text, fold

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
_ids = itertools.count()


def post(text: str, *, lang: str | None, handle: str = "@ana@social.example") -> Post:
    return Post(
        id=f"jsonl:l{next(_ids)}",
        source="jsonl",
        feed="archive",
        text=clean_text(text),
        created_at=T0,
        author=Author(clean_name(handle), "Ana"),
        lang=lang,
    )


@pytest.fixture(scope="module")
def rules() -> RuleModeration:
    return RuleModeration(ModerationConfig())


def verdict(rules: RuleModeration, p: Post) -> Moderation:
    return rules(p, fold(p.text))


# ---------------------------------------------------------------------------------------------
# posts in other languages: untagged, tagged English, tagged right

OTHER_LANGUAGES = [
    ("fi", "Tämä uusi Nokia on ihan vitun paska, akku loppuu heti"),
    ("fi", "Perkele, taas kaatui tämä puhelin. Voi vittu."),
    ("fi", "tämä puhelin on ihan perse"),  # "perse": on the Finnish list only
    ("de", "Das neue Handy ist echt Scheiße, der Akku ist nach zwei Stunden leer"),
    ("de", "Der Verkäufer war ein richtiges Arschloch"),
    ("fr", "Putain de merde, ce téléphone est vraiment nul"),
    ("es", "Este teléfono es una mierda, qué puta mierda de batería"),
    ("pl", "Kurwa, ten telefon to gówno"),  # CLD2 reads this one as English
    ("it", "Che cazzo di telefono, si spegne sempre"),
]


@pytest.mark.parametrize(("language", "text"), OTHER_LANGUAGES)
def test_profanity_in_another_language_is_hidden_whatever_the_tag(
    rules: RuleModeration, language: str, text: str
) -> None:
    for tag in (None, "en", language):
        result = verdict(rules, post(text, lang=tag))
        assert result.state == "hidden", (tag, text)
        assert result.reasons[0].startswith("profanity: "), result.reasons


@pytest.mark.parametrize(
    "term",
    [
        "vittu",
        "#vittu",
        "paska",
        "#paska",
        "perkele",
        "#perkele",
        "#VITTUnokia",
        "merde",
        "#merde",
        "kurwa",
        "scheiße",
        "perse",  # any list's word may not trend (but frequent English words: "con", "fan")
        "arsch",
    ],
)
def test_other_languages_profanity_never_trends(rules: RuleModeration, term: str) -> None:
    assert rules.blocks_term(term)
    assert verdict(rules, post(f"Lumen {term}", lang=None)).state == "hidden" or term in (
        "perse",
        "arsch",
    )


def test_frequent_english_words_of_other_lists_trend_and_pass(rules: RuleModeration) -> None:
    # "bite" (French), "fan" (Swedish), "con" (French) are listed in other languages
    for term in ("bite", "fan", "con"):
        assert not rules.blocks_term(term), term
    for text in ("Apple took a bite out of the market", "I am a big fan", "a con artist"):
        assert verdict(rules, post(text, lang="en")).state == "approved", text
        assert verdict(rules, post(text, lang=None)).state == "approved", text


def test_a_word_of_another_list_is_profanity_only_in_its_language(rules: RuleModeration) -> None:
    # "perse" is Finnish for arse and Italian for lost
    assert verdict(rules, post("ho perse le chiavi del telefono", lang=None)).state == "approved"
    assert verdict(rules, post("ho perse le chiavi del telefono", lang="en")).state == "approved"
    assert verdict(rules, post("tämä puhelin on ihan perse", lang="it")).state == "hidden"


def test_unmistakable_words_are_on_their_lists() -> None:
    for language, words in UNMISTAKABLE.items():
        listed = {normal_word(w) for w in list_words(language)}
        assert {normal_word(w) for w in words} <= listed, language
    for language, words in EVERYDAY_ELSEWHERE.items():
        listed = {normal_word(w) for w in list_words(language)}
        assert {normal_word(w) for w in words} <= listed, language
    english = {normal_word(w) for w in list_words("en")}
    assert set(ELSEWHERE) <= english


# ---------------------------------------------------------------------------------------------
# everyday words of other languages

#: Posts with an English listed word that is an everyday word of their language ("dick" is
#: German for thick, "slut" Swedish and Danish for an end, "sex" Swedish for six, "râpé" French
#: for grated, "cum" Romanian for how), or a word of their own language's list that is an
#: everyday word there: shown untagged, tagged English and tagged right.
EVERYDAY_ELSEWHERE_POSTS = [
    ("de", "Das Handy ist viel zu dick"),
    ("de", "Das neue Lumen ist dick und schwer"),
    ("de", "Die Hülle ist 2 mm dick"),
    ("de", "Fahrt ins Büro mit dem Lumen"),
    ("de", "Das Gift der Schlange"),
    ("sv", "Slut på lager"),
    ("sv", "Lumen är slut i butiken"),
    ("sv", "Sex timmar batteritid"),
    ("sv", "Det går i full fart"),
    ("sv", "Tack för puss och kram, kiss"),
    ("da", "Nu er det slut med ventetiden"),
    ("fr", "Fromage râpé sur les pâtes"),
    ("ro", "Cum funcționează bateria noului telefon?"),
    ("fi", "Tavara tuli perille nopeasti"),
    ("fi", "Puhelimessa on reikä kuulokkeille"),
    ("fi", "Pipari ja kahvi maistuu"),
    ("it", "Il pesce era ottimo"),
    ("it", "La regina del design italiano"),
    ("it", "Devo venire domani in negozio"),
    ("pt", "Uma cerveja gelada e um bom telefone"),
    ("pt", "Vamos comer depois da loja"),
    ("nl", "Een pot koffie en een nieuwe telefoon"),
    ("nl", "Er zit een gat in de hoes"),
]


@pytest.mark.parametrize(("language", "text"), EVERYDAY_ELSEWHERE_POSTS)
def test_everyday_words_of_the_posts_language_pass(
    rules: RuleModeration, language: str, text: str
) -> None:
    for tag in (None, "en", language):
        assert verdict(rules, post(text, lang=tag)).state == "approved", (tag, text)


@pytest.mark.parametrize(
    ("tag", "text"),
    [
        ("de", "you are such a dick"),  # the rest of the post is English, whatever the tag
        ("de", "Lumen is a dick"),
        ("sv", "what a slut"),
        ("sv", "sex sex sex"),
        ("de", "d1ck"),
        ("sv", "Slut!"),  # nothing else to tell the language by
    ],
)
def test_the_same_words_in_english_are_hidden(rules: RuleModeration, tag: str, text: str) -> None:
    assert verdict(rules, post(text, lang=tag)).state == "hidden", text


# ---------------------------------------------------------------------------------------------
# the author's handle


@pytest.mark.parametrize(
    "handle",
    [
        "@fuckyounokia",
        "@fuck_nokia@mastodon.example",
        "shitphone.bsky.social",
        "@vittu_nokia",
        "u/b1tch",
        "@sh1tcompany",
    ],
)
def test_profanity_in_the_authors_handle_is_hidden(rules: RuleModeration, handle: str) -> None:
    result = verdict(rules, post("Lumen looks nice", lang="en", handle=handle))
    assert result.state == "hidden", handle
    assert result.reasons[0].startswith("author's handle: profanity: "), result.reasons


@pytest.mark.parametrize(
    "handle",
    [
        "@ana@social.example",
        "@therapist_jane",
        "@scunthorpe_utd",
        "@dickens_fan@books.example",
        "cocktail.bsky.social",
        "u/classic_analysis",
        "@DickGrayson24",  # a name word before a surname, glued
    ],
)
def test_innocent_handles_are_shown(rules: RuleModeration, handle: str) -> None:
    assert verdict(rules, post("Lumen looks nice", lang="en", handle=handle)).state == "approved"


# ---------------------------------------------------------------------------------------------
# cost


def hostile_posts() -> dict[str, list[str]]:
    """Posts of 5,000 characters made of what costs the reader most, new every time."""
    rng = random.Random(13)

    def word(n: int) -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))

    makers = {
        "unknown hashtags": lambda: " ".join("#" + word(12) for _ in range(380)),
        "unknown camel-case hashtags": lambda: " ".join(
            "#" + word(6).capitalize() + word(6).capitalize() for _ in range(380)
        ),
        "one long hashtag": lambda: "#" + word(4999),
        "letters apart": lambda: " ".join(rng.choice(string.ascii_lowercase) for _ in range(2500)),
        "leetspeak tokens": lambda: " ".join(
            word(3) + rng.choice("1!|+$@") + word(3) for _ in range(620)
        ),
    }
    return {kind: [make() for _ in range(4)] for kind, make in makers.items()}


def test_a_hostile_post_costs_milliseconds_not_hundreds(rules: RuleModeration) -> None:
    # the time of this thread's CPU, not the wall clock: other processes do not count. Before
    # the reading was bounded, one long unknown hashtag cost 400-800 ms, a run of 2,500 letters
    # apart about 250 ms, 380 unknown hashtags about 20-60 ms.
    verdict(rules, post("warm up #shitphone ѕһіт", lang="en"))
    for kind, texts in hostile_posts().items():
        for text in texts:
            started = time.thread_time()
            result = verdict(rules, post(text, lang="en"))
            spent = time.thread_time() - started
            assert spent < 0.05, (kind, spent)
            if kind != "letters apart":  # random letters spell some listed word anyway
                assert result.state == "hidden", kind
            if "hashtag" in kind:
                assert result.reasons == (UNREADABLE,), (kind, result.reasons)


def test_an_ordinary_post_with_many_hashtags_is_read(rules: RuleModeration) -> None:
    tags = " ".join(f"#{w}" for w in ("lumen", "nokia", "camera", "battery", "launch") * 6)
    assert verdict(rules, post(f"Loving it {tags}", lang="en")).state == "approved"
    assert verdict(rules, post(f"Loving it {tags} #shitphone", lang="en")).state == "hidden"
