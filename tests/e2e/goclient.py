"""Request bodies and calls as Docker's Go client (v25, the one cri-dockerd v0.4.3 links)
sends them: every field of Config and HostConfig present, with Go's zero values (nil
slices and maps as null, [2]uint as [0, 0]), and the hijacked exec with half-close.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

from tests.e2e.harness import Daemon

API = "/v1.41"  # cri-dockerd negotiates down to the daemon's, at most its client's


def go_config(**fields: Any) -> dict[str, Any]:
    """container.Config with the omitempty fields left out when zero, as encoding/json."""
    body: dict[str, Any] = {
        "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False,
        "AttachStdout": False, "AttachStderr": False, "Tty": False, "OpenStdin": False,
        "StdinOnce": False, "Env": None, "Cmd": None, "Image": "", "Volumes": None,
        "WorkingDir": "", "Entrypoint": None, "OnBuild": None, "Labels": None,
    }
    body.update(fields)
    return body


def go_host_config(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Binds": None, "ContainerIDFile": "", "LogConfig": {"Type": "", "Config": None},
        "NetworkMode": "", "PortBindings": None,
        "RestartPolicy": {"Name": "", "MaximumRetryCount": 0}, "AutoRemove": False,
        "VolumeDriver": "", "VolumesFrom": None, "ConsoleSize": [0, 0], "CapAdd": None,
        "CapDrop": None, "CgroupnsMode": "", "Dns": None, "DnsOptions": None,
        "DnsSearch": None, "ExtraHosts": None, "GroupAdd": None, "IpcMode": "",
        "Cgroup": "", "Links": None, "OomScoreAdj": 0, "PidMode": "", "Privileged": False,
        "PublishAllPorts": False, "ReadonlyRootfs": False, "SecurityOpt": None,
        "UTSMode": "", "UsernsMode": "", "ShmSize": 0, "Isolation": "",
        # Resources, embedded
        "CpuShares": 0, "Memory": 0, "NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0,
        "BlkioWeightDevice": None, "BlkioDeviceReadBps": None, "BlkioDeviceWriteBps": None,
        "BlkioDeviceReadIOps": None, "BlkioDeviceWriteIOps": None, "CpuPeriod": 0,
        "CpuQuota": 0, "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "",
        "CpusetMems": "", "Devices": None, "DeviceCgroupRules": None, "DeviceRequests": None,
        "MemoryReservation": 0, "MemorySwap": 0, "MemorySwappiness": None,
        "OomKillDisable": None, "PidsLimit": None, "Ulimits": None, "CpuCount": 0,
        "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
        "MaskedPaths": None, "ReadonlyPaths": None,
    }
    body.update(fields)
    return body


def call(d: Daemon, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
    status, _, data = d.request(method, API + path, body)
    assert status == expect, f"{method} {path}: {status} {data!r}"
    return json.loads(data) if data else None


def create(d: Daemon, name: str, config: dict[str, Any], host_config: dict[str, Any]
           ) -> dict[str, Any]:
    """ContainerCreate: Config inline, HostConfig, and the nil NetworkingConfig."""
    body = {**config, "HostConfig": host_config, "NetworkingConfig": None}
    result: dict[str, Any] = call(d, "POST", f"/containers/create?name={name}", body, 201)
    return result


def _read_response_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _demux(raw: bytes) -> tuple[bytes, bytes]:
    out, err = b"", b""
    while len(raw) >= 8:
        kind, size = struct.unpack(">BxxxL", raw[:8])
        payload, raw = raw[8:8 + size], raw[8 + size:]
        if kind == 2:
            err += payload
        else:
            out += payload
    return out, err


def exec_sync(d: Daemon, container_id: str, cmd: list[str], stdin: bytes | None = None
              ) -> tuple[int, bytes, bytes]:
    """cri-dockerd's ExecSync: exec create, hijacked start (stdin written, then the write
    side half-closed), then exec inspect for the exit code. (code, stdout, stderr)."""
    exec_id = call(d, "POST", f"/containers/{container_id}/exec", {
        "User": "", "Privileged": False, "Tty": False, "ConsoleSize": None,
        "AttachStdin": stdin is not None, "AttachStderr": True, "AttachStdout": True,
        "Detach": False, "DetachKeys": "", "Env": None, "WorkingDir": "", "Cmd": cmd,
    }, 201)["Id"]
    body = json.dumps({"Detach": False, "Tty": False, "ConsoleSize": None}).encode()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(60)
    sock.connect(str(d.socket))
    try:
        sock.sendall(f"POST {API}/exec/{exec_id}/start HTTP/1.1\r\nHost: docker\r\n"
                     "Content-Type: application/json\r\nConnection: Upgrade\r\n"
                     f"Upgrade: tcp\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        head, raw = _read_response_head(sock)
        assert head.startswith(b"HTTP/1.1 101"), head
        if stdin:
            sock.sendall(stdin)
        sock.shutdown(socket.SHUT_WR)  # CloseWrite: the process sees EOF on its stdin
        while chunk := sock.recv(65536):
            raw += chunk
    finally:
        sock.close()
    out, err = _demux(raw)
    inspect = call(d, "GET", f"/exec/{exec_id}/json")
    assert inspect["Running"] is False
    return inspect["ExitCode"], out, err
