"""Where the CPU goes on the form page, on a complete submission and in the bot (py-spy).

`samverkan serve` runs on SQLite under the same load as :mod:`bench.intake_bench` (50 clients
on the form page; 50 clients submitting); ``py-spy record`` samples the server process for the
measured window. The bot is sampled as :mod:`bench.bot_bench` runs it (40 chats at once
answering the survey through the webhook's handler, on SQLite and on PostgreSQL), from the
moment the answers start: that process holds the bot, the Bot API test server and the
simulated chats. The samples are folded into two lists per path:

- **own code**: the project's functions (core, storage, services, intake, app, reports), each
  with the share of all the server's non-idle samples in which it is on the stack (inclusive);
- **leaf functions**: where the CPU is (the innermost frame, any library), with their
  share of the samples.

py-spy is optional (``pip install py-spy``); without it the benchmark says so and measures
nothing. Shares are of samples, not seconds, so they hold on a noisy machine better than times.
"""

from __future__ import annotations

import asyncio
import collections
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench import NotReady, Report, Table
from bench.intake_bench import CLIENTS, submit_referral, under_load, view_form
from bench.loadgen import Scenario
from bench.services import ROOT, free_port, prepare_database, served, service_env
from bench.startup_bench import serve_command

OWN_PACKAGES = ("core", "storage", "services", "intake", "app", "reports", "bot")
ENTRY_POINTS = {"app.cli.main", "app.commands.serve.run"}  # on every stack: no information
TOP = 12


def py_spy() -> str:
    """The py-spy command, next to this Python or on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    if beside.exists():
        return str(beside)
    found = shutil.which("py-spy")
    if found is None:
        raise NotReady("py-spy is not installed (pip install py-spy)")
    return found


def frame_name(frame: str) -> tuple[str, str]:
    """``("module.function", file)`` of one py-spy raw frame ``function (file:line)``."""
    function, _, where = frame.rpartition(" (")
    file = where.rsplit(":", 1)[0]
    return function, file


def own_module(file: str) -> str | None:
    """The dotted module of a project file, or None for a library or the standard library."""
    path = Path(file)
    try:
        relative = path.resolve().relative_to(ROOT)
    except ValueError:
        return None
    if relative.parts[0] not in OWN_PACKAGES or ".venv" in relative.parts:
        return None
    return ".".join(relative.with_suffix("").parts)


def library_name(file: str) -> str:
    """A short name for a library frame's file: ``package/module.py``."""
    parts = Path(file).parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    return "/".join(parts[-2:])


def fold(raw: str) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """Samples, inclusive counts of own functions, and leaf counts, from py-spy's raw output."""
    total = 0
    own: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if frames and frames[0].startswith("process "):
            frames = frames[1:]
        if frames and frames[0].startswith("thread "):
            frames = frames[1:]
        if not frames:
            continue
        total += count
        seen = set()
        for frame in frames:
            function, file = frame_name(frame)
            module = own_module(file)
            if module is not None:
                name = f"{module}.{function}"
                if name not in seen and name not in ENTRY_POINTS:
                    seen.add(name)
                    own[name] += count
        function, file = frame_name(frames[-1])
        module = own_module(file)
        leaves[f"{module}.{function}" if module else f"{function} ({library_name(file)})"] += count
    return total, own, leaves


