"""The config loader: every error with file, line and key; extends; secrets; did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.config.loader import ConfigError, check_config, load_config, summary
from agora.config.locate import key_lines

DEMO = Path(__file__).resolve().parents[2] / "agora" / "assets" / "demo.toml"

GOOD = """\
[wall]
name = "Espoo lobby"
theme = "dark"

[topics.brand]
label = "Nokia"
terms = ["nokia", "#nokia", "@nokia"]

[[sources]]
name = "demo"
kind = "simulator"
rate = 20

[[screens]]
output = 0
[[screens.pages]]
seconds = 45
grid = "3x2"
panels = [
  { kind = "featured", at = "0,0", span = "2,2" },
  { kind = "sentiment", at = "2,0" },
  { kind = "volume", at = "2,1", window = "24h" },
]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def issues_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [issue.format() for issue in caught.value.issues]


def test_demo_config_is_valid() -> None:
    loaded = load_config(DEMO)
    assert loaded.config.screens
    assert "ok" in summary(loaded)


def test_good_config_loads_with_defaults(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, "wall.toml", GOOD))
    config = loaded.config
    assert config.wall.name == "Espoo lobby"
    assert config.store.retention == 7 * 86400
    assert config.screens[0].pages[0].panels[2].window == 86400
    assert loaded.config_dir == tmp_path.resolve()


def test_every_error_is_reported_with_its_line(tmp_path: Path) -> None:
    text = GOOD.replace('theme = "dark"', 'them = "dark"').replace("rate = 20", "rate = -3")
    text = text.replace('{ kind = "sentiment"', '{ kind = "sentimnet"')
    path = write(tmp_path, "wall.toml", text)
    lines = issues_of(path)
    assert f'{path}:3: wall.them: unknown key "them"; did you mean "theme"?' in lines
    assert any(line.startswith(f"{path}:12: sources[0].rate:") for line in lines), lines
    assert any(
        line.startswith(f"{path}:21: screens[0].pages[0].panels[1].kind:")
        and 'did you mean "sentiment"' in line
        for line in lines
    ), lines
    assert len(lines) == 3


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "wall.toml", '[wall]\nname = "x\n')
    (line,) = issues_of(path)
    assert line.startswith(f"{path}:2:")
    assert "TOML syntax" in line


def test_missing_file_and_directory(tmp_path: Path) -> None:
    (line,) = issues_of(tmp_path / "nope.toml")
    assert "not found" in line
    (line,) = issues_of(tmp_path)
    assert "directory" in line


def test_invalid_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "wall.toml"
    path.write_bytes(b'[wall]\nname = "caf\xe9"\n')
    (line,) = issues_of(path)
    assert line.startswith(f"{path}:2:")
    assert "UTF-8" in line


def test_unknown_topic_in_a_panel(tmp_path: Path) -> None:
    text = GOOD.replace('window = "24h" }', 'window = "24h", topics = ["nokai"] }')
    path = write(tmp_path, "wall.toml", text)
    (line,) = issues_of(path)
    assert line.startswith(f"{path}:22: screens[0].pages[0].panels[2].topics[0]:")
    assert 'did you mean "brand"' not in line  # "nokai" is not close to "brand"
    assert "topics: brand" in line


def test_overlapping_panels_are_explained(tmp_path: Path) -> None:
    text = GOOD.replace('{ kind = "sentiment", at = "2,0" }', '{ kind = "sentiment", at = "1,0" }')
    path = write(tmp_path, "wall.toml", text)
    (line,) = issues_of(path)
    assert "overlaps" in line
    assert line.startswith(f"{path}:16: screens[0].pages[0]:")


def test_extends_merges_tables_and_replaces_arrays(tmp_path: Path) -> None:
    write(tmp_path, "company.toml", GOOD)
    child = write(
        tmp_path,
        "lobby.toml",
        'extends = "company.toml"\n[wall]\nname = "Lobby"\n[topics.rival]\nterms = ["rival"]\n',
    )
    loaded = load_config(child)
    config = loaded.config
    assert config.wall.name == "Lobby"
    assert config.wall.theme == "dark"  # from the base
    assert set(config.topics) == {"brand", "rival"}
    assert len(config.screens) == 1
    assert loaded.files == (child, tmp_path / "company.toml")
    assert "extends" in summary(loaded)


