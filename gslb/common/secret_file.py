"""Reading a secret (an API token, a Redis password) from the file a setting names.

One rule for all of them: UTF-8 text, and the blanks and newline around it are not part of the
secret (an editor adds a final newline; `echo token > file` does too).
"""

import errno
from pathlib import Path


def read_secret_file(path: Path) -> str:
    """The secret `path` holds, "" when the file is empty or blank.

    Raises OSError, also for a file that is not UTF-8 text (strerror says so), so every caller
    reports a bad file the way it reports a missing one; each caller words its own message and
    decides what an empty file means (no token is an error; no Redis password is none).
    """
    try:
        return path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise OSError(errno.EILSEQ, "not UTF-8 text", str(path)) from None
