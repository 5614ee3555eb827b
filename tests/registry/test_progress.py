"""Progress records against lines recorded from dockerd 20.10 pulling from and pushing to
Debian's docker-registry on 127.0.0.1 (curl on /var/run/docker.sock, bytes as sent)."""

from __future__ import annotations

import pytest
from pydocker.api.server.streams import go_json
from pydocker.images.distribution import progress
from pydocker.images.distribution.pull import name_only, pulling_id, status_line

# Lines as dockerd sent them, one record each (pull of 127.0.0.1:5391/pulltest:v1, push of
# 127.0.0.1:5391/busybox:latest).
WIRE = rb"""
{"status":"Pulling from pulltest","id":"v1"}
{"status":"Pulling fs layer","progressDetail":{},"id":"4cb4dea655bf"}
{"status":"Downloading","progressDetail":{"current":32768,"total":3001189},"progress":"[\u003e                                                  ]  32.77kB/3.001MB","id":"4cb4dea655bf"}
{"status":"Extracting","progressDetail":{"current":3001189,"total":3001189},"progress":"[==================================================\u003e]  3.001MB/3.001MB","id":"4cb4dea655bf"}
{"status":"Pushing","progressDetail":{"current":1318912,"total":1984368},"progress":"[=================================\u003e                 ]  1.319MB/1.984MB","id":"a5eb17a98811"}
{"status":"Pushing","progressDetail":{"current":2129920,"total":1984368},"progress":"[==================================================\u003e]   2.13MB","id":"a5eb17a98811"}
{"status":"Digest: sha256:6dfe866a8c1c2f40c1049216f31b56bc8088e18ae49556a681d51dc46139059c"}
{"progressDetail":{},"aux":{"Tag":"latest","Digest":"sha256:c758","Size":527}}
""".strip().splitlines()

RECORDS = [
    progress.message("Pulling from pulltest", "v1"),
    progress.action("4cb4dea655bf", "Pulling fs layer"),
    progress.progress("4cb4dea655bf", "Downloading", 32768, 3001189),
    progress.progress("4cb4dea655bf", "Extracting", 3001189, 3001189),
    progress.progress("a5eb17a98811", "Pushing", 1318912, 1984368),
    progress.progress("a5eb17a98811", "Pushing", 2129920, 1984368),
    progress.message("Digest: sha256:6dfe866a8c1c2f40c1049216f31b56bc8088e18ae49556a681d51dc46"
                     "139059c"),
    progress.aux({"Tag": "latest", "Digest": "sha256:c758", "Size": 527}),
]
RECORDED = list(zip(RECORDS, WIRE, strict=True))


@pytest.mark.parametrize(("record", "wire"), RECORDED)
def test_records_encode_as_dockerd_sent_them(record: progress.Record, wire: bytes) -> None:
    assert go_json(record) == wire


@pytest.mark.parametrize(("size", "shown"), [
    (0, "0B"), (999, "999B"), (1000, "1kB"), (32768, "32.77kB"), (1984368, "1.984MB"),
    (2129920, "2.13MB"), (3001189, "3.001MB"), (5 * 10**9, "5GB")])
def test_human_size_is_go_units(size: int, shown: str) -> None:
    assert progress.human_size(size) == shown


def test_bar_without_total_shows_the_count_alone() -> None:
    assert progress.bar(1536, 0) == " 1.536kB"  # %8v
    assert progress.bar(0, 0) == ""


@pytest.mark.parametrize(("from_image", "tag", "pulling", "status"), [
    ("127.0.0.1:5391/pulltest", "v1", "v1",
     "Status: Downloaded newer image for 127.0.0.1:5391/pulltest:v1"),
    ("127.0.0.1:5391/pulltest", "", "",
     "Status: Downloaded newer image for 127.0.0.1:5391/pulltest"),
    ("127.0.0.1:5391/pulltest", "sha256:" + "6d" * 32,
     "127.0.0.1:5391/pulltest@sha256:" + "6d" * 32,
     "Status: Downloaded newer image for 127.0.0.1:5391/pulltest@sha256:" + "6d" * 32),
    ("busybox", "latest", "latest", "Status: Downloaded newer image for busybox:latest"),
])
def test_pull_names_as_dockerd(from_image: str, tag: str, pulling: str, status: str) -> None:
    ref = name_only(from_image, tag)
    if pulling:
        assert pulling_id(ref) == pulling
    assert status_line(ref, True) == status


def test_up_to_date_wording() -> None:
    assert status_line(name_only("127.0.0.1:5391/pulltest", "v1"), False) == \
        "Status: Image is up to date for 127.0.0.1:5391/pulltest:v1"


def test_throttle_shows_the_first_read_then_every_512k_and_100ms() -> None:
    now = [0.0]
    throttle = progress.Throttle(clock=lambda: now[0])
    assert throttle.due(1000)
    assert not throttle.due(2000)
    now[0] = 0.05
    assert not throttle.due(1000 + (512 << 10))
    now[0] = 0.2
    assert throttle.due(1000 + (512 << 10))
