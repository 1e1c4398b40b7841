"""Secrets out of every output: the redactor's patterns, every log handler, tracebacks, hooks,
source health, and secrets read by a later config load (a hot reload)."""

from __future__ import annotations

import base64
import io
import json
import logging
import secrets
import string
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from agora.config.loader import ConfigError, load_config
from agora.core.pipeline import Normaliser
from agora.core.post import Author, Media, Post
from agora.core.problems import ProblemLog
from agora.core.redact import MARK, Redactor, redact, redact_post, remember_secrets
from agora.service import (
    JsonFormatter,
    TextFormatter,
    file_log_handler,
    install_redaction,
    stderr_log_handler,
)
from agora.sources.base import SourceContext
from agora.sources.http import AuthError
from agora.sources.live import LiveSource
from agora.sources.registry import build_source
from agora.sources.x import XSource


def token(extra: str = "") -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32)) + extra


# -- the patterns ------------------------------------------------------------------------------


def test_a_configured_secret_is_hidden_in_every_form_it_travels_in() -> None:
    value = token("+/=&")
    redactor = Redactor()
    redactor.add([value])
    basic = base64.b64encode(f"client-id:{value}".encode()).decode()
    for text in (
        f"GET /feed/{value}/x",
        f"redirect_uri=https%3A%2F%2Fh%2F{quote(value, safe='')}",
        json.dumps({"echo": value}),
        f"seen {basic} in an answer",  # Basic auth: id:secret encoded together
        base64.urlsafe_b64encode(b"ab" + value.encode()).decode(),
    ):
        cleaned = redactor.redact(text)
        assert MARK in cleaned, text
        assert value not in cleaned
        assert quote(value, safe="") not in cleaned
    assert redactor.redact("abc12") == "abc12"  # short values are never configured secrets


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # libraries' lines carrying credentials the config never held (a server's redirect)
        ("GET http://h/x?limit=1&access_token=SRVtok123&x=1", "limit=1&access_token="),
        ("GET http://h/x?token=abc123def&b=2", "&b=2"),
        ("https://h/v3?part=id&key=AIzaSyD-abcdef123", "part=id&key="),
        ("POST /oauth client_id=me&client_secret=s3cr3tvalue", "client_id=me"),
        ("login?user=kim&password=hunter2hunter2", "user=kim"),
        ("api_key=zzzyyyxxx1 apikey=qqq111", "api_key="),
        ("next=https%3A%2F%2Fh%3Faccess_token%3Dxyz987abc", "next=https"),
        ("(b'Location', b'/r?access_token=abc'), (b'Server', b'x')", "(b'Server', b'x')"),
        ("(b'WWW-Authenticate', b'Bearer realm=abc123XYZ')", "(b'WWW-Authenticate', b'"),
        ("> Authorization: Bearer abcdef123456", "> Authorization: "),
        ("{'authorization': 'Basic dXNlcjpwYXNz', 'accept': '*/*'}", "'accept': '*/*'"),
        ("X-Goog-Api-Key: AIzaSyD-abcdef123", "X-Goog-Api-Key: "),
        ('{"error": "bad", "access_token": "zz9yy8xx7"}', '"error": "bad"'),
        ("https://kim:pa55word@example.org/feed", "https://kim:"),
        ("Cookie: session=abcdef0123", "Cookie: "),
    ],
)
def test_credentials_of_any_value_are_hidden(text: str, kept: str) -> None:
    cleaned = Redactor().redact(text)
    assert MARK in cleaned, cleaned
    assert kept in cleaned, cleaned
    for value in (
        "SRVtok123",
        "abc123def",
        "AIzaSyD",
        "s3cr3tvalue",
        "hunter2",
        "zzzyyy",
        "qqq111",
        "xyz987",
        "abcdef123456",
        "dXNlcjpwYXNz",
        "zz9yy8",
        "pa55word",
        "abcdef0123",
        "abc123XYZ",
    ):
        assert value not in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "127.0.0.1: the bearer token was refused (401)",
        "mastodon.social: the access token was refused (401)",
        "no authorization, try again",
        "monkey=3 turkey=4 keyframe=5",
        "config reloaded: wall.toml: sources: restarted fedi; screens rebuilt",
        "the key frames of the Basic plan",
        "store: /srv/agora/lobby.sqlite3; the password field is empty",
    ],
)
def test_ordinary_messages_stay_readable(text: str) -> None:
    assert Redactor().redact(text) == text


# -- logging -----------------------------------------------------------------------------------


