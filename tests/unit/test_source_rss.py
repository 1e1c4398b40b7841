"""The RSS/Atom source against a local server: entries, validators, ttl, broken feeds."""

from __future__ import annotations

import time

from pytest_httpserver import HTTPServer

from agora.config.schema import RssSource as RssConfig
from agora.sources.http import describe_url
from agora.sources.rss import RssSource
from tests.unit.sourcekit import DATA, Cursors, check_post, context, quick, run

NEWS = (DATA / "rss_google_news.xml").read_bytes()
BLOG = (DATA / "atom_blog.xml").read_bytes()


def make(server: HTTPServer, *paths: str, cursors: Cursors | None = None) -> RssSource:
    urls = [server.url_for(p) for p in paths]
    config = RssConfig(name="news", kind="rss", url=urls[0], urls=urls[1:])
    source = RssSource(config, context(cursors))
    quick(source)
    return source


def test_google_news_items_become_posts(server: HTTPServer) -> None:
    server.expect_request("/rss/search").respond_with_data(
        NEWS, content_type="application/xml; charset=UTF-8"
    )
    source = make(server, "/rss/search")
    posts = run(source.fetch())
    assert [p.text for p in posts] == [
        "Corvid answers Lumen with a price cut",
        "Lumen X1 review: the best screen this year",
    ]
    for post in posts:
        check_post(post, "rss")
    cut, review = posts
    assert review.id == f"rss:{describe_url(server.url_for('/'))}:CBMiAAA1"
    assert review.author.handle == "Phone Weekly"
    assert review.author.url == "https://phoneweekly.example"
    assert review.url == "https://news.google.com/rss/articles/CBMiAAA1?oc=5"
    assert review.lang == "en-US"
    assert review.created_at.isoformat() == "2026-11-22T09:40:00+00:00"
    assert review.metrics.likes is None and review.author.followers is None
    assert cut.media[0].url == "https://dailytech.example/img/cut.jpg"
    assert source.health.state == "ok"


def test_atom_entries_text_author_and_media(server: HTTPServer) -> None:
    server.expect_request("/atom.xml").respond_with_data(BLOG, content_type="application/atom+xml")
    posts = run(make(server, "/atom.xml").fetch())
    notes, camera = posts
    assert camera.id == "rss:tag:blog.lumen.example,2026:x1-camera"
    assert camera.text == (
        "How we built the X1 & its camera Three sensors, one pipeline. "
        "Here is how the X1 camera came together."
    )
    assert camera.author.handle == "Mia Koskinen"
    assert "@" not in notes.author.handle  # an e-mail is never an author name
    assert notes.author.handle == "Lumen Engineering Blog"
    assert camera.media[0].kind == "video"
    assert notes.created_at.isoformat() == "2026-11-21T12:00:00+00:00"


def test_unchanged_feeds_are_not_downloaded_again_even_after_a_restart(server: HTTPServer) -> None:
    server.expect_oneshot_request("/atom.xml").respond_with_data(
        BLOG, content_type="application/atom+xml", headers={"ETag": '"b1"'}
    )
    cursors = Cursors()
    assert len(run(make(server, "/atom.xml", cursors=cursors).fetch())) == 2
    server.expect_oneshot_request("/atom.xml", headers={"If-None-Match": '"b1"'}).respond_with_data(
        "", 304
    )
    again = make(server, "/atom.xml", cursors=cursors)
    assert run(again.fetch()) == []
    assert again.health.state == "ok"
    # the feed changed but still holds the old entries: only the new one is shown
    changed = BLOG.replace(b"<entry>", b"<entry><id>new-one</id><title>Fresh news</title>", 1)
    server.expect_oneshot_request("/atom.xml").respond_with_data(
        changed.replace(b"<id>tag:blog.lumen.example,2026:x1-camera</id>", b""),
        content_type="application/atom+xml",
    )
    server.expect_oneshot_request("/atom.xml").respond_with_data(
        BLOG, content_type="application/atom+xml"
    )
    third = make(server, "/atom.xml", cursors=cursors)
    assert [p.text.split(" ")[0] for p in run(third.fetch())] == ["Fresh"]
    assert run(third.fetch()) == []
    server.check_assertions()


def test_a_feeds_ttl_is_honoured(server: HTTPServer) -> None:
    server.expect_request("/rss").respond_with_data(NEWS, content_type="application/rss+xml")
    cursors = Cursors()
    source = make(server, "/rss", cursors=cursors)
    source.config = source.config.model_copy(update={"every": 60.0})
    run(source.fetch())
    run(source.fetch())
    assert (
        sum(1 for req, _ in server.log if req.path == "/rss") == 1
    )  # <ttl>15</ttl>: not asked again for 15 minutes
    assert cursors.state("news")["feeds"][server.url_for("/rss")]["next_at"] > time.time() + 800


def test_an_html_page_is_not_a_feed(server: HTTPServer) -> None:
    server.expect_request("/rss").respond_with_data(
        "<!DOCTYPE html><html><body>Consent required</body></html>", content_type="text/html"
    )
    source = make(server, "/rss")
    assert run(source.fetch()) == []
    assert source.health.state == "failing"
    assert (
        source.health.last_error
        == f"{describe_url(server.url_for('/rss'))} answered with an HTML page, not a feed"
    )


def test_a_broken_feed_is_read_as_far_as_it_goes(server: HTTPServer) -> None:
    truncated = NEWS[: NEWS.index(b"<item>", NEWS.index(b"<item>") + 1) + 30]
    server.expect_request("/rss").respond_with_data(truncated, content_type="application/rss+xml")
    source = make(server, "/rss")
    posts = run(source.fetch())
    assert len(posts) >= 1
    assert source.problems.counts["malformed-feed"] == 1
    assert source.health.state == "degraded"


def test_one_failing_feed_does_not_stop_the_others(server: HTTPServer) -> None:
    server.expect_request("/good").respond_with_data(BLOG, content_type="application/atom+xml")
    server.expect_request("/bad").respond_with_data("oops", 500)
    source = make(server, "/bad", "/good")
    assert len(run(source.fetch())) == 2
    assert source.health.state == "degraded"
    assert source.problems.counts["feed-failed"] == 1
    assert "server error 500" in (source.health.last_error or "")


def test_every_feed_failing_fails_the_round(server: HTTPServer) -> None:
    server.expect_request("/a").respond_with_data("oops", 503)
    server.expect_request("/b").respond_with_data("", 404)
    source = make(server, "/a", "/b")
    run(source.fetch())
    assert source.health.state == "failing"
