"""How an app declares the personal data it holds, so privacy flows (erasure, export, retention) reach all of it.

Each app lists its declarations in ``<app>/personal_data.py`` as ``PERSONAL_DATA``; the privacy layer
collects them. Declaring here keeps apps free of any import of the layer above them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class PersonalData:
    name: str  # "<app>.<thing>"
    description: str  # what it is, in plain words, for the person's export and the docs
    export: Callable[[Any], list[dict[str, Any]]]  # person -> rows, JSON-ready
    # Erase the person's individual-record rows when they withdraw `record`, keeping duty-of-care
    # rows (an open alert, its actions, an open referral). Returns how many rows went.
    erase: Callable[[Any, datetime], int] | None = None
    kept_because: str = ""  # why rows are not erased with the record, when erase is None
    # Delete rows whose retention period has passed. Returns how many rows went.
    retain: Callable[[datetime], int] | None = None
