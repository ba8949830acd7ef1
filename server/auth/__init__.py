"""Authentication: password hashing, tokens, login sessions."""
