"""The SMS settings: off by default; a URL needs its user and secret; the sender is checked."""

from pathlib import Path

import pytest

from app.jobs import scheduled_jobs, sms_provider
from app.settings import SettingsError, load_settings
from intake.context import BotInfo
from intake.metrics import Metrics
from services.mail import Mailer

ELKS = {
    "SAMVERKAN_SMS_URL": "https://api.46elks.com/a1/sms",
    "SAMVERKAN_SMS_USER": "u0123456789",
    "SAMVERKAN_SMS_SECRET": "api-password-123",
}


def load(env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_settings(
        {"SAMVERKAN_DATA_DIR": str(tmp_path), **env}, dotenv_path=tmp_path / ".env"
    )


def test_sms_is_off_by_default_and_on_with_the_46elks_settings(tmp_path: Path) -> None:
    off, on = load({}, tmp_path), load(ELKS, tmp_path)

    assert (off.sms_enabled, off.sms_from) == (False, "Samverkan")
    assert on.sms_enabled and on.sms_secret.reveal() == "api-password-123"
    assert "api-password-123" not in repr(on) and "api-password-123" not in repr(sms_provider(on))


@pytest.mark.parametrize("missing", ["SAMVERKAN_SMS_USER", "SAMVERKAN_SMS_SECRET"])
def test_a_url_without_its_user_or_secret_stops_start_up_naming_it(
    tmp_path: Path, missing: str
) -> None:
    with pytest.raises(SettingsError, match=missing):
        load({**ELKS, missing: ""}, tmp_path)


@pytest.mark.parametrize("sender", ["Samverkansteamet", "1team", "ab", "Team Norr", "+46-70"])
def test_a_sender_the_provider_would_refuse_stops_start_up(tmp_path: Path, sender: str) -> None:
    with pytest.raises(SettingsError, match="SAMVERKAN_SMS_FROM"):
        load({**ELKS, "SAMVERKAN_SMS_FROM": sender}, tmp_path)


def test_the_sms_job_runs_only_when_sms_is_set_up(tmp_path: Path) -> None:
    def names(env: dict[str, str]) -> list[str]:
        settings = load(env, tmp_path)
        jobs = scheduled_jobs(settings, None, BotInfo(), Mailer("", ""), Metrics())  # type: ignore[arg-type]
        return [job.name for job in jobs]

    assert "sms.outbox" not in names({}) and "sms.outbox" in names(ELKS)
