"""Headless kiosks and caseworkers that drive the WebSocket protocol with real WebRTC calls.

`jinglin simulate` (cli.py) runs them against a server; the test suites and the signaling
benchmark reuse the same client (client.py), peers (peers.py) and server launcher (local.py).
"""
