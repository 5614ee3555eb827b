"""MaskedPaths and ReadonlyPaths as dockerd settles them at create, and what the runtime
gets; the OOM score range check."""

from __future__ import annotations

import os
from typing import Any

import pytest
from pydocker.engine.containers import config as cfg
from pydocker.engine.containers import spec
from pydocker.engine.errors import InvalidParameter
from pydocker.engine.host.sysinfo import lowest_oom_score_adj


def test_null_means_the_defaults_a_list_replaces_them_and_empty_means_none() -> None:
    hc: dict[str, Any] = {"MaskedPaths": None, "ReadonlyPaths": ["/tmp"]}
    spec.settle_paths(hc)
    assert hc == {"MaskedPaths": spec.MASKED_PATHS, "ReadonlyPaths": ["/tmp"]}
    empty: dict[str, Any] = {"MaskedPaths": [], "ReadonlyPaths": []}
    spec.settle_paths(empty)
    assert empty == {"MaskedPaths": [], "ReadonlyPaths": []}
    privileged: dict[str, Any] = {"Privileged": True, "MaskedPaths": ["/etc/group"]}
    spec.settle_paths(privileged)
    assert spec._paths(privileged, "MaskedPaths", spec.MASKED_PATHS) == []
    assert spec._paths(hc, "ReadonlyPaths", spec.READONLY_PATHS) == ["/tmp"]
    assert spec._paths({}, "ReadonlyPaths", spec.READONLY_PATHS) == spec.READONLY_PATHS


@pytest.mark.parametrize("value", [-1001, 1001])
def test_oom_score_adj_outside_the_kernels_range_is_dockerds_400(value: int) -> None:
    with pytest.raises(InvalidParameter, match=rf"Invalid value {value}, range for oom "
                                               r"score adj is \[-1000, 1000\]"):
        cfg.validate_host_config({"OomScoreAdj": value})


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: reads the kernel's floor")
def test_the_oom_floor_probe_leaves_our_own_score_as_it_was() -> None:
    with open("/proc/self/oom_score_adj") as f:
        before = f.read()
    floor = lowest_oom_score_adj()
    assert -1000 <= floor <= int(before)
    with open("/proc/self/oom_score_adj") as f:
        assert f.read() == before
