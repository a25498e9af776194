"""The package works from a wheel: its data ships inside it, and it runs outside the checkout.

The wheel is built from a copy of the project (so no ``build/`` is left in the checkout) and
installed into a fresh virtual environment that borrows this environment's dependencies but not
the checkout: ``samverkan migrate`` and the referral form then run from an empty folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: What the copy leaves out: the checkout's own folders (top level only), and caches anywhere.
LEFT_OUT_AT_TOP = {
    ".git", ".venv", "build", "data", "tests", "bench", "docs", "deploy", "test-artifacts",
}  # fmt: skip
CACHES = shutil.ignore_patterns("__pycache__", ".*_cache", ".hypothesis", "*.egg-info")


def _left_out(folder: str, names: list[str]) -> set[str]:
    at_top = LEFT_OUT_AT_TOP if Path(folder) == ROOT else set()
    return set(CACHES(folder, names)) | (at_top & set(names))


#: One file of each kind of package data, as it must be named inside the wheel.
EXPECTED = (
    "intake/templates/base.html",
    "intake/templates/survey/question.html",
    "intake/static/app.css",
    "intake/static/session-timeout.js",
    "core/data/locales/en/LC_MESSAGES/intake.po",
    "core/data/consents/information_sharing/v1.sv.md",
    "core/data/surveys/default.yaml",
    "core/data/surveys/codebook.yaml",
    "storage/alembic.ini",
    "storage/migrations/env.py",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of the project, built offline from a copy of its source."""
    source = tmp_path_factory.mktemp("source") / "samverkan"
    shutil.copytree(ROOT, source, ignore=_left_out)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (built,) = out.glob("samverkan-*.whl")
    return built


def test_the_wheel_holds_templates_static_files_locales_consents_surveys_and_migrations(
    wheel: Path,
) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    assert [name for name in EXPECTED if name not in names] == []
    assert any(name.startswith("storage/migrations/versions/0001_") for name in names)


SMOKE = """
import asyncio, os, sys
from aiohttp.test_utils import TestClient, TestServer
import core
from app.main import create_app
from app.settings import load_settings

async def main():
    client = TestClient(TestServer(create_app(load_settings())))
    await client.start_server()
    try:
        for path in ("/remiss", "/static/app.css"):
            response = await client.get(path)
            print(path, response.status)
    finally:
        await client.close()

print("core", core.__file__)
asyncio.run(main())
"""


def test_the_installed_wheel_migrates_and_serves_the_referral_form_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    # The dependencies come from this environment: its folder is appended to sys.path, and its
    # .pth files (among them the editable install's path to the checkout) are not read.
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMVERKAN_", "PYTHON"))}
    env |= {
        "SAMVERKAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'smoke.db'}",
        "SAMVERKAN_DATA_DIR": str(tmp_path / "data"),
        "SAMVERKAN_SECRET_KEY": "wheel-smoke-secret-0123456789-abcdefghijklmnop",
        "SAMVERKAN_SCHEDULER": "off",
    }

    def run(*args: str) -> str:
        done = subprocess.run(
            args, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run(str(venv / "bin" / "samverkan"), "migrate")
    out = run(str(python), "-c", textwrap.dedent(SMOKE))

    assert f"core {site}" in out and str(ROOT) not in out, out
    assert "/remiss 200" in out and "/static/app.css 200" in out, out
