"""Docker's output conventions ported from Go: tabwriter, go-units, ports (no daemon)."""

from __future__ import annotations

import pytest
from pydocker.cli.commands.containers import ContainerContext, display_ports, filters_param
from pydocker.cli.formatter import render
from pydocker.cli.output import (
    bytes_size,
    ellipsis,
    go_print,
    go_quote,
    human_duration,
    human_size,
    ram_in_bytes,
    tabwrite,
)


def test_tabwriter_minwidth_10_padding_3() -> None:
    out = tabwrite(["CONTAINER ID\tIMAGE\tPORTS\tNAMES", "abc\tbusybox\t\tweb"])
    assert out == ("CONTAINER ID   IMAGE     PORTS     NAMES\n"
                   "abc            busybox             web\n")


def test_tabwriter_last_cell_is_not_padded_and_blocks_are_per_column() -> None:
    out = tabwrite(["a\tb", "longer-cell\tc", "no tabs here", "x\ty"])
    assert out == "a             b\nlonger-cell   c\nno tabs here\nx         y\n"


def test_tabwriter_top_uses_minwidth_20() -> None:
    assert tabwrite(["UID\tPID\tCMD", "root\t1\tsleep"], minwidth=20) == (
        "UID                 PID                 CMD\n"
        "root                1                   sleep\n")


@pytest.mark.parametrize("size,precision,expected", [
    (0, 4, "0B"), (999, 4, "999B"), (1000, 4, "1kB"), (4_260_000, 4, "4.26MB"),
    (2_033_520, 3, "2.03MB"), (4_067_040, 4, "4.067MB"), (1_500_000_000, 4, "1.5GB"),
    (123_456_789, 3, "123MB"),
])
def test_human_size(size: int, precision: int, expected: str) -> None:
    assert human_size(size, precision) == expected


def test_bytes_size_and_ram_in_bytes() -> None:
    assert bytes_size(528 * 1024) == "528KiB"
    assert bytes_size(25_270_000_000) == "23.53GiB"
    assert ram_in_bytes("512m") == 512 << 20
    assert ram_in_bytes("1g") == 1 << 30
    assert ram_in_bytes("1.5GB") == int(1.5 * (1 << 30))
    assert ram_in_bytes("1024") == 1024
    with pytest.raises(ValueError):
        ram_in_bytes("lots")


@pytest.mark.parametrize("seconds,expected", [
    (0.5, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (60, "About a minute"),
    (119, "About a minute"), (120, "2 minutes"), (3599, "59 minutes"),
    (3600, "About an hour"), (2 * 3600, "2 hours"), (47 * 3600, "47 hours"),
    (48 * 3600, "2 days"), (14 * 86400, "2 weeks"), (60 * 86400, "2 months"),
    (800 * 86400, "2 years"),
])
def test_human_duration(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


def test_go_printing_and_quoting() -> None:
    assert go_print(None) == "<nil>" and go_print(True) == "true"
    assert go_print([1, "a"]) == "[1 a]" and go_print({"b": 1, "a": 2}) == "map[a:2 b:1]"
    assert go_quote("sh -c 'exit 3'") == "\"sh -c 'exit 3'\""
    assert go_quote('echo "hi"') == '"echo \\"hi\\""'
    assert ellipsis("sh -c 'echo out; echo err'", 20) == "sh -c 'echo out; ec…"


def test_ports_like_docker() -> None:
    ports = [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
             {"IP": "0.0.0.0", "PrivatePort": 9000, "PublicPort": 9000, "Type": "udp"},
             {"IP": "0.0.0.0", "PrivatePort": 9001, "PublicPort": 9001, "Type": "udp"},
             {"PrivatePort": 443, "Type": "tcp"},
             {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]
    assert display_ports(ports) == ("443/tcp, 0.0.0.0:9000-9001->9000-9001/udp, "
                                    "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp")


def test_filters_are_sent_in_map_form() -> None:
    assert filters_param(["status=exited", "label=a=b", "status=dead"]) == (
        '{"status": {"exited": true, "dead": true}, "label": {"a=b": true}}')
    assert filters_param([]) is None


SUMMARY = {"Id": "497c8636581ddb26f02501db2a4812b353ca4fffcccb25f31f9e71967afa59c7",
           "Names": ["/web"], "Image": "busybox", "ImageID": "sha256:b73a", "Command":
           "sh -c 'echo out; echo err >&2; exit 3'", "Created": 1000, "Ports": [],
           "Labels": {"a": "b"}, "State": "exited", "Status": "Exited (3) 2 minutes ago",
           "NetworkSettings": {"Networks": {"bridge": {}}}, "Mounts": []}


def test_ps_table_and_formats() -> None:
    from pydocker.cli.commands.containers import PS_HEADERS, PS_TABLE
    rows = [ContainerContext(SUMMARY, True, now=1000 + 130)]
    assert render("", rows, PS_TABLE, PS_HEADERS) == (
        "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS"
        "                     PORTS     NAMES\n"
        "497c8636581d   busybox   \"sh -c 'echo out; ec…\"   2 minutes ago   "
        "Exited (3) 2 minutes ago             web\n")
    assert render("{{.ID}}\\t{{.Names}}", rows, PS_TABLE, PS_HEADERS) == "497c8636581d\tweb\n"
    assert render("table {{.ID}}\\t{{.Label \"a\"}}", rows, PS_TABLE, PS_HEADERS) == (
        "CONTAINER ID   a\n497c8636581d   b\n")
    js = render("json", rows, PS_TABLE, PS_HEADERS)
    assert js.startswith('{"Command":"\\"sh -c \'echo out; ec…\\"","CreatedAt":')
    assert '"Names":"web","Networks":"bridge","Platform":null,"Ports":""' in js


def test_network_and_volume_labels() -> None:
    from pydocker.cli.commands.networks import NETWORK_HEADERS, NETWORK_TABLE, NetworkContext
    from pydocker.cli.commands.volumes import VOLUME_HEADERS, VOLUME_TABLE, VolumeContext
    net = NetworkContext({"Id": "n1", "Name": "a", "Labels": {"z": "1", "b": "2"}}, True)
    vol = VolumeContext({"Name": "v", "Labels": None})
    assert render('{{.Labels}} {{.Label "z"}}', [net], NETWORK_TABLE, NETWORK_HEADERS) == (
        "b=2,z=1 1\n")
    assert render('[{{.Labels}}][{{.Label "z"}}]', [vol], VOLUME_TABLE, VOLUME_HEADERS) == (
        "[][]\n")
