"""Numbers written in files and on the wire: ASCII digits only.

`str.isdigit` also accepts other scripts' digits ('²', '٣'), which `int` then refuses or reads
differently; every reader of a number an operator or a peer wrote goes through this instead.
"""


def is_decimal(text: str) -> bool:
    """True when `text` is one or more ASCII digits and nothing else."""
    return text.isascii() and text.isdigit()
