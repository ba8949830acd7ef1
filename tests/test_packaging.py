"""The product runs from an installed wheel: `pip install --no-deps .` into a fresh venv (which sees
the dependencies scripts/test.sh installed), then `jinglin
migrate`, `jinglin demo` and `jinglin serve` from a directory outside the checkout serve `/kiosk`
with its static files and run the queue."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from server.protocol.version import PROTOCOL_VERSION, WS_PATH
from server.simulate.local import free_port

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the project installed from the checkout, not editable."""
    venv = tmp_path_factory.mktemp("wheel") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The third-party dependencies are the ones scripts/test.sh installed from pyproject.toml, seen
    # through a path entry (not re-downloaded: most of this module's time went there). Only the
    # project itself is installed from its wheel; a path entry's own .pth files are not run, so the
    # test venv's editable link to the checkout is not followed (the first test checks it).
    ask = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c", ask], check=True, capture_output=True,
                             text=True).stdout.strip()
    Path(purelib, "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    str(REPO)], check=True, timeout=600)
    return venv


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL", "REDIS_URL")}
    env.update({"JINGLIN_DATA_DIR": str(data_dir), "JINGLIN_PASSWORD_PROFILE": "fast", "JINGLIN_LOG_LEVEL": "WARNING",
                **extra})
    return env


@pytest.fixture(scope="module")
def served(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, object]]]:
    """`jinglin migrate`, `demo --json` and `serve` run from an empty directory outside the checkout."""
    outside = tmp_path_factory.mktemp("outside")
    port = free_port()
    env = _env(outside / "data", JINGLIN_PORT=str(port))
    jinglin = str(installed / "bin" / "jinglin")
    subprocess.run([jinglin, "migrate"], cwd=outside, env=env, check=True, timeout=300)
    demo = json.loads(subprocess.run([jinglin, "demo", "--json"], cwd=outside, env=env, check=True, timeout=300,
                                     capture_output=True, text=True).stdout)
    log = (outside / "serve.log").open("w")
    process = subprocess.Popen([jinglin, "serve"], cwd=outside, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process)
        yield base, demo
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "jinglin serve exited"
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("jinglin serve did not become healthy")


def test_code_comes_from_the_venv_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    code = "import server, session_queue, matters_catalog, web; print(server.__file__, web.__file__)"
    out = subprocess.run([str(installed / "bin" / "python"), "-c", code], cwd=tmp_path, env=_env(tmp_path),
                         check=True, capture_output=True, text=True).stdout
    assert str(REPO) not in out and str(installed) in out


async def test_kiosk_page_static_files_and_queue_from_the_wheel(served: tuple[str, dict[str, object]]) -> None:
    base, demo = served
    kiosk = demo["kiosks"][0]  # type: ignore[index]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base}/kiosk") as response:
            assert response.status == 200
            page = await response.text()
        scripts = re.findall(r'src="(/static/[^"]+)"', page) + re.findall(r'href="(/static/[^"]+)"', page)
        assert scripts, "the kiosk page links no static files"
        for path in scripts:
            async with http.get(base + path) as response:
                assert response.status == 200, path
        async with http.post(f"{base}/api/v1/kiosk/session", json={"token": kiosk["token"]}) as response:
            assert response.status == 200
        async with http.get(f"{base}/api/v1/matters") as response:
            matter = (await response.json())["matters"][0]
        async with http.ws_connect(base + WS_PATH, origin=base) as ws:
            await ws.send_json({"type": "hello", "v": PROTOCOL_VERSION})
            assert (await ws.receive_json(timeout=10))["type"] == "welcome"
            mode = "consult" if matter["mode"] == "consult" else "handle"
            await ws.send_json({"type": "join", "matter_id": matter["id"], "mode": mode, "id": 1})
            ticket = None
            for _ in range(10):
                message = await ws.receive_json(timeout=10)
                if message["type"] == "ticket":
                    ticket = message["ticket"]
                    break
            assert ticket is not None and ticket["state"] == "waiting" and ticket["number"].startswith("A")
