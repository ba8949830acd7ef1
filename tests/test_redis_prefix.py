"""Every Redis key and channel of a deployment starts with its JINGLIN_REDIS_PREFIX: the server's
own (presence, resume tokens, ticket numbers, sign-in throttles, delivery channel) and the queue
engine's, so two deployments can share one Redis server."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestServer

from server.app import create_app
from server.http import app_keys
from tests.district import add_staff, add_street
from tests.helpers import make_settings, prepare_database
from tests.protocol_client import Client, Env

MATTER = "gaj-jlks-01"
SKILL = "police-general"


async def test_a_whole_call_writes_only_keys_under_the_prefix(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, JINGLIN_REDIS_PREFIX="district7:", JINGLIN_WRAP_UP_S="0")
    assert settings.redis_prefix == "district7:"
    await prepare_database(settings)
    app = create_app(settings)
    server = TestServer(app)
    await server.start_server()
    clients: list[Client] = []
    try:
        async with app[app_keys.DB_SESSIONS]() as session, session.begin():
            street = await add_street(session)
            await add_staff(session, street.centre_id, caseworkers={"cw1": [SKILL]})
        env = Env(server=server, kiosk_tokens=street.kiosk_tokens)
        kiosk, cw = Client(env), Client(env)
        clients += [kiosk, cw]
        await kiosk.kiosk_login(env.kiosk_tokens[0])
        await kiosk.connect()
        wrong = await cw.http.post(env.url("/api/v1/auth/login"), json={"username": "cw1", "password": "x" * 12})
        assert wrong.status == 401  # a throttle counter is written
        await cw.staff_login("cw1")
        await cw.connect()
        await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
        await kiosk.expect("ticket")
        await cw.send({"type": "set_status", "status": "available"})
        offer = (await cw.expect("offer"))["offer"]
        await cw.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
        await kiosk.expect("call")
        redis = app[app_keys.REDIS]
        keys = [key.decode() for key in await redis.keys("*")]
        channels = [channel.decode() for channel in await redis.pubsub_channels()]
        assert keys and all(key.startswith("district7:") for key in keys), keys
        assert any(key.startswith("district7:presence:") for key in keys)
        assert any(key.startswith("district7:ticketno:") for key in keys)
        assert any(key.startswith("district7:loginfail:") for key in keys)
        assert channels and all(channel.startswith("district7:") for channel in channels), channels
    finally:
        for client in clients:
            await client.close()
        await server.close()