def test_errors_in_an_extended_file_name_that_file(tmp_path: Path) -> None:
    base = write(tmp_path, "company.toml", GOOD.replace("rate = 20", "rate = 0"))
    child = write(tmp_path, "lobby.toml", 'extends = "company.toml"\n[wall]\nname = "Lobby"\n')
    (line,) = issues_of(child)
    assert line.startswith(f"{base}:12: sources[0].rate:")


def test_extends_cycle_and_missing_parent(tmp_path: Path) -> None:
    a = write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    (line,) = issues_of(a)
    assert "extends itself" in line
    c = write(tmp_path, "c.toml", 'extends = "gone.toml"\n')
    (line,) = issues_of(c)
    assert line.startswith(f"{c}:1: extends:")
    assert "no such file" in line


def test_secrets_come_from_the_environment_and_are_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agora.config.schema import SecretRef, Strict

    class Holder(Strict):
        token: SecretRef

    monkeypatch.setenv("AGORA_TEST_TOKEN", "s3cr3t-value")
    holder = Holder(token="env:AGORA_TEST_TOKEN")  # type: ignore[arg-type]
    assert holder.token.get() == "s3cr3t-value"
    assert "s3cr3t" not in repr(holder)
    assert "s3cr3t" not in holder.model_dump_json()
    with pytest.raises(ValueError, match="never written in the file"):
        Holder(token="s3cr3t-value")  # type: ignore[arg-type]
    monkeypatch.delenv("AGORA_TEST_TOKEN")
    with pytest.raises(ValueError, match="AGORA_TEST_TOKEN is not set"):
        Holder(token="env:AGORA_TEST_TOKEN")  # type: ignore[arg-type]


def test_check_reports_missing_files_the_config_names(tmp_path: Path) -> None:
    text = GOOD + '\n[[sources]]\nname = "archive"\nkind = "jsonl"\npath = "missing.jsonl"\n'
    path = write(tmp_path, "wall.toml", text)
    loaded, issues = check_config(path)
    assert loaded is not None
    assert [i.key for i in issues] == ["sources[1].path"]
    assert issues[0].line == 28


def test_key_lines_follow_tables_arrays_and_inline_tables() -> None:
    lines = key_lines(GOOD)
    assert lines[("wall", "theme")] == 3
    assert lines[("topics", "brand", "terms")] == 7
    assert lines[("sources", 0, "rate")] == 12
    assert lines[("screens", 0, "pages", 0, "panels", 1, "kind")] == 21
    assert lines[("screens", 0, "pages", 0, "panels", 2)] == 22


# -- property tests ---------------------------------------------------------------------------

KEYS = ["name", "theme", "privacy", "language", "timezone", "accent", "font_scale", "night"]


# no deadline: reading a file and validating it may take a while on a busy machine
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(max_size=400))
def test_any_text_gives_a_config_or_config_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    try:
        load_config(path)
    except ConfigError as exc:
        issues = exc.issues
    else:
        return
    assert issues
    for issue in issues:
        assert issue.format().startswith(str(path))


# no deadline: reading a file and validating it may take a while on a busy machine
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    key=st.sampled_from(KEYS),
    junk=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
    padding=st.integers(min_value=0, max_value=5),
)
def test_an_unknown_key_is_reported_on_its_own_line(
    tmp_path: Path, key: str, junk: str, padding: int
) -> None:
    bad = key + junk
    text = "\n" * padding + f'# comment\n[wall]\nname = "x"\n{bad} = 1\n'
    path = tmp_path / "prop.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (issue,) = caught.value.issues
    assert issue.line == padding + 4
    assert issue.key == f"wall.{bad}"
    assert "unknown key" in issue.message
