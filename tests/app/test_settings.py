from pathlib import Path

import pytest

from app.settings import SettingsError, load_settings


def load(env: dict[str, str], tmp_path: Path):
    return load_settings(
        {"SAMVERKAN_DATA_DIR": str(tmp_path), **env}, dotenv_path=tmp_path / ".env"
    )


def test_defaults_match_the_interface(tmp_path: Path) -> None:
    s = load({}, tmp_path)
    assert s.database_url.reveal() == "sqlite+aiosqlite:///data/samverkan.db"
    assert (s.host, s.port, s.public_url) == ("127.0.0.1", 8080, "http://127.0.0.1:8080")
    assert s.telegram_api_url == "https://api.telegram.org/bot"
    assert s.telegram_mode == "polling" and not s.telegram_enabled and not s.smtp_url
    assert s.surveys_dir == tmp_path / "surveys"


def test_the_surveys_folder_can_be_set_apart_from_the_data_folder(tmp_path: Path) -> None:
    assert load({"SAMVERKAN_SURVEYS_DIR": "/srv/enkater"}, tmp_path).surveys_dir == Path(
        "/srv/enkater"
    )


def test_secret_key_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    first = load({}, tmp_path).secret_key
    second = load({}, tmp_path).secret_key
    assert first == second
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_secrets_never_show_in_reprs(tmp_path: Path) -> None:
    s = load(
        {
            "SAMVERKAN_TELEGRAM_TOKEN": "123:very-secret-token",
            "SAMVERKAN_SECRET_KEY": "k" * 40,
            "SAMVERKAN_DATABASE_URL": "postgresql+asyncpg://u:pw-secret@db/x",
        },
        tmp_path,
    )
    text = repr(s)
    assert "very-secret-token" not in text and "k" * 40 not in text and "pw-secret" not in text


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"SAMVERKAN_DATABASE_URL": "mysql://x/y"},
            "SAMVERKAN_DATABASE_URL: unknown scheme 'mysql'",
        ),
        ({"SAMVERKAN_PORT": "eighty"}, "SAMVERKAN_PORT: 'eighty' is not a whole number"),
        ({"SAMVERKAN_PORT": "70000"}, "SAMVERKAN_PORT: 70000 is outside 1..65535"),
        (
            {"SAMVERKAN_ENV": "production"},
            "SAMVERKAN_SECRET_KEY: missing; it is required in production",
        ),
        (
            {"SAMVERKAN_TELEGRAM_MODE": "push"},
            "SAMVERKAN_TELEGRAM_MODE: 'push' is not one of polling, webhook",
        ),
        (
            {"SAMVERKAN_PUBLIC_URL": "example.se"},
            "SAMVERKAN_PUBLIC_URL: 'example.se' is not a http/https URL",
        ),
        ({"SAMVERKAN_SECRET_KEY": "short"}, "SAMVERKAN_SECRET_KEY: too short"),
        (
            {"SAMVERKAN_TELEGRAM_TOKEN": "1:x", "SAMVERKAN_TELEGRAM_MODE": "webhook"},
            "SAMVERKAN_TELEGRAM_WEBHOOK_SECRET: required in webhook mode",
        ),
    ],
)
def test_a_bad_value_names_the_setting(env: dict[str, str], expected: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        load(env, tmp_path)
    assert str(info.value).startswith(expected)


def test_environment_wins_over_dotenv_which_wins_over_defaults(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SAMVERKAN_PORT=9000\nSAMVERKAN_HOST='0.0.0.0'\n# c\n")
    s = load({"SAMVERKAN_PORT": "9100"}, tmp_path)
    assert (s.port, s.host) == (9100, "0.0.0.0")


def test_plain_postgresql_urls_get_the_async_driver(tmp_path: Path) -> None:
    s = load({"SAMVERKAN_DATABASE_URL": "postgresql://u@h/db"}, tmp_path)
    assert s.database_url.reveal() == "postgresql+asyncpg://u@h/db"


def test_a_completed_survey_link_closes_after_seven_days_unless_set(tmp_path: Path) -> None:
    assert load({}, tmp_path).completed_link_days == 7
    assert load({"SAMVERKAN_COMPLETED_LINK_DAYS": "30"}, tmp_path).completed_link_days == 30
    with pytest.raises(SettingsError, match="SAMVERKAN_COMPLETED_LINK_DAYS"):
        load({"SAMVERKAN_COMPLETED_LINK_DAYS": "0"}, tmp_path)


def test_a_generated_key_is_an_info_line_not_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="app.settings")

    key = load({}, tmp_path).secret_key.reveal()

    [record] = [r for r in caplog.records if r.name == "app.settings"]
    assert record.levelname == "INFO" and record.getMessage() == "settings.secret_key_created"
    assert key not in caplog.text


def test_a_generated_key_is_refused_in_production(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY: missing"):
        load({"SAMVERKAN_ENV": "production"}, tmp_path)


def test_links_follow_the_port_unless_a_public_url_is_set(tmp_path: Path) -> None:
    assert load({"SAMVERKAN_PORT": "8081"}, tmp_path).public_url == "http://127.0.0.1:8081"
    listening_everywhere = {"SAMVERKAN_HOST": "0.0.0.0", "SAMVERKAN_PORT": "8082"}
    assert load(listening_everywhere, tmp_path).public_url == "http://127.0.0.1:8082"
    given = {"SAMVERKAN_PORT": "8081", "SAMVERKAN_PUBLIC_URL": "https://samverkan.example.se"}
    assert load(given, tmp_path).public_url == "https://samverkan.example.se"