@pytest.fixture
def redacting() -> Iterator[None]:
    """Redaction installed as ``agora`` installs it, undone afterwards."""
    factory = logging.getLogRecordFactory()
    hooks = (threading.excepthook,)
    install_redaction()
    try:
        yield
    finally:
        logging.setLogRecordFactory(factory)
        (threading.excepthook,) = hooks


def test_every_handler_gets_redacted_records(redacting: None, tmp_path: Path) -> None:
    value = token()
    remember_secrets([value])
    stream = io.StringIO()
    plain = logging.StreamHandler(stream)  # someone else's handler (the wall's status line)
    plain.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    ours = stderr_log_handler()
    ours_stream = io.StringIO()
    assert isinstance(ours, logging.StreamHandler)
    ours.setStream(ours_stream)
    log_file = file_log_handler(tmp_path / "wall.log")
    logger = logging.getLogger("agora.test.redaction")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    for handler in (plain, ours, log_file):
        logger.addHandler(handler)
    try:
        logger.info("HTTP Request: GET %s", f"http://h/moved/{value}/feed?access_token=srv987zyx")
        try:
            raise RuntimeError(f"answer echoed {value}")
        except RuntimeError:
            logger.exception("the round failed for %s", "fedi")
        logger.warning("stack", stack_info=True, extra={"detail": f"token={value}"})
    finally:
        for handler in (plain, ours, log_file):
            logger.removeHandler(handler)
        log_file.close()
    written = stream.getvalue() + ours_stream.getvalue()
    written += (tmp_path / "wall.log").read_text(encoding="utf-8")
    assert value not in written and "srv987zyx" not in written
    assert "Traceback" in stream.getvalue() and "answer echoed «redacted»" in stream.getvalue()
    entries = [json.loads(line) for line in (tmp_path / "wall.log").read_text().splitlines()]
    assert entries[1]["error"] == "RuntimeError: answer echoed «redacted»"
    assert "answer echoed «redacted»" in entries[1]["trace"]
    assert entries[2]["detail"] == "token=«redacted»"


def test_a_thread_that_dies_prints_a_redacted_traceback(
    redacting: None, capsys: pytest.CaptureFixture[str]
) -> None:
    value = token()
    remember_secrets([value])

    def work() -> None:
        raise ValueError(f"GET /x?token={value}")

    thread = threading.Thread(target=work, name="worker")
    thread.start()
    thread.join()
    err = capsys.readouterr().err
    assert "Exception in thread worker" in err and "ValueError: GET /x?token=«redacted»" in err
    assert value not in err