async def profile(scenario: Scenario, seconds: float, warmup: float, work: Path) -> str:
    """py-spy's raw samples of one `samverkan serve` on SQLite under ``scenario``."""
    url = f"sqlite+aiosqlite:///{work}/bench.db"
    env = service_env(url, work)
    await prepare_database(env, work)
    port = free_port()
    out = work / "profile.txt"
    async with served(serve_command(port), env, work, port) as service:

        async def record() -> None:
            await asyncio.sleep(warmup)
            spy = await asyncio.create_subprocess_exec(
                py_spy(), "record", "--pid", str(service.process.pid), "--format", "raw",
                "--rate", "200", "--duration", str(int(seconds)), "--output", str(out),
                "--nonblocking", "--gil", stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, error = await spy.communicate()
            if spy.returncode != 0:
                raise NotReady(f"py-spy failed: {error.decode(errors='replace')[-300:]}")

        await asyncio.gather(
            under_load([service], scenario, seconds + warmup + 1, 0, new_visitor=True),
            record(),
        )
    return out.read_text()


def tables(path: str, raw: str) -> list[Table]:
    """The own-code and leaf tables of one path."""
    total, own, leaves = fold(raw)
    if total == 0:
        raise NotReady(f"py-spy recorded no samples for {path}")
    return [
        Table(
            f"{path}: own functions on the stack ({total} samples)",
            ["function", "share of server CPU samples"],
            [[name, f"{100 * n / total:.1f} %"] for name, n in own.most_common(TOP)],
        ),
        Table(
            f"{path}: where the CPU is (innermost frame)",
            ["function", "share"],
            [[name, f"{100 * n / total:.1f} %"] for name, n in leaves.most_common(TOP)],
        ),
    ]


#: ``python -c BOT_RUNNER KIND PARTICIPANTS``: the bot bench's survey on a ``KIND`` database,
#: printing ``timed`` when the answers (the bench's timed phase, its second ``in_chats``) start.
BOT_RUNNER = r"""
import asyncio, sys
import bench.bot_bench as b
phases = []
in_chats = b.in_chats
async def announced(chats, play):
    phases.append(play)
    if len(phases) == 2:
        print("timed", flush=True)
    return await in_chats(chats, play)
b.in_chats = announced
asyncio.run(b.measure_survey(sys.argv[1], int(sys.argv[2]), rate_limited=False))
print("done", flush=True)
"""


async def profile_bot(kind: str, participants: int, seconds: int, work: Path) -> str:
    """py-spy's raw samples of the bot bench's process while the answers are being given."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BOT_RUNNER, kind, str(participants), cwd=ROOT,
        env=os.environ | {"PTB_TIMEDELTA": "1", "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    started = await process.stdout.readline()
    if started.strip() != b"timed":
        _, errors = await process.communicate()
        message = errors.decode(errors="replace").strip().splitlines()
        raise NotReady(f"the bot bench on {kind} did not start: {message[-1] if message else ''}")
    out = work / f"bot-{kind}.txt"
    spy = await asyncio.create_subprocess_exec(
        py_spy(), "record", "--pid", str(process.pid), "--format", "raw", "--rate", "200",
        "--duration", str(seconds), "--output", str(out), "--nonblocking", "--gil",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, spy_error = await spy.communicate()
    output, errors = await process.communicate()
    if process.returncode != 0 or b"done" not in output:
        raise RuntimeError(f"the bot bench on {kind} failed: {errors.decode()[-2000:]}")
    if spy.returncode != 0:
        raise NotReady(f"py-spy failed: {spy_error.decode(errors='replace')[-300:]}")
    return out.read_text()


async def run(quick: bool) -> Report:
    """Profile the form page and complete submissions, each under 50 clients, and the bot."""
    seconds, warmup = (5.0, 1.0) if quick else (15.0, 3.0)
    # The answers must last longer than the recording: about 1 300 updates/s, 7 per participant.
    bot_participants, bot_seconds = (600, 2) if quick else (1200, 5)
    py_spy()
    report = Report("profile", "Profile: form page, submission and the bot (py-spy)")
    for path, scenario in (
        (f"GET /remiss, {CLIENTS} clients, SQLite", view_form),
        (f"complete submission, {CLIENTS} clients, SQLite", submit_referral),
    ):
        with tempfile.TemporaryDirectory(prefix="samverkan-profile-") as tmp:
            raw = await profile(scenario, seconds, warmup, Path(tmp))
        report.tables += tables(path, raw)
    for kind, name in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        path = f"survey answers through the bot, 40 chats at once, {name}"
        try:
            with tempfile.TemporaryDirectory(prefix="samverkan-profile-") as tmp:
                raw = await profile_bot(kind, bot_participants, bot_seconds, Path(tmp))
        except NotReady as missing:
            report.notes.append(f"{path}: not measured ({missing}).")
            continue
        report.tables += tables(path, raw)
    report.notes.append(
        "Shares are of py-spy's samples of the server process (200/s) taken while a thread held "
        "the GIL (`--gil`): Python's CPU, without waits for the socket, the disk or a lock; "
        "a function's share on the stack includes what it calls."
    )
    report.notes.append(
        f"The bot: {bot_seconds} s sampled from the start of the answers of {bot_participants} "
        "participants (bench.bot_bench's timed phase); the process also runs the Bot API test "
        "server and the simulated chats, whose frames are in the leaf table (tests/fakes, "
        "bench)."
    )
    return report
