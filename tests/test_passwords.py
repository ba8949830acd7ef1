"""Password hashing: Argon2id, standard parameters by default, upgrade of weaker hashes."""

from __future__ import annotations

import os
import subprocess
import sys

from server.auth.passwords import hash_password, needs_rehash, unknown_user_hash, verify_password


def test_hash_verifies_and_rejects() -> None:
    stored = hash_password("a long passphrase")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "a long passphrase")
    assert not verify_password(stored, "a long passphrasE")
    assert not verify_password("not a hash", "anything")


def test_servers_use_standard_parameters_and_upgrade_weak_hashes() -> None:
    weak = hash_password("a long passphrase")  # this suite runs with the fast profile
    env = {k: v for k, v in os.environ.items() if k != "JINGLIN_PASSWORD_PROFILE"}
    code = (
        "import sys; from server.auth.passwords import hash_password, needs_rehash;"
        "h = hash_password('x' * 12); assert 'm=65536' in h, h;"
        f"assert needs_rehash({weak!r}); print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "ok", result.stderr
    assert not needs_rehash(weak)


def test_the_unknown_user_hash_has_the_process_parameters() -> None:
    """An unknown username's password is checked against a hash of this process's own cost (a
    fixed standard hash took 190 ms under the fast profile, a known user's 6 ms: a timing tell)."""
    own = hash_password("x" * 12)
    assert unknown_user_hash().split("$")[3] == own.split("$")[3]  # m=…,t=…,p=…
    assert not verify_password(unknown_user_hash(), "")
