"""Settings: read from the environment, and a bad value stops start-up naming the variable."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from service import create_app
from service.config import ConfigError, from_environment, reference_table


def test_defaults() -> None:
    config = from_environment({})
    assert config["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert config["FLOOD_SECONDS"] == 15 and config["MODERATION"] == "auto"
    assert config["SANITIZER"] == "bleach" and config["TRUSTED_PROXIES"] == ()
    assert config["MAX_CONTENT_LENGTH"] == 256 * 1024


def test_values_are_parsed() -> None:
    config = from_environment({
        "COMMENTS_ALLOWED_ORIGINS": "https://Blog.example, http://127.0.0.1:8080",
        "COMMENTS_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
        "COMMENTS_FLOOD_SECONDS": "0",
        "COMMENTS_MODERATION": "first-time",
    })
    assert config["ALLOWED_ORIGINS"] == ("https://blog.example", "http://127.0.0.1:8080")
    assert config["TRUSTED_PROXIES"] == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1"))
    assert config["FLOOD_SECONDS"] == 0 and config["MODERATION"] == "first-time"


@pytest.mark.parametrize(("variable", "value"), [
    ("COMMENTS_FLOOD_SECONDS", "-1"),
    ("COMMENTS_FLOOD_SECONDS", "soon"),
    ("COMMENTS_MODERATION", "sometimes"),
    ("COMMENTS_SANITIZER", "regex"),
    ("COMMENTS_ALLOWED_ORIGINS", "blog.example"),
    ("COMMENTS_ALLOWED_ORIGINS", "https://blog.example/path"),
    ("COMMENTS_TRUSTED_PROXIES", "10.0.0.300"),
    ("REDIS_URL", "localhost"),
])
def test_bad_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        from_environment({variable: value})


def test_missing_secret_key_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMMENTS_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="COMMENTS_SECRET_KEY"):
        create_app({"DATABASE_URL": "sqlite://"})
    with pytest.raises(ConfigError, match="too short"):
        create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "short"})


def test_reference_table_lists_every_variable() -> None:
    table = reference_table()
    for variable in ("DATABASE_URL", "REDIS_URL", "COMMENTS_SECRET_KEY", "COMMENTS_ALLOWED_ORIGINS",
                     "COMMENTS_FLOOD_SECONDS", "COMMENTS_TRUSTED_PROXIES", "COMMENTS_MODERATION"):
        assert f"`{variable}`" in table


def test_readme_table_is_the_generated_one() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    between = readme.split("<!-- config-table -->\n", 1)[1].split("<!-- /config-table -->", 1)[0]
    assert between.strip() == reference_table(), "regenerate the README table from service.config.reference_table()"


def test_the_instance_folder_is_an_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="COMMENTS_INSTANCE_PATH='instance' is invalid: must be an absolute path"):
        from_environment({"COMMENTS_INSTANCE_PATH": "instance"})
    monkeypatch.setenv("COMMENTS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("COMMENTS_MODEL_PATH", raising=False)
    app = create_app({"TESTING": True})
    assert app.instance_path == str(tmp_path)
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'comments.sqlite3'}"
    assert app.config["MODEL_PATH"] == str(tmp_path / "classifier.joblib")
