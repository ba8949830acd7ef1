"""`jinglin simulate`: headless kiosks and caseworkers holding real WebRTC calls through a server."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

import aiohttp

from server.argtypes import whole_number
from server.simulate.actor import Options
from server.simulate.ledger import Ledger
from server.simulate.runner import Plan, own_server, simulate

# Routing widens to every centre after this wait on a self-hosted server, so that a kiosk whose
# street has no free simulated caseworker is still served within a run.
SELF_HOSTED_ENV = {"JINGLIN_WIDEN_AFTER_S": "5"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `simulate` command."""
    parser = subparsers.add_parser("simulate", help="simulated kiosks and caseworkers holding WebRTC calls",
                                   description=__doc__)
    parser.add_argument("--url", help="server to use (default: start one in a temporary data dir)")
    parser.add_argument("--demo-json", type=Path,
                        help="with --url: output of `jinglin demo --json` against the same database")
    parser.add_argument("--kiosks", type=whole_number(1), default=2)
    parser.add_argument("--caseworkers", type=whole_number(1), default=2)
    parser.add_argument("--sessions", type=whole_number(1), default=4)
    parser.add_argument("--drop-rate", type=float, default=0.0,
                        help="probability per session that one side drops its WebSocket and resumes")
    parser.add_argument("--hold-s", type=float, default=2.0, help="seconds a call is held after first video")
    parser.add_argument("--timeout-s", type=float, default=90.0, help="give up on a session after this")
    parser.add_argument("--video", type=_video, default="640x480@15", help="WIDTHxHEIGHT@FPS of the synthetic camera")
    parser.add_argument("--no-trickle", action="store_true",
                        help="send candidates inside the SDP instead of trickling them")
    parser.add_argument("--seed", type=int, help="random seed (matters, drops)")
    parser.add_argument("--json", action="store_true", help="print only the JSON report")
    parser.add_argument("--verbose", action="store_true", help="describe every session on stderr")
    parser.set_defaults(handler=run)


def _video(text: str) -> tuple[int, int, float]:
    """A --video value WIDTHxHEIGHT[@FPS] as (width, height, fps)."""
    size, _, fps = text.partition("@")
    width, _, height = size.partition("x")
    try:
        video = int(width), int(height), float(fps or 15)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not WIDTHxHEIGHT@FPS such as 640x480@15: {text!r}") from None
    if not (16 <= video[0] <= 4096 and 16 <= video[1] <= 4096 and 0 < video[2] <= 60):
        raise argparse.ArgumentTypeError(f"sizes are 16-4096 pixels and 1-60 frames a second: {text!r}")
    return video


def run(args: argparse.Namespace) -> int:
    """Run the simulation; exit 0 when nothing was lost, double assigned or wrong."""
    if not 0 <= args.drop_rate <= 1:
        print("error: --drop-rate must be between 0 and 1", file=sys.stderr)
        return 2
    if args.url and not args.demo_json:
        print("error: --url needs --demo-json (output of `jinglin demo --json` for that server)", file=sys.stderr)
        return 2
    # aiortc/aioice log every ICE check at INFO; only problems belong on stderr.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    plan = Plan(kiosks=args.kiosks, caseworkers=args.caseworkers, sessions=args.sessions,
                drop_rate=args.drop_rate, seed=args.seed,
                options=Options(hold_s=args.hold_s, session_timeout_s=args.timeout_s, video=args.video,
                                trickle=not args.no_trickle))
    ledger = Ledger()
    if args.url:
        try:
            demo = json.loads(args.demo_json.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # missing, unreadable or not JSON
            print(f"error: --demo-json {args.demo_json}: {(str(exc) or type(exc).__name__).splitlines()[0]}",
                  file=sys.stderr)
            return 2
        try:
            report = asyncio.run(simulate(args.url, demo, plan, ledger))
        except aiohttp.ClientError as exc:
            print(f"error: cannot reach {args.url}: {exc}", file=sys.stderr)
            return 1
    else:
        with own_server(SELF_HOSTED_ENV) as server:
            report = asyncio.run(simulate(server.url, server.demo, plan, ledger))
    if args.verbose:
        print("\n".join(ledger.describe()), file=sys.stderr)
    _print(report, args.json)
    ok = report["lost"] == 0 and report["double_assigned"] == 0 and not report["errors"]
    return 0 if ok else 1


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    print(f"sessions: {report['sessions_requested']} requested, {report['completed']} completed, "
          f"{report['abandoned']} abandoned, {report['lost']} lost, {report['double_assigned']} double assigned")
    for key in ("setup_ms", "wait_ms"):
        figures = report[key]
        print(f"{key[:-3]:6} p50 {figures['p50']} ms  p95 {figures['p95']} ms  max {figures['max']} ms")
    print(f"fewest video frames decoded by one side of a completed call: {report['frames_decoded_min']}")
    for error in report["errors"]:
        print(f"error: {error}")