def test_a_secret_read_by_a_later_load_is_hidden_from_then_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hot reload reads the config again: a secret that only the new file names is hidden as
    soon as it is read, before any source sends it."""
    value = token()
    assert redact(f"/path/{value}") == f"/path/{value}"
    monkeypatch.setenv("AGORA_TEST_RELOAD_SECRET", value)
    config = tmp_path / "wall.toml"
    config.write_text(
        '[wall]\nname = "w"\n[[sources]]\nname = "fedi"\nkind = "mastodon"\n'
        'hashtags = ["a"]\ntoken = "env:AGORA_TEST_RELOAD_SECRET"\n',
        encoding="utf-8",
    )
    load_config(config)
    assert redact(f"/path/{value}") == f"/path/{MARK}"


def test_a_source_error_quoting_a_secret_is_stored_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = token()
    monkeypatch.setenv("AGORA_TEST_HEALTH_SECRET", value)
    config = tmp_path / "wall.toml"
    config.write_text(
        '[wall]\nname = "w"\n[[sources]]\nname = "xapi"\nkind = "x"\nquery = "q"\n'
        'bearer_token = "env:AGORA_TEST_HEALTH_SECRET"\n',
        encoding="utf-8",
    )
    loaded = load_config(config)
    source = build_source(loaded.config.sources[0], SourceContext(loaded.config, tmp_path))
    source.mark_error(f"api.x.com: the bearer token was refused: Unauthorized {value}")
    assert (
        source.health.last_error
        == "api.x.com: the bearer token was refused: Unauthorized «redacted»"
    )
    source.mark_error("api.x.com: answered 400 for ?query=q&token=abcdef123")
    assert source.health.last_error == "api.x.com: answered 400 for ?query=q&token=«redacted»"


def test_formatters_redact_what_they_write() -> None:
    value = token()
    remember_secrets([value])
    record = logging.LogRecord("agora.t", logging.ERROR, __file__, 1, "%s", (value,), None)
    assert TextFormatter().format(record).endswith("agora.t: «redacted»")
    assert json.loads(JsonFormatter().format(record))["msg"] == MARK


# -- issue 13: what the attacker's review still saw --------------------------------------------

SIGNED = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250101"
    "&X-Amz-Security-Token=FQoGZXIvYXdzEJrSessionTok3n&X-Amz-Signature=9f2c8e1d7a6b5c4d3e2f"
    "&session=8f14e45fceea167a5a36dedd4bea2543&code=SplxlOBeZQQYbYS6WxSbIA"
)
SERVER_VALUES = ("AKIAIOSFODNN7", "FQoGZXIv", "9f2c8e1d7a6b", "8f14e45fceea", "SplxlOBeZQQ")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (
            f'HTTP Request: GET https://bucket.s3.example/feeds/lumen.xml?{SIGNED} "HTTP/1.1 200 OK"',
            'GET https://bucket.s3.example/feeds/lumen.xml?… "HTTP/1.1 200 OK"',
        ),
        (
            f"redirected to https://app.example/cb#{SIGNED}, giving up",
            "redirected to https://app.example/cb#…, giving up",
        ),
        (
            f"(b'Server', b'x'), (b'Location', b'/signed-feed?{SIGNED}'), (b'Date', b'now')",
            "(b'Location', b'/signed-feed?…'), (b'Date', b'now')",
        ),
        (f"GET https://h.example/cb?{SIGNED}: refused", "GET https://h.example/cb?…: refused"),
    ],
)
def test_urls_lose_their_query_and_fragment_whatever_the_parameter_names(
    text: str, kept: str
) -> None:
    """A server may redirect to a pre-signed URL with credentials under names nobody can list:
    what any output shows of a URL is its host and path."""
    cleaned = redact(text)
    assert kept in cleaned, cleaned
    assert not [v for v in SERVER_VALUES if v in cleaned], cleaned


def test_a_library_log_line_with_a_pre_signed_url_keeps_host_and_path(redacting: None) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # someone else's handler: the record is cleaned
    logger = logging.getLogger("agora.test.presigned")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("HTTP Request: GET %s %s", f"http://127.0.0.1:8/feed?{SIGNED}", '"200 OK"')
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == 'HTTP Request: GET http://127.0.0.1:8/feed?… "200 OK"\n'


@pytest.mark.parametrize(
    "text",
    [
        # credentials outside a full URL (a relative redirect, a body, an error message)
        "/cb?sid=8f14e45fceea167a5a36dedd4bea2543",
        "/x?jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcDEF123",
        "/x?a=1&auth=8f14e45fceea167a5a36dedd4bea2543",
        "/cb#access_token=ya29.a0AfH6SMBx3",
        "/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=1",
        "/o?X-Amz-Security-Token=FQoGZXIvYXdzEJr%2F%2F&X-Amz-Credential=AKIAEXAMPLE",
        '{"accessJwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIi", "refreshJwt": "eyJhbGciOiJIUzI1NiJ9.eyJ"}',
        "sent Token 8f14e45fceea167a5a36dedd4bea2543",
        "Authorization failed for bearer abcdefghijklmnopqrstuvwxyz",
        """{'token': 'ab"cd\\'ef-8f14e45fceea'}""",  # a repr whose value holds both quotes
    ],
)
def test_more_credentials_of_any_value_are_hidden(text: str) -> None:
    cleaned = Redactor().redact(text)
    assert MARK in cleaned, cleaned
    for value in ("8f14e45f", "eyJhbGci", "ya29", "SplxlOBe", "FQoGZXIv", "abcdefghijklmnop"):
        assert value not in cleaned, cleaned
    assert "8f14e45fceea" not in cleaned and "ef-8f14" not in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "fedi: exit code=1 after 3 s; session ended",
        "the token expired; token refresh failed",
        "auth=basic is not supported by this server",
        "GET https://mastodon.social/api/v1/timelines/tag/lumen (no query)",
        "the bearer token was refused; the authorization header is missing",
    ],
)
def test_prose_about_credentials_stays_readable(text: str) -> None:
    assert redact(text) == text


def longest_piece(text: str, value: str) -> int:
    """The length of the longest stretch of ``value`` found in ``text`` (in any case)."""
    text, value = text.lower(), value.lower()
    best = 0
    for start in range(len(value)):
        length = best + 1
        while start + length <= len(value) and value[start : start + length] in text:
            best = length
            length += 1
    return best


SYMBOLS = "Tk/9+zQ=ab:cd\"e'f\\gé"  # a token with the symbols a real API may issue


