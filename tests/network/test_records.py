"""The network records without a kernel: lookups, persistence, and new-network checks."""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from pydocker.engine.errors import Conflict, Forbidden, InvalidParameter, NotFound
from pydocker.network import definitions
from pydocker.network.ipam import Pool
from pydocker.network.model import Endpoint
from pydocker.network.state import STATE_FILE, NetworkState, load_state, save_state


def _state() -> NetworkState:
    state = NetworkState()
    bridge = definitions.default_bridge("pyd0", 1500, Pool.create("10.99.0.0/24"))
    user = definitions.user_bridge("web", Pool.create("10.98.0.0/24"), ipam={},
                                   internal=False, attachable=False, labels={}, options={},
                                   default_mtu=1500, bridges_in_use=["pyd0"])
    for net in (bridge, user, definitions.predefined("host", "host")):
        state.add(net)
    for net, cid, ip in ((user, "a" * 64, "10.98.0.2"), (user, "b" * 64, "10.98.0.3"),
                         (bridge, "a" * 64, "10.99.0.2")):
        net.endpoints[cid] = Endpoint(net.id, net.name, cid, definitions.new_id(),
                                      name=f"/{cid[0]}", ip=ip, aliases=["db"] * (cid[0] == "b"))
    return state


def test_lookups_by_name_id_and_prefix_with_dockers_errors() -> None:
    state = _state()
    web = state.find_name("web")
    assert web is not None
    assert state.get("web") is state.get(web.id) is state.get(web.id[:12]) is web
    with pytest.raises(NotFound, match="^network nope not found$"):
        state.get("nope")
    assert state.subnets() == [IPv4Network("10.99.0.0/24"), IPv4Network("10.98.0.0/24")]
    assert set(state.endpoints_of("a" * 64)) == {"bridge", "web"}


def test_names_resolve_on_user_defined_networks_only() -> None:
    state = _state()
    assert state.resolve("a" * 64, "db") == ["10.98.0.3"]
    assert state.resolve("a" * 64, "b.web") == ["10.98.0.3"]
    assert state.resolve("a" * 64, "nothing") is None
    assert state.on_user_network("b" * 64) and not state.on_user_network("c" * 64)


def test_the_records_survive_a_save_and_load(tmp_path: Path) -> None:
    state = _state()
    state.ip_forward_before = "0"
    save_state(tmp_path / "net", state)
    assert not [p for p in (tmp_path / "net").iterdir() if p.name != STATE_FILE]  # no temp
    again = load_state(tmp_path / "net")
    assert again.ip_forward_before == "0"
    assert {n: x.to_dict() for n, x in again.networks.items()} == {
        n: x.to_dict() for n, x in state.networks.items()}
    assert json.loads((tmp_path / "net" / STATE_FILE).read_text())["networks"]
    assert load_state(tmp_path / "none") == NetworkState()


def test_new_network_checks() -> None:
    with pytest.raises(Forbidden, match='only one instance of "host"'):
        definitions.check_driver("host", {})
    with pytest.raises(NotFound, match='plugin "overlay" not found'):
        definitions.check_driver("overlay", {})
    with pytest.raises(NotFound, match='plugin "weird" not found'):
        definitions.check_driver("bridge", {"Driver": "weird"})
    assert definitions.requested_pool([], []) is None
    assert definitions.requested_pool([{}], []) is None
    with pytest.raises(InvalidParameter, match="a subnet is required"):
        definitions.requested_pool([{"Gateway": "10.0.0.1"}], [])
    with pytest.raises(Forbidden, match="Pool overlaps"):
        definitions.requested_pool([{"Subnet": "10.1.0.0/16"}], [IPv4Network("10.1.2.0/24")])
    pool = definitions.requested_pool([{"Subnet": "10.2.0.0/24"}], [])
    assert pool is not None and pool.subnet == IPv4Network("10.2.0.0/24")
    with pytest.raises(Conflict, match="bridge name pyd0 is already in use"):
        definitions.user_bridge("x", pool, ipam={}, internal=False, attachable=False,
                                labels={}, options={"com.docker.network.bridge.name": "pyd0"},
                                default_mtu=1500, bridges_in_use=["pyd0"])
    with pytest.raises(InvalidParameter, match="invalid value for"):
        definitions.bool_option({"k": "maybe"}, "k", True)
    assert definitions.bool_option({"k": ""}, "k", False) is False
