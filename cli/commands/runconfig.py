"""``run``/``create`` flags and their translation into a ``POST /containers/create`` body.

Pure functions only (no I/O beyond --env-file/--label-file reads), so every option's
wire shape is unit-tested without a daemon. Shapes follow docker/cli's
``cli/command/container/opts.go`` and the Engine API's ContainerConfig/HostConfig.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.errors import CliError
from pydocker.cli.flags import Flag
from pydocker.cli.output import ram_in_bytes

L, S, B, I, F = "list", "str", "bool", "int", "float"

RUN_FLAGS: tuple[Flag, ...] = (
    Flag("add-host", "", L, help="Add a custom host-to-IP mapping (host:ip)"),
    Flag("attach", "a", L, help="Attach to STDIN, STDOUT or STDERR"),
    Flag("blkio-weight", "", I, help="Block IO (relative weight), between 10 and 1000"),
    Flag("cap-add", "", L, help="Add Linux capabilities"),
    Flag("cap-drop", "", L, help="Drop Linux capabilities"),
    Flag("cgroup-parent", "", S, help="Optional parent cgroup for the container"),
    Flag("cgroupns", "", S, help="Cgroup namespace to use (host|private)"),
    Flag("cidfile", "", S, help="Write the container ID to the file"),
    Flag("cpu-period", "", I, help="Limit CPU CFS (Completely Fair Scheduler) period"),
    Flag("cpu-quota", "", I, help="Limit CPU CFS (Completely Fair Scheduler) quota"),
    Flag("cpu-shares", "c", I, help="CPU shares (relative weight)"),
    Flag("cpus", "", S, metavar="decimal", help="Number of CPUs"),
    Flag("cpuset-cpus", "", S, help="CPUs in which to allow execution (0-3, 0,1)"),
    Flag("cpuset-mems", "", S, help="MEMs in which to allow execution (0-3, 0,1)"),
    Flag("detach", "d", help="Run container in background and print container ID"),
    Flag("detach-keys", "", S, help="Override the key sequence for detaching a container"),
    Flag("device", "", L, help="Add a host device to the container"),
    Flag("dns", "", L, help="Set custom DNS servers"),
    Flag("dns-option", "", L, help="Set DNS options"),
    Flag("dns-search", "", L, help="Set custom DNS search domains"),
    Flag("domainname", "", S, help="Container NIS domain name"),
    Flag("entrypoint", "", S, help="Overwrite the default ENTRYPOINT of the image"),
    Flag("env", "e", L, help="Set environment variables"),
    Flag("env-file", "", L, help="Read in a file of environment variables"),
    Flag("expose", "", L, help="Expose a port or a range of ports"),
    Flag("group-add", "", L, help="Add additional groups to join"),
    Flag("health-cmd", "", S, help="Command to run to check health"),
    Flag("health-interval", "", S, help="Time between running the check (ms|s|m|h)"),
    Flag("health-retries", "", I, help="Consecutive failures needed to report unhealthy"),
    Flag("health-start-period", "", S, help="Start period for the container to initialize"),
    Flag("health-timeout", "", S, help="Maximum time to allow one check to run (ms|s|m|h)"),
    Flag("hostname", "h", S, help="Container host name"),
    Flag("init", "", help="Run an init inside the container that forwards signals and reaps "
         "processes"),
    Flag("interactive", "i", help="Keep STDIN open even if not attached"),
    Flag("ip", "", S, help="IPv4 address (e.g., 172.30.100.104)"),
    Flag("ip6", "", S, help="IPv6 address (e.g., 2001:db8::33)"),
    Flag("ipc", "", S, help="IPC mode to use"),
    Flag("label", "l", L, help="Set meta data on a container"),
    Flag("label-file", "", L, help="Read in a line delimited file of labels"),
    Flag("link", "", L, help="Add link to another container"),
    Flag("log-driver", "", S, help="Logging driver for the container"),
    Flag("log-opt", "", L, help="Log driver options"),
    Flag("mac-address", "", S, help="Container MAC address (e.g., 92:d0:c6:0a:29:33)"),
    Flag("memory", "m", S, metavar="bytes", help="Memory limit"),
    Flag("memory-reservation", "", S, metavar="bytes", help="Memory soft limit"),
    Flag("memory-swap", "", S, metavar="bytes", help="Swap limit equal to memory plus swap: "
         "'-1' to enable unlimited swap"),
    Flag("memory-swappiness", "", I, -1, help="Tune container memory swappiness (0 to 100)"),
    Flag("mount", "", L, metavar="mount", help="Attach a filesystem mount to the container"),
    Flag("name", "", S, help="Assign a name to the container"),
    Flag("network", "", S, help="Connect a container to a network"),
    Flag("net", "", S, help="Connect a container to a network (alias of --network)"),
    Flag("network-alias", "", L, help="Add network-scoped alias for the container"),
    Flag("no-healthcheck", "", help="Disable any container-specified HEALTHCHECK"),
    Flag("oom-kill-disable", "", help="Disable OOM Killer"),
    Flag("oom-score-adj", "", I, help="Tune host's OOM preferences (-1000 to 1000)"),
    Flag("pid", "", S, help="PID namespace to use"),
    Flag("pids-limit", "", I, help="Tune container pids limit (set -1 for unlimited)"),
    Flag("platform", "", S, help="Set platform if server is multi-platform capable"),
    Flag("privileged", "", help="Give extended privileges to this container"),
    Flag("publish", "p", L, help="Publish a container's port(s) to the host"),
    Flag("publish-all", "P", help="Publish all exposed ports to random ports"),
    Flag("pull", "", S, "missing", help='Pull image before running ("always", "missing", '
         '"never")'),
    Flag("quiet", "q", help="Suppress the pull output"),
    Flag("read-only", "", help="Mount the container's root filesystem as read only"),
    Flag("restart", "", S, "no", help="Restart policy to apply when a container exits"),
    Flag("rm", "", help="Automatically remove the container and its associated anonymous "
         "volumes when it exits"),
    Flag("runtime", "", S, help="Runtime to use for this container"),
    Flag("security-opt", "", L, help="Security Options"),
    Flag("shm-size", "", S, metavar="bytes", help="Size of /dev/shm"),
    Flag("sig-proxy", "", B, True, help="Proxy received signals to the process"),
    Flag("stop-signal", "", S, help="Signal to stop the container"),
    Flag("stop-timeout", "", I, help="Timeout (in seconds) to stop a container"),
    Flag("storage-opt", "", L, help="Storage driver options for the container"),
    Flag("sysctl", "", L, metavar="map", help="Sysctl options"),
    Flag("tmpfs", "", L, help="Mount a tmpfs directory"),
    Flag("tty", "t", help="Allocate a pseudo-TTY"),
    Flag("ulimit", "", L, metavar="ulimit", help="Ulimit options"),
    Flag("user", "u", S, help="Username or UID (format: <name|uid>[:<group|gid>])"),
    Flag("userns", "", S, help="User namespace to use"),
    Flag("uts", "", S, help="UTS namespace to use"),
    Flag("volume", "v", L, help="Bind mount a volume"),
    Flag("volume-driver", "", S, help="Optional volume driver for the container"),
    Flag("volumes-from", "", L, help="Mount volumes from the specified container(s)"),
    Flag("workdir", "w", S, help="Working directory inside the container"),
)
CREATE_ONLY = {"detach", "detach-keys", "rm", "sig-proxy"}


def _bad(msg: str) -> CliError:
    return CliError(msg, status=125)


def parse_env(values: list[str], files: list[str]) -> list[str]:
    """--env-file lines first, then -e; bare names take the value from our environment."""
    out: list[str] = []
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError as e:
            raise _bad(f"open {path}: {e.strerror.lower() if e.strerror else e}") from None
        out += [ln.lstrip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    out += values
    result = []
    for item in out:
        if "=" in item:
            result.append(item)
        elif item in os.environ:
            result.append(f"{item}={os.environ[item]}")
    return result


def parse_labels(values: list[str], files: list[str]) -> dict[str, str]:
    lines = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            lines += [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    labels = {}
    for item in lines + values:
        k, _, v = item.partition("=")
        labels[k] = v
    return labels


def _port_range(spec: str) -> list[int]:
    lo, _, hi = spec.partition("-")
    try:
        a = int(lo)
        b = int(hi) if hi else a
    except ValueError:
        raise _bad(f"invalid containerPort: {spec}") from None
    return list(range(a, b + 1))


def parse_publish(specs: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, list[Any]]]:
    """-p [ip:][hostPort:]containerPort[/proto] -> (ExposedPorts, PortBindings)."""
    exposed: dict[str, dict[str, Any]] = {}
    bindings: dict[str, list[Any]] = {}
    for spec in specs:
        rest, _, proto = spec.partition("/")
        proto = proto or "tcp"
        ip = ""
        m = re.match(r"^\[([0-9a-fA-F:.]+)\]:(.*)$", rest)
        if m:
            ip, rest = m.group(1), m.group(2)
            host, _, container = rest.rpartition(":")
        else:
            parts = rest.split(":")
            if len(parts) == 1:
                host, container = "", parts[0]
            elif len(parts) == 2:
                host, container = parts
            elif len(parts) == 3:
                ip, host, container = parts
            else:
                raise _bad(f"invalid proto: {spec}")
        cports = _port_range(container)
        hports = _port_range(host) if host else []
        if hports and len(hports) != len(cports) and len(hports) != 1:
            raise _bad(f"invalid ranges specified for container and host Ports: {container} "
                       f"and {host}")
        for n, cp in enumerate(cports):
            key = f"{cp}/{proto}"
            exposed[key] = {}
            if len(hports) == len(cports):
                hp = str(hports[n])
            elif hports:
                hp = host  # a host range for one container port
            else:
                hp = ""
            bindings.setdefault(key, []).append({"HostIp": ip, "HostPort": hp})
    return exposed, bindings


def parse_mount(spec: str) -> dict[str, Any]:
    """--mount type=bind,source=/a,target=/b,readonly -> a HostConfig.Mounts entry."""
    m: dict[str, Any] = {"Type": "volume"}
    opts: dict[str, str] = {}
    for field in spec.split(","):
        key, eq, value = field.partition("=")
        key = key.strip().lower()
        if key in ("type",):
            m["Type"] = value
        elif key in ("source", "src"):
            m["Source"] = value
        elif key in ("target", "destination", "dst"):
            m["Target"] = value
        elif key in ("readonly", "ro"):
            m["ReadOnly"] = (not eq) or value.lower() in ("1", "true")
        elif key == "consistency":
            m["Consistency"] = value
        elif key in ("bind-propagation",):
            m.setdefault("BindOptions", {})["Propagation"] = value
        elif key == "volume-nocopy":
            m.setdefault("VolumeOptions", {})["NoCopy"] = (not eq) or value == "true"
        elif key == "volume-label":
            k, _, v = value.partition("=")
            m.setdefault("VolumeOptions", {}).setdefault("Labels", {})[k] = v
        elif key == "volume-driver":
            m.setdefault("VolumeOptions", {}).setdefault("DriverConfig", {})["Name"] = value
        elif key == "tmpfs-size":
            m.setdefault("TmpfsOptions", {})["SizeBytes"] = ram_in_bytes(value)
        elif key == "tmpfs-mode":
            m.setdefault("TmpfsOptions", {})["Mode"] = int(value, 8)
        else:
            opts[key] = value
    if "Target" not in m:
        raise _bad(f'invalid argument "{spec}" for "--mount" flag: target is required')
    return m


def parse_restart(value: str) -> dict[str, Any]:
    name, _, count = value.partition(":")
    if name not in ("no", "always", "unless-stopped", "on-failure", ""):
        raise _bad(f"invalid restart policy: unknown policy '{name}'; use one of 'no', "
                   "'always', 'on-failure', or 'unless-stopped'")
    policy: dict[str, Any] = {"Name": name or "no", "MaximumRetryCount": 0}
    if count:
        if name != "on-failure":
            raise _bad("invalid restart policy: maximum retry count can only be used with "
                       "'on-failure'")
        policy["MaximumRetryCount"] = int(count)
    return policy


def parse_duration_ns(value: str) -> int:
    """Go's time.ParseDuration ('1m30s', '500ms') in nanoseconds."""
    if not value:
        return 0
    units = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
             "h": 3600 * 10**9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", value)
    if not parts or "".join(a + b for a, b in parts) != value:
        raise _bad(f'time: invalid duration "{value}"')
    return int(sum(float(n) * units[u] for n, u in parts))


