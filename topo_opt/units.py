"""Parsing of sizes and quantities with units, and integer scaling for CP-SAT, in one place.

GB means 10^9 bytes and GiB 2^30 bytes, as in nccl-tests and DESIGN.md.
"""

import re

_SIZE_FACTORS = {
    "": 1, "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
    "k": 2**10, "m": 2**20, "g": 2**30,
}
MAX_SIZE_BYTES = 2**40  # 1 TiB per chip: beyond any accelerator's memory
_NUMBER_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_size_bytes(text: str | int) -> int:
    """`'1GiB'` -> 1073741824, `'64KiB'` -> 65536, `'4GB'` -> 4e9, `1024` -> 1024.

    Raises ValueError with the accepted units when the text is not a size.
    """
    if isinstance(text, bool):
        raise ValueError(f"not a size: {text!r}")
    if isinstance(text, int):
        value, unit = (float(text) if abs(text) <= MAX_SIZE_BYTES else float(MAX_SIZE_BYTES + 1)), ""
    else:
        match = _NUMBER_UNIT.match(str(text))
        if not match or match.group(2).lower() not in _SIZE_FACTORS:
            raise ValueError(f"not a size: {text!r} (use bytes or a unit such as 64KiB, 1MiB, 1GiB, 1GB)")
        value, unit = float(match.group(1)), match.group(2).lower()
    size = value * _SIZE_FACTORS[unit]
    if not 0 < size <= MAX_SIZE_BYTES or size != int(size):
        raise ValueError(f"size must be a whole number of bytes in [1, 1TiB], got {text!r}")
    return int(size)


def format_size(size_bytes: int) -> str:
    """Shortest exact binary form: 1073741824 -> '1GiB', 1000 -> '1000B'."""
    for unit, factor in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size_bytes >= factor and size_bytes % factor == 0:
            return f"{size_bytes // factor}{unit}"
    return f"{size_bytes}B"


def scale_int(value: float, scale: float) -> int:
    """CP-SAT takes integers only: every model scales its floats through here (round half away)."""
    return int(round(value * scale))
