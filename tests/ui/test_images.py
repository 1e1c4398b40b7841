"""Pictures on the wall: the image loader against a real local HTTP server, its bounded disk
cache across a restart, the featured card showing a post's own picture, and hostile picture URLs
(the wall's own machine, redirects into it, slow and endless bodies)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QColor, QImage
from pytest_httpserver import HTTPServer
from pytestqt.qtbot import QtBot

from agora.config.schema import PanelConfig, WallSection
from agora.core.post import Media
from agora.core.snapshot import Snapshot
from agora.ui.images import ImageLoader
from agora.ui.panels import PanelContext
from agora.ui.panels.posts import FeaturedPanel, picture_url
from agora.ui.theme import theme_for
from tests.unit.picturekit import PictureServer, picture_server

from .conftest import NOW, UI_CONFIG, make_post

Build = Callable[..., Snapshot]
Spec = Callable[..., PanelConfig]


def png(color: str, size: tuple[int, int] = (64, 48)) -> bytes:
    image = QImage(size[0], size[1], QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")
    return bytes(data.data())


def never(url: str) -> bytes:
    raise AssertionError(f"fetched {url} from the network")


def load(qtbot: QtBot, loader: ImageLoader, url: str) -> QImage:
    with qtbot.waitSignal(loader.image_ready, timeout=60_000) as arrived:
        assert loader.image(url) is None  # not yet: it is being fetched
    assert arrived.args is not None and arrived.args[0] == url
    image = arrived.args[1]
    assert isinstance(image, QImage)
    return image


def test_images_come_from_a_real_server_and_from_disk_after_a_restart(
    qtbot: QtBot, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_ordered_request("/a.png").respond_with_data(
        png("#3366cc"), content_type="image/png"
    )
    url = httpserver.url_for("/a.png")
    # the test server is on this machine: listed as an office would list its own CDN
    first = ImageLoader(cache_dir=tmp_path / "images", picture_hosts=[httpserver.host])
    try:
        image = load(qtbot, first, url)
        assert image.pixelColor(10, 10).name() == "#3366cc"
        kept = first.disk_path(url)
        assert kept is not None and kept.is_file()
    finally:
        first.close()
    httpserver.check_assertions()

    # the restarted wall reads it back from disk and never asks the network
    again = ImageLoader(cache_dir=tmp_path / "images", fetcher=never)
    try:
        assert load(qtbot, again, url).pixelColor(10, 10).name() == "#3366cc"
    finally:
        again.close()


def test_a_damaged_file_on_disk_is_fetched_again(qtbot: QtBot, tmp_path: Path) -> None:
    calls: list[str] = []

    def fetch(url: str) -> bytes:
        calls.append(url)
        return png("#118844")

    loader = ImageLoader(cache_dir=tmp_path, fetcher=fetch)
    try:
        url = "https://img.example/b.png"
        path = loader.disk_path(url)
        assert path is not None
        path.write_bytes(b"\x89PNG not really")
        assert load(qtbot, loader, url).pixelColor(1, 1).name() == "#118844"
        assert calls == [url]
        assert path.read_bytes() == png("#118844")
    finally:
        loader.close()


def test_the_disk_cache_stays_within_its_bound_and_keeps_the_recent_files(
    qtbot: QtBot, tmp_path: Path
) -> None:
    picture = png("#336699", (200, 200))
    one = len(picture)
    loader = ImageLoader(cache_dir=tmp_path, fetcher=lambda url: picture, max_disk_bytes=one * 3)
    try:
        urls = [f"https://img.example/p{i:02d}.png" for i in range(8)]
        for index, url in enumerate(urls):
            load(qtbot, loader, url)
            path = loader.disk_path(url)
            assert path is not None
            os.utime(path, (time.time() - 100 + index,) * 2)  # a clear order of use
            assert loader.disk_bytes <= one * 3
        assert loader.disk_path(urls[-1]).is_file()  # type: ignore[union-attr]
        assert not loader.disk_path(urls[0]).exists()  # type: ignore[union-attr]
        assert not list(tmp_path.glob("*.part"))
    finally:
        loader.close()


def test_the_memory_cache_stays_within_its_bytes_and_keeps_the_recent_pictures(
    qtbot: QtBot,
) -> None:
    """Weeks of posts bring thousands of pictures: decoded ones are kept up to a number of bytes,
    the least recently shown going first, so memory on day 30 is memory on day 1."""
    picture = png("#663399", (200, 200))
    one = 200 * 200 * 4  # decoded 32-bit pixels
    loader = ImageLoader(fetcher=lambda url: picture, max_cache_bytes=one * 3, max_entries=100)
    try:
        urls = [f"https://img.example/m{i:02d}.png" for i in range(8)]
        for url in urls[:3]:
            load(qtbot, loader, url)
        assert loader.cache_bytes == 3 * one  # full
        assert loader.image(urls[0]) is not None  # shown again: now the most recent
        load(qtbot, loader, urls[3])
        assert loader.cached(urls[0]) and not loader.cached(urls[1])  # the least recent went
        for url in urls[4:]:
            load(qtbot, loader, url)
            assert 0 < loader.cache_bytes <= one * 3
        assert len(loader) == 3
        assert [loader.cached(url) for url in urls] == [False] * 5 + [True] * 3
    finally:
        loader.close()


def test_too_large_and_non_image_answers_fail_without_being_kept(
    qtbot: QtBot, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/huge.png").respond_with_data(b"x" * 2_048, content_type="image/png")
    httpserver.expect_request("/page.png").respond_with_data(
        "<html>not found</html>", content_type="text/html"
    )
    loader = ImageLoader(cache_dir=tmp_path, max_bytes=1_024, picture_hosts=[httpserver.host])
    try:
        for name in ("/huge.png", "/page.png"):
            url = httpserver.url_for(name)
            with qtbot.waitSignal(loader.image_failed, timeout=60_000):
                loader.image(url)
            assert loader.failed(url)
        assert not list(tmp_path.iterdir())
    finally:
        loader.close()


def test_the_picture_a_card_shows() -> None:
    image = Media("image", "https://img.example/big.jpg", "https://img.example/small.jpg")
    video = Media("video", "https://v.example/a.mp4", "https://img.example/still.jpg")
    link = Media("link", "https://news.example/story")
    assert picture_url((video, image)) == "https://img.example/big.jpg"
    assert picture_url((link, video)) == "https://img.example/still.jpg"
    assert picture_url((link,)) is None
    assert picture_url(()) is None


@pytest.mark.parametrize("size", [(1200, 600), (600, 900)], ids=["wide", "tall"])
def test_the_featured_card_shows_the_post_picture_beside_or_under_the_text(
    qtbot: QtBot, size: tuple[int, int], snapshot_of: Build, panel_spec: Spec
) -> None:
    loader = ImageLoader(fetcher=lambda url: png("#dd3311", (400, 300)))
    theme = theme_for("dark").scaled(1920, 1080)
    context = PanelContext(wall=UI_CONFIG, theme=theme, clock=lambda: NOW, images=loader)
    panel = FeaturedPanel(panel_spec("featured"), context)
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    try:
        with_picture = make_post("Lumen at sunset, what a camera", likes=900, image=True)
        snapshot = snapshot_of([with_picture])
        with qtbot.waitSignal(loader.image_ready, timeout=60_000):
            panel.apply(snapshot)
        assert panel.picture_shown() == "https://img.example/a.jpg"
        picture = panel.picture
        assert picture is not None
        qtbot.waitUntil(lambda: picture.has_image, timeout=60_000)
        frame = picture.geometry()
        text = panel.card.text.geometry()
        if size[0] > size[1]:
            assert frame.left() > panel.card.geometry().right()  # beside the text
        else:
            assert frame.top() > panel.card.geometry().top() + text.top()  # under it
        assert frame.width() > size[0] * 0.3 and frame.height() > size[1] * 0.25
        shot = panel.grab().toImage()
        centre = picture.mapTo(panel, picture.rect().center())
        ratio = shot.devicePixelRatio()
        colour = shot.pixelColor(int(centre.x() * ratio), int(centre.y() * ratio))
        assert colour.name() == "#dd3311"

        # a post without a picture gives the text the whole card again
        plain = make_post("Lumen support answered in minutes", likes=5_000, handle="@bo@x.example")
        panel.apply(snapshot_of([plain]))
        assert panel.current_post_id() == plain.id
        assert panel.picture_shown() is None and picture.isHidden()
    finally:
        loader.close()


def test_a_wall_without_an_image_loader_shows_no_picture_area(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    theme = theme_for("dark").scaled(1920, 1080)
    context = PanelContext(wall=UI_CONFIG, theme=theme, clock=lambda: NOW)
    panel = FeaturedPanel(panel_spec("featured"), context)
    qtbot.addWidget(panel)
    panel.resize(1200, 600)
    panel.show()
    panel.apply(snapshot_of([make_post("Lumen photo", image=True)]))
    assert panel.picture is None and panel.picture_shown() is None


# -- hostile picture URLs ------------------------------------------------------------------------


@pytest.fixture
def pictures() -> Iterator[PictureServer]:
    with picture_server() as server:
        server.body("/a.png", png("#3366cc"))
        server.body("/b.png", png("#cc6633"))
        yield server


def wait_failed(qtbot: QtBot, loader: ImageLoader, urls: list[str], timeout: int = 30_000) -> None:
    for url in urls:
        assert loader.image(url) is None
    qtbot.waitUntil(lambda: all(loader.failed(url) for url in urls), timeout=timeout)


def test_a_picture_on_the_wall_s_own_machine_is_never_fetched(
    qtbot: QtBot, pictures: PictureServer, caplog: pytest.LogCaptureFixture
) -> None:
    urls = [
        pictures.url("/a.png"),
        pictures.url("/b.png"),
        pictures.url("/a.png", host="localhost"),
        pictures.url("/a.png", host="2130706433"),
        pictures.url("/a.png", host="[::ffff:127.0.0.1]"),
        "http://169.254.169.254/latest/meta-data/",
    ]
    loader = ImageLoader()
    caplog.set_level("INFO", logger="agora.ui.images")
    try:
        wait_failed(qtbot, loader, urls)
        assert not any(loader.cached(url) for url in urls)
    finally:
        loader.close()
    assert pictures.paths() == []
    refusals = [r.getMessage() for r in caplog.records if "picture refused" in r.getMessage()]
    # once per host, with the way out for an office's own server
    assert len(refusals) == 5
    assert all("[wall] picture_hosts" in line for line in refusals)


def test_picture_hosts_lets_the_office_cdn_in_and_a_reload_takes_it_back(
    qtbot: QtBot, pictures: PictureServer
) -> None:
    """``localhost`` resolves to 127.0.0.1 on this machine: the key lets it in, and the loader
    reads the key at each download (the wall hands it the running config's value)."""
    config = {"wall": WallSection(picture_hosts=["localhost"])}
    loader = ImageLoader(picture_hosts=lambda: config["wall"].picture_hosts)
    try:
        url = pictures.url("/a.png", host="localhost")
        assert load(qtbot, loader, url).pixelColor(5, 5).name() == "#3366cc"
        config["wall"] = WallSection()  # the key removed by a hot reload
        wait_failed(qtbot, loader, [pictures.url("/b.png", host="localhost")])
    finally:
        loader.close()
    assert pictures.paths() == ["/a.png"]


def test_a_redirect_into_the_wall_s_network_is_not_followed(
    qtbot: QtBot, pictures: PictureServer
) -> None:
    targets = [
        f"http://127.0.0.2:{pictures.port}/a.png",
        f"http://[::1]:{pictures.port}/a.png",
        f"http://2130706433:{pictures.port}/a.png",
        "http://169.254.169.254/latest/meta-data/",
    ]
    for index, target in enumerate(targets):
        pictures.redirect(f"/r{index}", target)
    loader = ImageLoader(picture_hosts=["127.0.0.1"])
    try:
        wait_failed(qtbot, loader, [pictures.url(f"/r{i}") for i in range(len(targets))])
    finally:
        loader.close()
    assert sorted(pictures.paths()) == [f"/r{i}" for i in range(len(targets))]


def test_three_slow_pictures_do_not_stall_the_others(qtbot: QtBot, pictures: PictureServer) -> None:
    """Each slow server sends one byte a second of a 120 byte picture: with a timeout per read
    they would hold all three loader threads for two minutes."""
    for name in ("/slow1.png", "/slow2.png", "/slow3.png"):
        pictures.drip(name, length=120, every=1.0)
    loader = ImageLoader(picture_hosts=["127.0.0.1"], workers=3, deadline_s=2.0)
    try:
        slow = [pictures.url(f"/slow{i}.png") for i in (1, 2, 3)]
        for url in slow:
            assert loader.image(url) is None
        qtbot.waitUntil(lambda: len(pictures.paths()) == 3, timeout=30_000)  # all three held
        started = time.monotonic()
        image = load_within(qtbot, loader, pictures.url("/a.png"), timeout=30_000)
        waited = time.monotonic() - started
        assert image.pixelColor(5, 5).name() == "#3366cc"
        assert waited < 25, waited
        # each slow one gave up at its deadline (their news may come just after the good one)
        qtbot.waitUntil(lambda: all(loader.failed(url) for url in slow), timeout=30_000)
    finally:
        loader.close()
    assert all(pictures.seen.sent.get(f"/slow{i}.png", 0) < 25 for i in (1, 2, 3))


def test_an_endless_picture_is_cut_at_the_cap(qtbot: QtBot, pictures: PictureServer) -> None:
    pictures.endless("/endless.png")
    loader = ImageLoader(picture_hosts=["127.0.0.1"], max_bytes=512 * 1024)
    try:
        wait_failed(qtbot, loader, [pictures.url("/endless.png")])
    finally:
        loader.close()
    qtbot.waitUntil(lambda: "/endless.png" in pictures.seen.finished, timeout=30_000)
    assert pictures.seen.sent["/endless.png"] < 32 * 1024 * 1024


def load_within(qtbot: QtBot, loader: ImageLoader, url: str, timeout: int) -> QImage:
    with qtbot.waitSignal(
        loader.image_ready, timeout=timeout, check_params_cb=lambda u, _: u == url
    ) as arrived:
        assert loader.image(url) is None
    assert arrived.args is not None
    image = arrived.args[1]
    assert isinstance(image, QImage)
    return image