@pytest.mark.parametrize(
    ("form", "shown"),
    [
        (lambda v: quote(v, safe="").lower(), lambda v: quote(v, safe="")),  # lower-case %xx
        (lambda v: v.encode().hex(), lambda v: v.encode().hex()),
        (str.upper, str.upper),
        (lambda v: repr({"token": v}), lambda v: v),
        (lambda v: repr({"token": v, "n": "it's"}), lambda v: v),
        (lambda v: repr(v.encode()), lambda v: repr(v.encode())[2:-1]),
        (lambda v: json.dumps({"echo": v}), lambda v: json.dumps(v)[1:-1]),
        (lambda v: f"{v[:8]}\n{v[8:]}", lambda v: v),  # split across lines
        (lambda v: f"Traceback:\n  x = '{v[:9]}\n    {v[9:]}'", lambda v: v),  # and indented
    ],
)
def test_a_configured_secret_is_hidden_in_more_forms(
    form: Callable[[str], str], shown: Callable[[str], str]
) -> None:
    value = SYMBOLS + token()[:10]
    redactor = Redactor()
    redactor.add([value])
    cleaned = redactor.redact(form(value))
    assert MARK in cleaned, cleaned
    # a random secret may share a few letters with the text around it by chance ("okEN" with
    # "token"): what the text around it and the mark hold by themselves is no leak
    around = longest_piece(form("") + MARK, shown(value))
    assert longest_piece(cleaned, shown(value)) < max(4, around + 1), cleaned


def test_a_cut_secret_is_hidden() -> None:
    """Messages are cut to a length: any 12+ characters a secret starts with are hidden, and
    as many more as the text goes on agreeing with it."""
    value = token() + token()
    x_like = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0uSeidULvsea4JtiGRiSDSJSIEUifiRBkKG5E2XzMDjRfl76ZC9U"
    redactor = Redactor()
    redactor.add([value, x_like])
    for secret, cut in [(value, 12), (value, 13), (value, 63), (x_like, 30), (x_like, 59)]:
        text = f"Unauthorized: token {secret[:cut]}…"
        assert redactor.redact(text) == f"Unauthorized: token {MARK}…"
    assert redactor.redact(value[:11]) == value[:11]  # shorter pieces could be anything


def test_short_secrets_are_hidden_as_whole_words_only() -> None:
    redactor = Redactor()
    redactor.add(["ab12c", "xyz"])
    assert redactor.redact("webhook token ab12c refused") == f"webhook token {MARK} refused"
    assert redactor.redact("xab12cx and xyz stay") == "xab12cx and xyz stay"


def write_wall(tmp_path: Path, sources: str) -> Path:
    config = tmp_path / "wall.toml"
    config.write_text(f'[wall]\nname = "w"\n{sources}', encoding="utf-8")
    return config


