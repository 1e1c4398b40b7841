"""Profanity written to slip past the word lists is still hidden, and the look-alikes of innocent
text are still shown: an evasion corpus (every variant hidden) and a clean corpus (every text
shown), each run through the real moderation hook of a wall with the default ``[moderation]``
section, in a post's text, in its author's display name, and through the trending filter.

Each variant is written the way an attacker would type it; the comment of each class says what
the wall has to see through. Escapes (``\\u034f``) stand for the invisible code points."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from agora.config.schema import ModerationConfig
from agora.core.moderation import RuleModeration
from agora.core.post import Author, Moderation, Post
from agora.core.terms import scan as term_scan
from agora.core.text import clean_name, clean_text, fold

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
_ids = itertools.count()

# ---------------------------------------------------------------------------------------------
# the evasion corpus: every variant must be hidden

EVASIONS: dict[str, list[str]] = {
    # hashtags in one case, or an upper-case word glued to a lower-case one
    "hashtags": [
        "#FUCKyou",
        "#shitphone",
        "#whatthefuck",
        "#NOKIASHIT",
        "#fuckyounokia",
        "#lumenisshit",
        "#ShItPhone",
        "#bullshitbattery",
        "#shitcompany",
        "#fucklumen",
        "#holyshit",
        "#kissmyass",
        "#dumbshit",
        "#FUCKthisphone",
        "#GoFuckYourself",
        "#pieceofshit",
        "#SHITupdate",
        "#nokiasucksass",
        "#DickHead",
        "Dick Head",
        "#DickPic",
    ],
    # letters of other scripts that look like Latin ones (Cyrillic, Greek, Armenian, Lisu)
    "look-alikes": [
        "ѕһіт",  # all Cyrillic
        "fuсk",  # Cyrillic es
        "ѕhit",
        "аsshole",
        "сunt",
        "dісk",
        "рussy",
        "bіtch",
        "ΡΟRΝ",  # Greek capitals with a Latin R
        "ΑSSΗΟLΕ",
        "fυck",  # Greek upsilon
        "ϲunt",  # Greek lunate sigma
        "fսck",  # Armenian
        "ꓝꓴꓚꓗ",  # Lisu capitals
        "ЅНӀТ",  # Cyrillic capitals, palochka for the I
        "bastаrd",
        "ԁick",
        "ѕһіt happens",
    ],
    # small capitals, regional-indicator and enclosed letters
    "letter-likes": [
        "ꜰᴜᴄᴋ",
        "ꜱʜɪᴛ",
        "ᴄᴜɴᴛ",
        "ᴅɪᴄᴋ",
        "ʙɪᴛᴄʜ",
        "ᴀꜱꜱʜᴏʟᴇ",
        "🇫🇺🇨🇰",
        "🇸🇭🇮🇹",
        "🇨🇺🇳🇹",
        "🇩🇮🇨🇰",
        "🅵🆄🅲🅺",
        "🅢🅗🅘🅣",
        "🄵🅄🄲🄺",
        "⒡⒰⒞⒦",
        "ＦＵＣＫ",
    ],
    # letters kept apart by spaces, dots, hyphens, underscores, asterisks
    "separated": [
        "f u c k",
        "f.u.c.k",
        "s-h-i-t",
        "f_u_c_k",
        "f*u*c*k",
        "c u n t",
        "S H I T",
        "f. u. c. k.",
        "a s s h o l e",
        "b-i-t-c-h",
        "s h 1 t",
        "f u c k y o u",
        "d.i.c.k",
        "f / u / c / k",
    ],
    # invisible code points inside the word (default-ignorable: not drawn at all)
    "invisible": [
        "f\u034fuck",  # combining grapheme joiner
        "sh\u3164it",  # Hangul filler
        "fu\ufe0fck",  # variation selector 16
        "c\u115funt",  # Hangul choseong filler
        "sh\u1160it",  # Hangul jungseong filler
        "fu\ufe00ck",  # variation selector 1
        "f\U000e0020uck",  # tag space
        "sh\u180bit",  # Mongolian free variation selector
        "fu\u17b4ck",  # Khmer vowel inherent aq
        "f\uffa0uck",  # half-width Hangul filler
        "fu\u206fck",  # nominal digit shapes
        "c\U0001d173unt",  # musical symbol begin beam
        "bi\u200ctch",  # zero-width non-joiner
        "f\U000e0100uck",  # variation selector 17
    ],
    # plurals and inflections of listed words
    "inflected": [
        "fucks",
        "cunts",
        "shits",
        "motherfuckers",
        "fucked",
        "shitting",
        "fuckers",
        "bitched",
        "dicks",
        "fuckin'",
        "shittin'",
        "assholes",
        "bastards",
        "cocksuckers",
        "wankers",
    ],
    # written backwards
    "reversed": [
        "kcuf",
        "tihs",
        "tnuc",
        "hctib",
        "kcid",
        "elohssa",
        "kcuf uoy lumen",
    ],
    # emoji inside the word, or for one of its letters
    "emoji-infixed": [
        "fu🖕ck",
        "sh💩it",
        "cu🍆nt",
        "f🔥u🔥c🔥k",
        "bi😡tch",
        "di🍆ck",
        "fu❤️ck",
        "sh✨it",
        "f🖕ck",
        "fu👨\u200d👩\u200d👧ck",
    ],
    # letters of other alphabets read by their look: Cherokee (one of its letters looks like
    # no Latin one and is read as a masked letter), phonetic and upside-down letters
    "other alphabets": [
        "ᏚᎻᏆᎢ",
        "ʃhit",
        "ɟuck",
        "ɟuɔk",
        "ʃhitty",
        "ɟucking",
    ],
    # pipes and plus signs: letters kept apart, "|_|" for "u", "+" for "t"
    "pipes and plus signs": [
        "f|u|c|k",
        "f|_|ck",
        "b!+ch",
        "f+u+c+k",
        "c|_|nt",
        "b!+ches",
        "sh!+ty",
    ],
    # leetspeak stretched
    "leet stretched": [
        "sh1iiiiit",
        "sh!iiiit",
        "b1tchhhhh",
        "fuuuuuck1ng",
        "$$$hiiiit",
    ],
    # a word split in two, by a space, a hyphen or a dot, where the pieces are no words of their
    # own or only one of them is ("as", "it")
    "split in two": [
        "fu ck",
        "sh it",
        "fu-ck",
        "as shole",
        "bit ch",
        "cu nt",
        "di ck",
        "fu.ck this",
    ],
    # backwards and inflected
    "backwards inflected": [
        "skcuf",
        "gnikcuf",
        "sreggin",
        "srekcuf",
        "stnuc",
        "dekcuf",
    ],
    # hashtags that begin with digits
    "digits first": [
        "#2fuckingbad",
        "#1shitphone",
        "#4fuckssake",
        "#100shitcompany",
        "#1fuckup",
    ],
    # spellings the lists lack
    "spellings": [
        "fck",
        "fcuk",
        "biatch",
        "shyt",
        "fukk",
        "azzhole",
        "fcking",
        "phuk",
        "fukking",
        "fckers",
    ],
    # profanity of other languages that every reader knows, whatever the post's tag: in the
    # text, in hashtags, in a hashtag's words
    "other languages": [
        "vittu",
        "vitun paska",
        "perkele",
        "Scheiße",
        "merde",
        "putain",
        "mierda",
        "kurwa",
        "cazzo",
        "#vittu",
        "#paska",
        "#perkele",
        "#VITTUnokia",
        "#merde",
        "#KurwaNokia",
    ],
    # several at once
    "combined": [
        "ꜰ u с k",
        "#ѕһіtphone",
        "ＦＵＣＫｅｄ",
        "s.h.i.t.s",
        "🇫🇺🇨🇰🇸",
        "f\u034fucks",
        "ѕһіттing",
        "kcuf\ufe0f",
    ],
}

# ---------------------------------------------------------------------------------------------
# the clean corpus: look-alikes of the evasions that must be shown

CLEAN: dict[str, list[str]] = {
    # whole words that contain a listed word
    "words": [
        "Scunthorpe United won",
        "a classic analysis of the class",
        "a cocktail bar",
        "Dickens and Dickinson",
        "Assassin's Creed",
        "Sussex and Essex",
        "my therapist says so",
        "pass the grass",
        "Matsushita made it",
        "shiitake risotto",
        "shitake risotto",
        "passionate about bass",
        "a massive embassy",
        "the assistant will associate",
        "cockpit and peacock",
        "Hancock and Hitchcock",
        "a cockatoo",
        "the title of the constitution",
        "Titanic",
        "a petite document",
        "cucumber and cumin",
        "circumstances are cumulative",
        "scrape the grape",
        "an analyst at the canal",
        "Uranus and Janus",
        "a sextant and a sextet",
        "Middlesex",
        "spices and spicy food",
        "conspicuous and auspicious",
        "Pakistan",
        "spoon and harpoon",
        "raccoon and tycoon",
        "a cocoon",
        "twinkle twinkle",
        "a compass",
        "harassment is not ok",
    ],
    # everyday words that look like inflections or reversals of listed words
    "forms": [
        "spiced rum",
        "a cocked hat",
        "a cocker spaniel",
        "both sexes",
        "a titter went round",
        "E. E. Cummings",
        "flame-retarding foam",
        "Lana said hi",
        "Tums for the stomach",
        "stressed desserts",
    ],
    # hashtags that are words of their own, or whose case shows innocent words
    "hashtags": [
        "#Scunthorpe",
        "#therapist",
        "#therapistlife",
        "#cocktails",
        "#ClassAction",
        "#assassinscreed",
        "#PenIsland",
        "#cockatiel",
        "#Essex",
        "#grasshopper",
        "#analysis",
        "#passionfruit",
        "#shiitake",
        "#shitake",
        "#Matsushita",
        "#expertsexchange",
        "#whorepresents",
        "#cumulative",
        "#documentary",
        "#peacock",
        "#spicy",
        "#classicrock",
        "#SussexUni",
        "#Dickens",
        "#lumen2026",
        "#NoMoreFoo",
        "#scrapbook",
        "#Cockburn",
    ],
    # names and brands that begin or end with a listed word (in a display name: proper nouns)
    "names": [
        "Stephen Leacock",
        "Ann Alcock",
        "Titleist Golf",
        "Lisa Glasscock",
        "Ruth Babcock",
        "#Titrate",
    ],
    # names, titles and phrases around a listed word
    "names and phrases": [
        "Philip K. Dick on the Lumen",
        "Dick Smith Electronics sells Lumen",
        "Moby Dick audiobook on my Lumen",
        "Dick Van Dyke",
        "Dick Cheney",
        "P.K. Dick novels",
        "Spotted a great tit and a blue tit from the balcony",
        "blue tits at the feeder",
        "a spic-and-span finish",
        "spick and span",
        "tit for tat pricing",
        "#MobyDick",
        "#mobydick",
        "#Penistone",
        "#Cockermouth",
        "Penistone store opens",
        "cock-a-doodle-doo at dawn",
        "a pussy willow by the door",
    ],
    # pieces of words that are words of their own: never joined
    "pieces": [
        "is it",
        "as she said",
        "the pen is mightier",
        "an Al Gore speech",
        "as far as I know",
        "go as usual",
        "sh! it's a surprise",
        "a bit chilly",
    ],
    # single letters in a row that spell nothing listed
    "letters": [
        "I a m here",
        "U S A",
        "A B C",
        "U.S.A.",
        "J. R. R. Tolkien",
        "x y z",
        "it's a b c",
        "plan a b c",
        "a b c d e f",
        "I.B.M.",
        "A S A P",
        "D I Y",
        "T-I-M",
        "I'm a c++ dev",
    ],
    # other scripts, written in them
    "scripts": [
        "Это просто сок",
        "Мама купила телефон",
        "Το τηλέφωνο είναι καλό",
        "Ρακί και μεζέδες",
        "Тіт сказав, що телефон гарний",
        "Привет всем, отличный телефон",
        "Հայաստանը գեղեցիկ է",
        "新しい電話はとても良い",
    ],
    # emoji, invisible code points and look-alikes in innocent words
    "emoji": [
        "I ❤️ my Lumen",
        "great❤️phone",
        "🇺🇸🇬🇧 launch day",
        "🇩🇪🇮🇹 both sold out",
        "👨\u200d👩\u200d👧 family plan",
        "pass\ufe0fword",
        "сlass act",  # a Cyrillic es
        "ᴄʟᴀꜱꜱ",
        "ᴘᴀꜱꜱ",
        "🅰🅱🅲",
    ],
}


def post(text: str, *, name: str = "Ana", lang: str | None = "en") -> Post:
    return Post(
        id=f"jsonl:e{next(_ids)}",
        source="jsonl",
        feed="archive",
        text=clean_text(text),
        created_at=T0,
        author=Author("@ana@social.example", clean_name(name)),
        lang=lang,
    )


@pytest.fixture(scope="module")
def rules() -> RuleModeration:
    """The moderation hook of a wall that leaves ``[moderation]`` at its defaults."""
    return RuleModeration(ModerationConfig())


def verdict(rules: RuleModeration, p: Post) -> Moderation:
    return rules(p, fold(p.text))


def cases(corpus: dict[str, list[str]]) -> list[object]:
    return [
        pytest.param(text, id=f"{kind}-{i}")
        for kind, texts in corpus.items()
        for i, text in enumerate(texts)
    ]


def test_the_corpora_are_large_enough() -> None:
    assert sum(map(len, EVASIONS.values())) >= 100
    assert sum(map(len, CLEAN.values())) >= 100
    assert all(len(texts) >= 5 for texts in EVASIONS.values())


@pytest.mark.parametrize("variant", cases(EVASIONS))
def test_every_evasion_is_hidden_in_a_post(rules: RuleModeration, variant: str) -> None:
    for text, lang in ((f"Lumen is {variant} honestly", "en"), (variant, None)):
        result = verdict(rules, post(text, lang=lang))
        assert result.state == "hidden", text
        assert result.reasons[0].startswith("profanity: "), result.reasons


@pytest.mark.parametrize("variant", cases(EVASIONS))
def test_every_evasion_is_hidden_in_a_display_name(rules: RuleModeration, variant: str) -> None:
    result = verdict(rules, post("Lumen looks nice", name=variant))
    assert result.state == "hidden", variant
    assert result.reasons[0].startswith("author's name: profanity: "), result.reasons


@pytest.mark.parametrize("variant", cases(EVASIONS))
def test_no_evasion_can_trend(rules: RuleModeration, variant: str) -> None:
    # the terms trending would take from the variant (an operator may approve such a post): the
    # terms the filter lets through read as clean text, one by one and all together ("f\u034fuck"
    # gives only "uck")
    terms = term_scan(fold(clean_text(variant)))
    shown = [t for t in terms if not rules.blocks_term(t)]
    for text in (*shown, " ".join(shown)):
        if text:
            assert verdict(rules, post(text, lang=None)).state == "approved", (terms, text)


#: Clean texts the trending filter may still refuse: it sees a term alone and folded, without
#: the case that shows a hashtag's words or a name ("PenIsland", "Leacock") or the text around a
#: word of another script ("ρακί" is a drink in a Greek post, but "ρακι" alone reads "paki").
#: Their posts and names are shown.
TRENDING_MAY_REFUSE = frozenset(
    {
        "#PenIsland",
        "Stephen Leacock",
        "Lisa Glasscock",
        "#Titrate",
        "Ρακί και μεζέδες",
        "Тіт сказав, що телефон гарний",
        # a listed word that is innocent in its name or phrase, alone as a term
        "Philip K. Dick on the Lumen",
        "Dick Smith Electronics sells Lumen",
        "Dick Van Dyke",
        "Dick Cheney",
        "P.K. Dick novels",
        "#Penistone",
        "Penistone store opens",
        "#MobyDick",
        "Moby Dick audiobook on my Lumen",
        "Spotted a great tit and a blue tit from the balcony",
        "blue tits at the feeder",
        "tit for tat pricing",
        "a pussy willow by the door",
        # pieces that make a listed word when read together, as a two-word term
        "a bit chilly",
    }
)


@pytest.mark.parametrize("text", cases(CLEAN))
def test_every_clean_look_alike_is_shown(rules: RuleModeration, text: str) -> None:
    assert verdict(rules, post(text)).state == "approved", text
    assert verdict(rules, post(text, lang=None)).state == "approved", text
    assert verdict(rules, post("Lumen looks nice", name=text)).state == "approved", text
    if text not in TRENDING_MAY_REFUSE:
        blocked = [t for t in term_scan(fold(clean_text(text))) if rules.blocks_term(t)]
        assert not blocked, blocked


def test_what_a_backwards_or_inflected_word_is_reported_as_does_not_depend_on_the_hash_seed() -> (
    None
):
    """The word lists are sets: their order changes with the interpreter's hash seed. The word
    a hidden post is reported for must not (an operator compares reasons across restarts)."""
    script = (
        "from agora.core.moderation import RuleModeration\n"
        "from agora.config.schema import ModerationConfig\n"
        "from agora.core.text import fold\n"
        "r = RuleModeration(ModerationConfig())\n"
        "lex = r._wide_lexicon()\n"
        "for t in ('srekcuf', 'gnikcuf', 'sreggin', 'fuckers', 'shitting'):\n"
        "    print(t, lex.scan(t, fold(t)) if lex is not None else None)\n"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1, outputs
    assert "srekcuf ('fucker'" in outputs.pop()
