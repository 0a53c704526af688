from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from backend.exposure.models import MediaType
from backend.exposure.weighting import Factors, dose_milli

DEFAULT = {"still": 1000, "video": 1500, "audio": 1500, "text": 800, "live": 2000}
SEVERITY = {"A": 2000, "B": 1500, "C": 1000, "other": 1000}


def factors(media: str, severity: str) -> Factors:
    return Factors(
        media_milli=DEFAULT[media], severity_milli=SEVERITY[severity], audio_on_milli=1500, unexpected_milli=1500
    )


def test_published_examples():
    # 60 minutes of category A video with audio on: 60 × 1.5 × 2.0 × 1.5 = 270 weighted minutes
    assert (
        dose_milli(seconds=3600, media_type="video", audio=True, unexpected=False, factors=factors("video", "A"))
        == 270_000
    )
    # audio on does not change still images
    assert (
        dose_milli(seconds=3600, media_type="still", audio=True, unexpected=False, factors=factors("still", "C"))
        == 60_000
    )
    # 30 minutes of unexpected category B live stream, audio on: 30 × 2.0 × 1.5 × 1.5 × 1.5 = 202.5
    assert (
        dose_milli(seconds=1800, media_type="live", audio=True, unexpected=True, factors=factors("live", "B"))
        == 202_500
    )
    # text is lighter: 10 minutes × 0.8 = 8
    assert (
        dose_milli(seconds=600, media_type="text", audio=False, unexpected=False, factors=factors("text", "other"))
        == 8_000
    )


@given(
    seconds=st.integers(min_value=1, max_value=57_600),
    media=st.sampled_from(MediaType.values),
    severity=st.sampled_from(list(SEVERITY)),
    audio=st.booleans(),
    unexpected=st.booleans(),
)
def test_dose_is_the_exact_formula_rounded_half_up(seconds, media, severity, audio, unexpected):
    exact = Fraction(seconds, 60) * Fraction(DEFAULT[media], 1000) * Fraction(SEVERITY[severity], 1000)
    if audio and media in ("video", "live"):
        exact *= Fraction(3, 2)
    if unexpected:
        exact *= Fraction(3, 2)
    expected = int(exact * 1000 + Fraction(1, 2))
    assert (
        dose_milli(
            seconds=seconds, media_type=media, audio=audio, unexpected=unexpected, factors=factors(media, severity)
        )
        == expected
    )


@given(seconds=st.integers(min_value=1, max_value=57_599), media=st.sampled_from(MediaType.values))
def test_more_time_never_means_less_dose(seconds, media):
    f = factors(media, "C")
    assert dose_milli(seconds=seconds + 1, media_type=media, audio=False, unexpected=False, factors=f) >= dose_milli(
        seconds=seconds, media_type=media, audio=False, unexpected=False, factors=f
    )
