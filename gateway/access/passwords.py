"""Password hashes: scrypt, since passwords are low-entropy (tokens are random and get a fast hash).

A scrypt hash takes tens of milliseconds of CPU and 16 MiB: it never runs on the event loop, which would stall
every other request of the process (150 logins in flight held `/healthz` for 1.9 s). `hash_password_async` and
`verify_password_async` run it on a small pool of threads (`gateway.off_loop`; hashlib releases the GIL while
it hashes), with a bounded queue in front: beyond `MAX_WAITING` hashes waiting, `PasswordCheckBusy` is raised at
once, so a flood of logins costs a bounded amount of work and memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from gateway.off_loop import OffLoop

HASH_THREADS = 2
MAX_WAITING = 32


class PasswordCheckBusy(Exception):
    """Too many password hashes are waiting already: the caller should retry in a moment."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    salt = base64.b64decode(salt_b64)
    digest = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


# the hash a login with an email no user has is checked against, so that it costs the same work as a wrong
# password (`verify_password` spends the same scrypt parameters on any stored hash) and neither its reply's time
# nor a busy answer tells that the email is unknown: the hash of a random password, thrown away when it was made
UNKNOWN_USER_HASH = "scrypt$ItWogQEJJEXuw0U3JGUdRQ==$asSIL+W6H1/qETGq4CvsZjtZC/HOf67SFmsETBN0TnQ="


_HASHING = OffLoop(
    "password-hash",
    HASH_THREADS,
    MAX_WAITING,
    lambda: PasswordCheckBusy("Too many logins at once; retry in a moment"),
)


async def hash_password_async(password: str) -> str:
    """`hash_password` on the hashing threads (raises PasswordCheckBusy when too many are waiting)."""
    return await _HASHING.run(hash_password, password)


async def verify_password_async(password: str, stored: str) -> bool:
    """`verify_password` on the hashing threads (raises PasswordCheckBusy when too many are waiting)."""
    return await _HASHING.run(verify_password, password, stored)
