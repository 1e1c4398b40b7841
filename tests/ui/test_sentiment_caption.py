"""The sentiment panel's figure, word and scale ("net, −100 to +100") are drawn whole at every
size the demo layout gives its panel: each line of text, measured with the panel's own font,
fits the rect its label has after layout. At 1920×1080 the scale used to be cut to
"net, −100 to +" beside a three-digit figure."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QFontMetricsF, QPixmap
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from agora.config.loader import load_config
from agora.core.snapshot import Snapshot
from agora.ui.app import wall_theme
from agora.ui.page import PageWidget
from agora.ui.panels import PanelContext
from agora.ui.panels.sentiment import SentimentPanel

from .conftest import NOW, UI_CONFIG, make_post

ASSETS = Path(__file__).resolve().parents[2] / "agora" / "assets"
#: the panel's layout is the subject: the rule scorer, whose labels of these texts are known
RULES = UI_CONFIG.model_copy(
    update={"analytics": UI_CONFIG.analytics.model_copy(update={"sentiment": "rules"})}
)
GOOD = "Lumen is wonderful, I love it"
BAD = "Lumen is terrible, I hate it"
MEH = "Lumen has a camera"


def screens() -> list[tuple[int, int, float]]:
    """The bench's six screens (five 1920×1080, one 4K at DPR 2, in logical pixels), and other
    sizes a lobby wall meets: 720p, 768p, 1440p, 4K at DPR 1, a portrait screen."""
    found = set()
    for screen in json.loads((ASSETS / "six-screens.json").read_text())["screens"]:
        dpr = float(screen["dpr"])
        found.add((round(screen["width"] / dpr), round(screen["height"] / dpr), dpr))
    assert (1920, 1080, 2.0) in found
    found |= {(1280, 720, 1.0), (1366, 768, 1.0), (2560, 1440, 1.0), (3840, 2160, 1.0)}
    found |= {(1080, 1920, 1.0)}
    return sorted(found)


def figures() -> dict[str, list[str]]:
    """Texts giving each kind of figure: −100 and +100 (the widest), two digits, zero."""
    return {
        "−100": [BAD] * 4,
        "+100": [GOOD] * 4,
        "−33": [BAD, BAD, GOOD],
        "0": [GOOD, BAD, MEH, MEH],
    }


def lines_fit(label: QLabel, dpr: float) -> tuple[bool, str]:
    """Whether every line of the label, measured with its font on a device of ``dpr``, fits
    the rect the label has."""
    device = QPixmap(8, 8)
    device.setDevicePixelRatio(dpr)
    metrics = QFontMetricsF(label.font(), device)
    lines = label.text().split("\n")
    wide = max(metrics.horizontalAdvance(line) for line in lines)
    high = metrics.height() * len(lines)
    rect = label.contentsRect()
    said = f"{label.text()!r}: {wide:.1f}×{high:.1f} in {rect.width()}×{rect.height()}"
    return wide <= rect.width() and high <= rect.height() + 1, said


@pytest.fixture
def demo_page(qtbot: QtBot) -> Callable[[tuple[int, int], Snapshot], SentimentPanel]:
    config = load_config(ASSETS / "demo.toml").config
    page = next(
        p for s in config.screens for p in s.pages if any(x.kind == "sentiment" for x in p.panels)
    )

    pages: list[PageWidget] = []  # (kept alive until the test ends)

    def build(size: tuple[int, int], snapshot: Snapshot) -> SentimentPanel:
        theme = wall_theme(config).scaled(*size)
        widget = PageWidget(page, PanelContext(wall=config, theme=theme, clock=lambda: NOW))
        pages.append(widget)
        qtbot.addWidget(widget)
        widget.resize(*size)
        widget.show()
        qtbot.waitExposed(widget)
        for _ in range(2):
            widget.apply(snapshot)
            for _round in range(4):  # nested layouts settle in a few rounds
                QApplication.processEvents()
        return widget.findChildren(SentimentPanel)[0]

    return build


@pytest.mark.parametrize(("width", "height", "dpr"), screens())
def test_the_figure_its_word_and_its_scale_are_drawn_whole(
    width: int,
    height: int,
    dpr: float,
    demo_page: Callable[[tuple[int, int], Snapshot], SentimentPanel],
    snapshot_of: Callable[..., Snapshot],
) -> None:
    for expected, texts in figures().items():
        posts = [make_post(text, at=NOW - timedelta(minutes=5 + i)) for i, text in enumerate(texts)]
        panel = demo_page((width, height), snapshot_of(posts, config=RULES))
        assert panel.number.text() == expected
        assert panel.scale_note.text().replace("\n", " ") == "net, −100 to +100"
        for label in (panel.number, panel.word, panel.scale_note):
            fits, said = lines_fit(label, dpr)
            assert fits, f"{width}×{height} at DPR {dpr:g}, figure {expected}: {said}"
        # and the figure keeps most of its size: it shrinks only as far as it must
        assert panel.number.font().pixelSize() >= round(panel._number_px * 0.6)
        panel.window().close()


def test_a_snapshot_of_the_demo_shows_the_scale_whole(
    demo_page: Callable[[tuple[int, int], Snapshot], SentimentPanel],
    snapshot_of: Callable[..., Snapshot],
    render_dir: Path,
) -> None:
    """The case of the finding, as a picture to look at (AGORA_KEEP_RENDERS=dir keeps it)."""
    posts = [make_post(BAD, at=NOW - timedelta(minutes=5 + i)) for i in range(4)]
    panel = demo_page((1920, 1080), snapshot_of(posts, config=RULES))
    assert panel.number.text() == "−100"
    assert all(lines_fit(label, 1.0)[0] for label in (panel.number, panel.word, panel.scale_note))
    assert panel.grab().save(str(render_dir / "sentiment-demo-1920x1080-minus-100.png"))
