"""WebSocket signaling: connections, fan-out between processes, queue events to clients."""
