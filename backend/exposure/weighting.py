"""Weighted exposure ("dose"): minutes × media weight × severity weight, × the audio factor for video or
live with audio on, × the unexpected factor. Integer arithmetic in thousandths, so sums stay exact."""

from dataclasses import dataclass

from backend.exposure.models import MediaType

AUDIO_APPLIES_TO = frozenset({MediaType.VIDEO, MediaType.LIVE})
MILLI = 1000


@dataclass(frozen=True)
class Factors:
    media_milli: int
    severity_milli: int
    audio_on_milli: int
    unexpected_milli: int


def dose_milli(*, seconds: int, media_type: str, audio: bool, unexpected: bool, factors: Factors) -> int:
    """Thousandths of a weighted minute, rounded half up."""
    numerator = seconds * factors.media_milli * factors.severity_milli * MILLI
    denominator = 60 * MILLI * MILLI
    if audio and media_type in AUDIO_APPLIES_TO:
        numerator *= factors.audio_on_milli
        denominator *= MILLI
    if unexpected:
        numerator *= factors.unexpected_milli
        denominator *= MILLI
    return (2 * numerator + denominator) // (2 * denominator)
