"""The versioned WebSocket message protocol (docs/protocol.md)."""
