"""One progress bar for every long command (seed, import, rebuild, key rotation)."""

import sys
from typing import Any

from tqdm import tqdm


def progress_bar(*, total: int, unit: str, disable: bool = False, **kwargs: Any) -> "tqdm[Any]":
    return tqdm(total=total, unit=unit, disable=disable, file=sys.stderr, dynamic_ncols=True, **kwargs)
