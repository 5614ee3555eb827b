"""dockerd's prune filters: until (durations, Unix times, RFC 3339), label and label!."""

from __future__ import annotations

import pytest
from pydocker.engine.errors import InvalidParameter
from pydocker.engine.filters import parse_time, prune_filter, until_cutoff

NOW = 1_800_000_000.0


@pytest.mark.parametrize(("value", "cutoff"), [
    ("10m", NOW - 600), ("1h30m", NOW - 5400), ("1.5h", NOW - 5400), ("500ms", NOW - 0.5),
    ("1700000000", 1_700_000_000.0), ("1700000000.25", 1_700_000_000.25),
    ("2024-01-02", 1_704_153_600.0), ("2024-01-02T03:04:05Z", 1_704_164_645.0),
    ("2024-01-02T03:04:05.123456789+01:00", 1_704_161_045.123456)])
def test_until_reads_what_dockerd_reads(value: str, cutoff: float) -> None:
    assert until_cutoff(value, NOW) == pytest.approx(cutoff)


def test_a_bad_until_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="failed to parse value as time or duration"):
        prune_filter({"until": ["soon"]})


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(InvalidParameter, match="invalid filter 'colour'"):
        prune_filter({"colour": ["red"]})


def test_labels_and_until_combine() -> None:
    selects = prune_filter({"label": ["tier"], "label!": ["keep=yes"], "until": ["1h"]})
    old = "2001-01-01T00:00:00.5Z"
    assert selects({"tier": "web"}, old)
    assert not selects({"tier": "web", "keep": "yes"}, old)  # label! holds
    assert selects({"tier": "web", "keep": "no"}, old)
    assert not selects({}, old)  # label does not hold
    assert not selects({"tier": "web"}, "2999-01-01T00:00:00Z")  # too new


def test_parse_time_gives_up_on_what_is_not_a_time() -> None:
    assert parse_time("yesterday") is None
