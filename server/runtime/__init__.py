"""Process plumbing below every feature: embedded Redis, logging, periodic tasks, ids and the Redis key names."""