def parse_ulimit(spec: str) -> dict[str, Any]:
    name, _, limits = spec.partition("=")
    soft, _, hard = limits.partition(":")
    try:
        return {"Name": name, "Soft": int(soft), "Hard": int(hard or soft)}
    except ValueError:
        raise _bad(f'invalid argument "{spec}" for "--ulimit" flag') from None


def parse_device(spec: str) -> dict[str, str]:
    parts = spec.split(":")
    host = parts[0]
    path = parts[1] if len(parts) > 1 and parts[1].startswith("/") else host
    perms = parts[-1] if len(parts) > 1 and not parts[-1].startswith("/") else "rwm"
    return {"PathOnHost": host, "PathInContainer": path, "CgroupPermissions": perms}


def _binds(volumes: list[str]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    binds: list[str] = []
    anon: dict[str, dict[str, Any]] = {}
    for v in volumes:
        if ":" in v:
            binds.append(v)
        else:
            anon[v] = {}
    return binds, anon


def endpoint_config(aliases: list[str], ip: str, ip6: str) -> dict[str, Any]:
    """EndpointSettings from --network-alias/--alias, --ip and --ip6 (run and connect)."""
    endpoint: dict[str, Any] = {}
    if aliases:
        endpoint["Aliases"] = aliases
    if ip or ip6:
        endpoint["IPAMConfig"] = {k: v for k, v in (("IPv4Address", ip), ("IPv6Address", ip6))
                                  if v}
    return endpoint


def build_create_body(opts: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(create body, query) from parsed run/create options; ``opts.args`` = IMAGE [CMD...]."""
    image, cmd = opts.args[0], opts.args[1:]
    detach = getattr(opts, "detach", False)
    attach = [a.lower() for a in opts.attach]
    for a in attach:
        if a not in ("stdin", "stdout", "stderr"):
            raise _bad(f"invalid argument \"{a}\" for \"-a, --attach\" flag: valid streams "
                       "are STDIN, STDOUT and STDERR")
    if detach and attach:
        raise _bad("Conflicting options: -a and -d")
    if getattr(opts, "rm", False) and opts.restart not in ("", "no"):
        raise _bad("Conflicting options: --restart and --rm")
    if not detach and not attach:
        attach = ["stdout", "stderr"] + (["stdin"] if opts.interactive else [])
    exposed, port_bindings = parse_publish(opts.publish)
    for e in opts.expose:
        port, _, proto = e.partition("/")
        for p in _port_range(port):
            exposed.setdefault(f"{p}/{proto or 'tcp'}", {})
    binds, anon = _binds(opts.volume)
    network = opts.network or opts.net
    config: dict[str, Any] = {
        "Hostname": opts.hostname, "Domainname": opts.domainname, "User": opts.user,
        "AttachStdin": "stdin" in attach, "AttachStdout": "stdout" in attach,
        "AttachStderr": "stderr" in attach, "Tty": opts.tty,
        "OpenStdin": opts.interactive, "StdinOnce": opts.interactive and "stdin" in attach,
        "Env": parse_env(opts.env, opts.env_file), "Cmd": cmd or None, "Image": image,
        "WorkingDir": opts.workdir, "Labels": parse_labels(opts.label, opts.label_file),
    }
    if exposed:
        config["ExposedPorts"] = exposed
    if anon:
        config["Volumes"] = anon
    if "entrypoint" in opts.changed:
        config["Entrypoint"] = [opts.entrypoint] if opts.entrypoint else [""]
    if opts.stop_signal:
        config["StopSignal"] = opts.stop_signal
    if "stop_timeout" in opts.changed:
        config["StopTimeout"] = opts.stop_timeout
    if opts.mac_address:
        config["MacAddress"] = opts.mac_address
    health = _healthcheck(opts)
    if health:
        config["Healthcheck"] = health
    config["HostConfig"] = _host_config(opts, binds, port_bindings, network)
    endpoint = endpoint_config(opts.network_alias, opts.ip, opts.ip6)
    if endpoint:
        config["NetworkingConfig"] = {"EndpointsConfig": {network or "default": endpoint}}
    query = {"name": opts.name or None, "platform": opts.platform or None}
    return config, query


def _healthcheck(opts: Any) -> dict[str, Any] | None:
    if opts.no_healthcheck:
        return {"Test": ["NONE"]}
    if not (opts.health_cmd or opts.health_interval or opts.health_timeout
            or opts.health_retries or opts.health_start_period):
        return None
    h: dict[str, Any] = {}
    if opts.health_cmd:
        h["Test"] = ["CMD-SHELL", opts.health_cmd]
    h["Interval"] = parse_duration_ns(opts.health_interval)
    h["Timeout"] = parse_duration_ns(opts.health_timeout)
    h["StartPeriod"] = parse_duration_ns(opts.health_start_period)
    h["Retries"] = opts.health_retries
    return h


def _bytes(value: str, flag: str) -> int:
    if value == "-1":
        return -1
    try:
        return ram_in_bytes(value)
    except ValueError:
        raise _bad(f'invalid argument "{value}" for "{flag}" flag: invalid size: '
                   f"'{value}'") from None


def _host_config(opts: Any, binds: list[str], port_bindings: dict[str, list[Any]],
                 network: str) -> dict[str, Any]:
    hc: dict[str, Any] = {
        "Binds": binds or None, "NetworkMode": network or "default",
        "PortBindings": port_bindings or {}, "RestartPolicy": parse_restart(opts.restart),
        "AutoRemove": bool(getattr(opts, "rm", False)), "VolumesFrom": opts.volumes_from or None,
        "CapAdd": opts.cap_add or None, "CapDrop": opts.cap_drop or None,
        "Dns": opts.dns, "DnsOptions": opts.dns_option, "DnsSearch": opts.dns_search,
        "ExtraHosts": [h.replace("=", ":", 1) if "=" in h else h for h in opts.add_host] or None,
        "Privileged": opts.privileged, "PublishAllPorts": opts.publish_all,
        "ReadonlyRootfs": opts.read_only, "SecurityOpt": opts.security_opt or None,
        "GroupAdd": opts.group_add or None, "Links": opts.link or None,
        "Devices": [parse_device(d) for d in opts.device],
        "Mounts": [parse_mount(m) for m in opts.mount] or None,
        "Ulimits": [parse_ulimit(u) for u in opts.ulimit] or None,
        "LogConfig": {"Type": opts.log_driver,
                      "Config": dict(o.partition("=")[::2] for o in opts.log_opt)},
    }
    if opts.init:
        hc["Init"] = True
    if opts.tmpfs:
        hc["Tmpfs"] = {t.partition(":")[0]: t.partition(":")[2] for t in opts.tmpfs}
    if opts.sysctl:
        hc["Sysctls"] = dict(s.partition("=")[::2] for s in opts.sysctl)
    if opts.storage_opt:
        hc["StorageOpt"] = dict(s.partition("=")[::2] for s in opts.storage_opt)
    if opts.memory:
        hc["Memory"] = _bytes(opts.memory, "-m, --memory")
    if opts.memory_swap:
        hc["MemorySwap"] = _bytes(opts.memory_swap, "--memory-swap")
    if opts.memory_reservation:
        hc["MemoryReservation"] = _bytes(opts.memory_reservation, "--memory-reservation")
    if opts.memory_swappiness != -1:
        hc["MemorySwappiness"] = opts.memory_swappiness
    if opts.shm_size:
        hc["ShmSize"] = _bytes(opts.shm_size, "--shm-size")
    if opts.cpus:
        try:
            hc["NanoCpus"] = round(float(opts.cpus) * 1e9)
        except ValueError:
            raise _bad(f'invalid argument "{opts.cpus}" for "--cpus" flag: failed to parse '
                       f"{opts.cpus} as a rational number") from None
    for flag, key in (("cpu_shares", "CpuShares"), ("cpu_period", "CpuPeriod"),
                      ("cpu_quota", "CpuQuota"), ("blkio_weight", "BlkioWeight"),
                      ("oom_score_adj", "OomScoreAdj"), ("pids_limit", "PidsLimit")):
        if flag in opts.changed:
            hc[key] = getattr(opts, flag)
    for flag, key in (("cpuset_cpus", "CpusetCpus"), ("cpuset_mems", "CpusetMems"),
                      ("pid", "PidMode"), ("ipc", "IpcMode"), ("uts", "UTSMode"),
                      ("userns", "UsernsMode"), ("cgroupns", "CgroupnsMode"),
                      ("cgroup_parent", "CgroupParent"), ("runtime", "Runtime"),
                      ("volume_driver", "VolumeDriver")):
        if getattr(opts, flag):
            hc[key] = getattr(opts, flag)
    if opts.oom_kill_disable:
        hc["OomKillDisable"] = True
    return hc
