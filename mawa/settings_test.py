"""Settings for the test suite: the real stack, with cheap password hashing and throwaway dirs."""

import os
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="mawa-test-"))
os.environ.setdefault("MAWA_VAR_DIR", str(_TMP / "var"))

from mawa.settings import *  # noqa: E402,F403
from mawa.settings import DATABASES  # noqa: E402

PASSWORD_HASHERS = [
    # Argon2id with a small cost: same algorithm and code path, fast enough for hundreds of logins.
    "mawa.accounts.hashers.TestArgon2PasswordHasher",
]
KEY_DIR = _TMP / "keys"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["NAME"] = _TMP / "test.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": str(_TMP / "test-db.sqlite3")}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
(_TMP / "var" / "static").mkdir(parents=True, exist_ok=True)
