"""Which sysctls a container may set: runc's rules and words, by namespace."""

from __future__ import annotations

import pytest
from pydocker.engine.runtime.spec import Namespaces
from pydocker.engine.runtime.sysctls import refusal

OWN: Namespaces = {"net": "none", "ipc": "new", "uts": "new", "pid": "new"}
POD: Namespaces = {"net": "/proc/7/ns/net", "ipc": "/proc/7/ns/ipc", "uts": "new"}
HOST: Namespaces = {"net": "host", "ipc": "host", "uts": "host"}


@pytest.mark.parametrize("key", ["kernel.shm_rmid_forced", "kernel.msgmax", "kernel.sem",
                                 "fs.mqueue.msg_max", "net.ipv4.ip_forward",
                                 "net/ipv4/ping_group_range", "kernel.domainname"])
def test_namespaced_keys_pass_in_own_and_joined_namespaces(key: str) -> None:
    assert refusal(key, OWN) is None
    assert refusal(key, POD) is None


@pytest.mark.parametrize(("key", "message"), [
    ("kernel.shmmax", 'sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace'),
    ("net.ipv4.ip_forward", ('sysctl "net.ipv4.ip_forward" not allowed in host network '
                             "namespace")),
    ("kernel.domainname", 'sysctl "kernel.domainname" is not in a separate kernel namespace'),
])
def test_host_namespaces_refuse_with_runcs_words(key: str, message: str) -> None:
    assert refusal(key, HOST) == message


def test_keys_outside_any_namespace_and_the_hostname() -> None:
    assert refusal("vm.swappiness", OWN) == (
        'sysctl "vm.swappiness" is not in a separate kernel namespace')
    assert refusal("kernel.hostname", OWN) == (
        'sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field')
