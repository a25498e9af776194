"""Property tests against the machine endpoints: /healthz, /metrics and the Telegram webhook.

Hypothesis plays an untrusted client (an equivalent of schemathesis for these three small
endpoints): whatever the query, method, header or body, the answer is the documented one,
never a crash, and nothing a client sends ends up in the metrics.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.main import create_app
from app.settings import Secret
from app.telegram import SECRET_HEADER, WEBHOOK_PATH
from tests.bot.conftest import bot_ready
from tests.fakes.telegram_api import FakeBotApi

WEBHOOK_SECRET = "webhook-secret-for-property-tests"
EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PROMETHEUS_LINE = re.compile(
    r"# (HELP|TYPE) .+"
    r'|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="([^"\\\n]|\\.)*",?)*\})? '
    r"[-+]?(\d+(\.\d+)?([eE][-+]?\d+)?|Inf|NaN)"
)

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30)
queries = st.dictionaries(texts, texts, max_size=3)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
#: HTTP method names a client can send, standard ones and made-up ones (RFC 9110 tokens).
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"]) | (
    st.from_regex(r"[A-Z]{3,10}", fullmatch=True)
)


@pytest.fixture
async def client(aiohttp_client, settings, db):  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(settings, database=db))


@pytest.fixture
async def bot_client(aiohttp_client, settings, db) -> AsyncIterator[object]:  # type: ignore[no-untyped-def]
    """The app in webhook mode, with the bot talking to the Bot API test server."""
    async with FakeBotApi() as api:
        webhook_settings = dataclasses.replace(
            settings,
            telegram_token=Secret(api.token),
            telegram_api_url=api.base_url,
            telegram_mode="webhook",
            telegram_webhook_secret=Secret(WEBHOOK_SECRET),
        )
        client = await aiohttp_client(create_app(webhook_settings, database=db))
        await bot_ready(client.app)
        yield client


@EXAMPLES
@given(
    params=queries,
    headers=st.dictionaries(
        st.from_regex(r"X-[A-Za-z]{1,10}", fullmatch=True),
        st.from_regex(r"[ -~]{0,20}", fullmatch=True),
    ),
)
async def test_healthz_always_answers_the_documented_json(client, params, headers) -> None:
    response = await client.get("/healthz", params=params, headers=headers)

    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {"status": "ok", "database": "ok", "bot": "off"}


@EXAMPLES
@given(method=methods.filter(lambda m: m not in ("GET", "HEAD")))
async def test_healthz_refuses_other_methods_without_crashing(client, method) -> None:
    response = await client.request(method, "/healthz")

    assert response.status in (400, 405)  # 400: the HTTP parser knows no such method


@EXAMPLES
@given(path=texts, method=methods)
async def test_metrics_stay_well_formed_and_hold_nothing_a_client_sent(
    client, path, method
) -> None:
    marker = f"zq{abs(hash((path, method))) % 10**8}zq"
    await client.request(method, f"/enkat/{marker}{path}".replace("?", "%3F").replace("#", "%23"))
    await client.get(f"/{marker}", params={"personnummer": marker})

    response = await client.get("/metrics")
    body = await response.text()

    assert response.status == 200 and response.content_type == "text/plain"
    assert [line for line in body.splitlines() if not PROMETHEUS_LINE.fullmatch(line)] == []
    assert marker not in body


async def test_made_up_methods_do_not_grow_the_metrics_without_bound(client) -> None:
    for n in range(50):
        await client.request(f"FAKE{chr(65 + n % 26)}{chr(65 + n // 26)}", "/healthz")

    body = await (await client.get("/metrics")).text()

    assert not re.search(r'method="FAKE', body)


@EXAMPLES
@given(body=json_values, secret=st.none() | texts.filter(lambda s: s != WEBHOOK_SECRET))
async def test_the_webhook_refuses_every_update_without_the_secret(
    bot_client, body, secret
) -> None:
    headers = {} if secret is None else {SECRET_HEADER: secret}
    response = await bot_client.post(WEBHOOK_PATH, data=json.dumps(body), headers=headers)

    assert response.status == 403
    assert await response.json() == {"ok": False}


@EXAMPLES
@given(
    body=json_values.filter(
        lambda b: not (isinstance(b, dict) and isinstance(b.get("update_id"), int))
    )
)
async def test_the_webhook_answers_400_to_anything_but_an_update(bot_client, body) -> None:
    response = await bot_client.post(
        WEBHOOK_PATH, data=json.dumps(body), headers={SECRET_HEADER: WEBHOOK_SECRET}
    )

    assert response.status == 400
    assert await response.json() == {"ok": False}


@EXAMPLES
@given(raw=st.binary(max_size=200).filter(lambda b: not _is_json(b)))
async def test_the_webhook_answers_400_to_a_body_that_is_not_json(bot_client, raw) -> None:
    response = await bot_client.post(
        WEBHOOK_PATH, data=raw, headers={SECRET_HEADER: WEBHOOK_SECRET}
    )

    assert response.status == 400


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


@EXAMPLES
@given(
    update_id=st.integers(min_value=1, max_value=2**31),
    message=json_values.filter(lambda value: value is not None),
)
async def test_a_malformed_update_with_the_secret_is_refused_with_400(
    bot_client, update_id, message
) -> None:
    body = {"update_id": update_id, "message": message}
    response = await bot_client.post(
        WEBHOOK_PATH, data=json.dumps(body), headers={SECRET_HEADER: WEBHOOK_SECRET}
    )

    assert (response.status, response.content_type) == (400, "application/json")
    assert await response.json() == {"ok": False}


async def test_an_update_without_a_message_is_acknowledged_with_200(bot_client) -> None:
    """An update of a kind the bot does not handle is taken, so Telegram does not resend it."""
    body = {"update_id": 7, "message": None}
    response = await bot_client.post(
        WEBHOOK_PATH, data=json.dumps(body), headers={SECRET_HEADER: WEBHOOK_SECRET}
    )

    assert (response.status, await response.json()) == (200, {"ok": True})
