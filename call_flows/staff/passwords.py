"""Local-account passwords (issue 10.9): the policy for new passwords and a constant-work check.

The policy: at least `MIN_LENGTH` (12) characters, at most `MAX_LENGTH`, not one of the 30,000 most
common passwords, and not guessable from them by the usual variations (l33t, repeats, sequences, the
username): `zxcvbn` (a maintained port of Dropbox's estimator, with its list of common passwords)
must score it at least `MIN_SCORE` (3 of 4). Hashes are werkzeug's (scrypt).
"""
from functools import lru_cache
import secrets

from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from call_flows.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_SCORE = 3


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_policy(password: str, username: str = "") -> None:
    """Raise InvalidInput (code `weak_password`) unless `password` meets the policy above."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_LENGTH} characters", code="weak_password")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"a password has at most {MAX_LENGTH} characters", code="weak_password")
    if password.lower() in _common():
        raise InvalidInput("that is one of the most common passwords: choose another", code="weak_password")
    result = zxcvbn(password[:100], user_inputs=[username] if username else [])
    if result["score"] < MIN_SCORE:
        hint = result["feedback"].get("warning") or "it is too easy to guess"
        raise InvalidInput(f"that password is too easy to guess ({hint.rstrip('.')}): choose another, "
                           "for example three or four unrelated words", code="weak_password")


def hash_password(password: str) -> str:
    """The stored form of a password (werkzeug's scrypt hash with a random salt)."""
    return generate_password_hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def verify(password_hash: str | None, password: str) -> bool:
    """True when `password` matches `password_hash`. With no hash (unknown user, no local password) a
    dummy hash is checked instead, so every sign-in attempt costs the same and timing tells nothing."""
    if not password_hash:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)
