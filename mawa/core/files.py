"""Files written so that they survive a power cut.

A file's own ``fsync`` makes its bytes durable; a rename or a new name in a directory is
durable only once the directory itself is synced. The key files (``core.db.encrypt``, the
compartment's key rotation) are written, renamed and then their directory is synced here.
"""

from __future__ import annotations

import os
from pathlib import Path


def dir_fsync(path: Path | str) -> None:
    """Make the entries of directory ``path`` (names created, renamed or removed) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
