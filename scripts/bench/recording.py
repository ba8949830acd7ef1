"""Recording benchmark: the console's added CPU while recording, the server's CPU per recorded hour.

1. Console: a real call in two Chromiums (tests/recording_harness.py). The console's Chromium
   process tree (browser, renderer, GPU and utility processes) is sampled for `--seconds` while the
   call is recorded, then the recorder is stopped in the page and the same span is sampled again:
   the difference is what composing, mixing, encoding and uploading cost, in % of one core.
2. Server: one recorded hour of upload at 84 kbit/s in 4 s chunks (900 chunks of ~42 KB: the
   console's 74 kbit/s budget with room for the encoder's overshoot) is PUT into the live call
   from the console's browser context, and the server process's CPU time is read before and after
   (SHA-256, AES-GCM, fsync, rows).

    .venv/bin/python scripts/bench/recording.py [--seconds 20] [--chunks 900]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.kiosk_harness import run_server
from tests.recording_harness import CONSOLE_MARK, recorded_call, session_id_of

CHUNK_BYTES = 84_000 * 4 // 8  # 4 s at 84 kbit/s: the console's 74 kbit/s budget and its overshoot
CHUNKS_PER_HOUR = 900


def tree_cpu(mark: str) -> float:
    """CPU seconds (user + system) of the process tree whose root's command line carries `mark`."""
    total = 0.0
    for process in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if mark not in " ".join(process.cmdline()):
                continue
            for member in [process, *process.children(recursive=True)]:
                times = member.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def sample(page: object, seconds: float) -> float:
    """% of one core the console's Chromium used over `seconds`."""
    before, started = tree_cpu(CONSOLE_MARK), time.monotonic()
    page.wait_for_timeout(seconds * 1000)  # type: ignore[attr-defined]
    return 100 * (tree_cpu(CONSOLE_MARK) - before) / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="each console sample (default 20)")
    parser.add_argument("--chunks", type=int, default=CHUNKS_PER_HOUR, help="chunks uploaded (900 = one hour)")
    args = parser.parse_args()
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, run_server(Path(tmp)) as server, sync_playwright() as playwright:
        supervisor = playwright.request.new_context(base_url=server.url)
        assert supervisor.post("/api/v1/auth/login", data=server.demo["supervisors"][0]).ok
        with recorded_call(playwright, server, Path(tmp), errors) as call:
            call.console.wait_for_timeout(3000)  # the recorder's start and the first chunk
            recording = sample(call.console, args.seconds)
            # The page's own module instance (same URL as call_view.js imports): stop without closing.
            call.console.evaluate("() => import('/static/agent/recording.js')"
                                  ".then((m) => m.stopRecording({ close: false }))")
            call.console.wait_for_timeout(2000)
            state = call.console.get_by_test_id("recording-indicator").get_attribute("data-state")
            idle = sample(call.console, args.seconds)
            print(f"console Chromium, call only: {idle:.1f} % of a core; recording: {recording:.1f} % "
                  f"(indicator after stop: {state})")
            print(f"console's added CPU while recording: {recording - idle:.1f} % of a core")

            session_id = session_id_of(supervisor, call.ticket_number)
            server_process = psutil.Process(server.process.pid)
            body = os.urandom(CHUNK_BYTES)
            before = server_process.cpu_times()
            started = time.monotonic()
            for n in range(args.chunks):
                response = call.console_context.request.put(
                    f"{server.url}/api/v1/sessions/{session_id}/recording/chunks/{50_000 + n}",
                    data=body[:-8] + n.to_bytes(8, "big"), headers={"Content-Type": "video/webm"})
                assert response.status == 201, response.text()
            wall = time.monotonic() - started
            after = server_process.cpu_times()
            cpu = (after.user - before.user) + (after.system - before.system)
            hours = args.chunks / CHUNKS_PER_HOUR
            print(f"server: {args.chunks} chunks of {CHUNK_BYTES} bytes in {wall:.1f} s; "
                  f"{cpu:.2f} CPU s = {cpu / hours:.1f} CPU s per recorded hour "
                  f"({1000 * cpu / args.chunks:.1f} ms per chunk)")
        supervisor.dispose()
    if errors:
        print(f"page errors: {errors}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
