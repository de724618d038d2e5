"""The repo lock's one primitive: an exclusive lock on an open file, taken without
waiting, freed by the operating system when its holder dies.

On Windows, where ``fcntl`` does not exist, portalocker takes it (through ``msvcrt``).
On POSIX, portalocker would call ``fcntl.flock`` on the same descriptor, and that is
what is called here directly: importing portalocker costs 40 to 55 ms (its version
lookup loads ``importlib.metadata``), a fifth of a change (measured on 2026-12-03).
The flock belongs to the open file, so the gits of a change, which inherit the
descriptor, keep the lock until the last of them exits (``store.git.holding``).
"""

from __future__ import annotations

import sys
from typing import IO

# whether a child process can inherit the lock's descriptor (pass_fds)
INHERITED = sys.platform != "win32"


def try_lock(fh: IO[str]) -> bool:
    """Lock ``fh`` exclusively if no one holds it: True when taken, False when held."""
    if sys.platform == "win32":  # (the check mypy knows: it skips this branch elsewhere)
        import portalocker

        try:
            portalocker.lock(fh, portalocker.LockFlags.EXCLUSIVE
                             | portalocker.LockFlags.NON_BLOCKING)
        except portalocker.AlreadyLocked:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
