"""The Hacker News (Algolia) source against a local server."""

from __future__ import annotations

import copy
from typing import Any

from pytest_httpserver import HTTPServer

from agora.config.schema import HackerNewsSource as HackerNewsConfig
from agora.sources.hackernews import HackerNewsSource
from tests.unit.sourcekit import Cursors, check_post, context, load, quick, run

PATH = "/api/v1/search_by_date"


def make(server: HTTPServer, cursors: Cursors | None = None) -> HackerNewsSource:
    config = HackerNewsConfig(
        name="hn", kind="hackernews", base_url=server.url_for("/"), query="lumen"
    )
    source = HackerNewsSource(config, context(cursors))
    quick(source)
    return source


def page() -> dict[str, Any]:
    return copy.deepcopy(load("hackernews_search_by_date.json"))


def test_stories_and_comments_become_posts(server: HTTPServer) -> None:
    server.expect_request(
        PATH,
        query_string={
            "query": "lumen",
            "tags": "(story,comment)",
            "hitsPerPage": "100",
            "page": "0",
        },
    ).respond_with_json(page())
    cursors = Cursors()
    source = make(server, cursors)
    posts = run(source.fetch())
    assert [p.id for p in posts] == [
        "hackernews:41999990",
        "hackernews:42000009",
        "hackernews:42000001",
    ]
    for post in posts:
        check_post(post, "hackernews")
    ask, comment, story = posts
    assert ask.text == (
        "Ask HN: Lumen or Corvid? Has anyone moved from a Corvid to a Lumen? "
        "How is the battery & camera?"
    )
    assert comment.text.startswith("The Lumen X1's modem is the interesting part.")
    assert "https://example.com/teardown" in comment.text
    assert comment.reply_to == "hackernews:42000005"
    assert comment.metrics.likes is None
    assert story.metrics.likes == 48 and story.metrics.replies == 12
    assert story.media[0].url == "https://example.com/review"
    assert story.url == "https://news.ycombinator.com/item?id=42000001"
    assert story.author.handle == "pmt" and story.author.followers is None
    assert story.author.avatar_url is None
    state = cursors.state("hn")
    assert state == {"since": 1795341800, "seen": ["42000001", "42000009"]}


def test_restart_slides_the_filter_and_skips_what_was_seen(server: HTTPServer) -> None:
    cursors = Cursors()
    cursors.set_cursor("hn", '{"since": 1795341800, "seen": ["42000001", "42000009"]}')
    newer = page()
    newer["hits"] = [
        {
            **newer["hits"][1],
            "objectID": "42000020",
            "created_at_i": 1795341900,
            "title": "Lumen 2",
        },
        *newer["hits"][:2],
    ]
    server.expect_request(
        PATH,
        query_string={
            "query": "lumen",
            "tags": "(story,comment)",
            "hitsPerPage": "100",
            "numericFilters": "created_at_i>=1795341800",
            "page": "0",
        },
    ).respond_with_json(newer)
    source = make(server, cursors)
    posts = run(source.fetch())
    assert [p.id for p in posts] == ["hackernews:42000020"]
    assert cursors.state("hn") == {"since": 1795341900, "seen": ["42000020"]}


def test_full_pages_are_followed(server: HTTPServer) -> None:
    cursors = Cursors()
    cursors.set_cursor("hn", '{"since": 1795000000, "seen": []}')
    source = make(server, cursors)
    source.hits_per_page = 2
    first = page()
    first["hits"], first["nbPages"] = first["hits"][:2], 2
    second = page()
    second["hits"], second["nbPages"], second["page"] = second["hits"][2:], 2, 1
    server.expect_oneshot_request(PATH).respond_with_json(first)
    server.expect_oneshot_request(PATH).respond_with_json(second)
    posts = run(source.fetch())
    assert len(posts) == 3
    pages = [req.args["page"] for req, _ in server.log]
    assert pages == ["0", "1"]


def test_empty_page_is_a_quiet_success(server: HTTPServer) -> None:
    empty = page()
    empty["hits"], empty["nbHits"], empty["nbPages"] = [], 0, 0
    server.expect_request(PATH).respond_with_json(empty)
    source = make(server)
    assert run(source.fetch()) == []
    assert source.health.state == "ok"


def test_malformed_hits_are_skipped(server: HTTPServer) -> None:
    data = page()
    data["hits"] += [
        {"objectID": "1", "created_at_i": 1795341000, "author": "x"},
        {"created_at_i": 1795341000, "author": "x", "title": "no id"},
        [1, 2],
    ]
    server.expect_request(PATH).respond_with_json(data)
    source = make(server)
    assert len(run(source.fetch())) == 3
    assert source.problems.counts == {"empty-text": 1, "missing-id": 1, "not-an-object": 1}
    assert source.health.state == "degraded"


def test_an_answer_without_hits_is_a_payload_error(server: HTTPServer) -> None:
    server.expect_request(PATH).respond_with_json({"message": "Invalid query"})
    cursors = Cursors()
    cursors.set_cursor("hn", '{"since": 5, "seen": []}')
    source = make(server, cursors)
    run(source.fetch())
    assert source.health.state == "failing"
    assert "no list of hits" in (source.health.last_error or "")
    assert cursors.state("hn") == {"since": 5, "seen": []}  # the cursor is kept