def test_the_config_refuses_secrets_too_short_to_be_real(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGORA_TEST_SHORT_HOOK", "k")
    monkeypatch.setenv("AGORA_TEST_SHORT_TOKEN", "abc123")
    config = write_wall(
        tmp_path,
        '[[sources]]\nname = "push"\nkind = "webhook"\ntoken = "env:AGORA_TEST_SHORT_HOOK"\n'
        '[[sources]]\nname = "fedi"\nkind = "mastodon"\nhashtags = ["a"]\n'
        'token = "env:AGORA_TEST_SHORT_TOKEN"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    message = str(caught.value)
    assert (
        "environment variable AGORA_TEST_SHORT_HOOK holds 1 characters; a webhook token (all "
        "that keeps other callers out) takes at least 16; make one with: python3 -c" in message
    )
    assert (
        "environment variable AGORA_TEST_SHORT_TOKEN holds 6 characters; a secret takes at "
        "least 8" in message
    )
    assert "abc123" not in message
    monkeypatch.setenv("AGORA_TEST_SHORT_HOOK", "k" * 15)
    with pytest.raises(ConfigError, match="AGORA_TEST_SHORT_HOOK holds 15 characters"):
        load_config(config)
    monkeypatch.setenv("AGORA_TEST_SHORT_HOOK", token())
    monkeypatch.setenv("AGORA_TEST_SHORT_TOKEN", "abcd1234")
    assert len(load_config(config).config.sources) == 2


def test_an_x_error_title_is_redacted_before_it_is_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """X's 401 title quoting the token after 70 other characters: cut at 80 first, 9 of its
    characters would be shown, too few to be known as a piece of it afterwards."""
    # letters and digits the message's own words do not use: a piece of the token found in it
    # can only be the token's (a random one shared "toke" or "bear" with it now and then)
    value = "".join(secrets.choice("gjlqvy0123456789") for _ in range(64))
    monkeypatch.setenv("AGORA_TEST_CUT_SECRET", value)
    config = write_wall(
        tmp_path,
        '[[sources]]\nname = "xapi"\nkind = "x"\nquery = "q"\n'
        'bearer_token = "env:AGORA_TEST_CUT_SECRET"\n',
    )
    loaded = load_config(config)
    source = build_source(loaded.config.sources[0], SourceContext(loaded.config, tmp_path))
    assert isinstance(source, XSource)
    title = "Unauthorized:" + "x" * 57 + value
    refused = AuthError("401", status=401, body=json.dumps({"title": title}).encode())
    message = source._auth_error(refused).message
    assert message.startswith("api.x.com: the bearer token was refused: Unauthorized:xxx")
    assert longest_piece(message, value) < 4, message


EVIL = "1\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b[31mFAKE\x1b[0m\x9b31m\r\x08\x00"


def test_log_messages_carry_no_terminal_escapes_or_control_characters(
    redacting: None,
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("agora.test.escapes")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("status %s has no text", EVIL)
        # a server's text with a line break cannot pass for a record of its own
        logger.warning("status %s", "7\n2026-01-01 00:00:00,000 INFO agora: all sources ok")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert not [c for c in written if unicodedata.category(c) == "Cc" and c != "\n"], written
    # a carriage return is a line break too (on a terminal it would overwrite the line)
    assert written.splitlines() == [
        "status 1FAKE",
        "     has no text",
        "status 7",
        "    2026-01-01 00:00:00,000 INFO agora: all sources ok",
    ]


def test_source_health_carries_no_terminal_escapes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_wall(
        tmp_path, '[[sources]]\nname = "fedi"\nkind = "mastodon"\nhashtags = ["lumen"]\n'
    )
    loaded = load_config(config)
    source = build_source(loaded.config.sources[0], SourceContext(loaded.config, tmp_path))
    assert isinstance(source, LiveSource)
    evil = EVIL.replace("\r", "")  # the health keeps a message's first line
    source.report_item("no-text", f"status {evil} has no text")
    source.succeed(0)
    assert source.health.last_error == "mastodon.social: status 1FAKE has no text"
    source.mark_error(f"mastodon.social: answered 400 for {evil}")
    assert source.health.last_error == "mastodon.social: answered 400 for 1FAKE"


def test_a_post_that_echoes_a_configured_secret_is_kept_without_it() -> None:
    """A server that puts the token it was sent into a post (text, author, links, pictures):
    the pipeline's normaliser hides it before the post is stored, printed or drawn."""
    value = token()
    remember_secrets([value])
    post = Post(
        id=f"mastodon:h:{value}",
        source="mastodon",
        feed="fedi",
        text=f"lumen debug: you sent Bearer {value}\nand again {value.lower()}",
        created_at=datetime.now(UTC),
        author=Author(f"@{value[:20]}", f"Bearer {value}", avatar_url=f"https://h/a?t={value}"),
        url=f"https://h/p/{quote(value)}",
        media=(Media(kind="image", url="https://h/i.png", alt=f"token {value}"),),
    )
    problems = ProblemLog(logging.getLogger("agora.test.pipeline"))
    kept = Normaliser(problems)(post, datetime.now(UTC))
    assert kept is post
    assert post.text == f"lumen debug: you sent Bearer {MARK} and again {MARK}"
    assert post.author.handle == f"@{MARK}" and post.author.name == f"Bearer {MARK}"
    assert post.id == f"mastodon:h:{MARK}" and post.url == f"https://h/p/{MARK}"
    assert post.author.avatar_url == f"https://h/a?t={MARK}"
    assert post.media[0].alt == f"token {MARK}" and post.media[0].url == "https://h/i.png"
    assert problems.counts["secret-in-post"] == 1
    # a post without one is left as it was
    plain = replace(
        post, id="mastodon:h:2", text="lumen is lovely", author=Author("@kim"), url=None, media=()
    )
    assert not redact_post(plain) and plain.text == "lumen is lovely"


def test_a_cut_of_a_secret_that_starts_with_a_run_is_hidden_but_screaming_is_not() -> None:
    """Every X bearer token starts with twenty-one "A": a cut of one is hidden, a post that
    screams is not mistaken for one."""
    value = "A" * 21 + token() + token()
    redactor = Redactor()
    redactor.add([value])
    assert redactor.redact(f"token {value[:40]}…") == f"token {MARK}…"
    assert redactor.redact(f"xAAAA{value[:60]}") == f"xAAAA{MARK}"
    screaming = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAH lumen is out"
    assert redactor.redact(screaming) == screaming
    assert redactor.hide(screaming.lower()) == screaming.lower()
