"""Registry credentials in ``~/.docker/config.json`` (or ``$DOCKER_CONFIG``), as the docker CLI
keeps them: ``auths[server] = {"auth": base64("user:pass")}`` plus ``identitytoken`` when the
registry handed one out; other keys of the file are kept as they are. Sent to the daemon as
X-Registry-Auth (one registry) or X-Registry-Config (build: all of them), base64url JSON.
"""

from __future__ import annotations

import base64
import json
import os

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.errors import CliError


def config_path() -> str:
    root = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(root, "config.json")


def load_config() -> dict[str, Any]:
    path = config_path()
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise CliError(f"open {path}: {(e.strerror or str(e)).lower()}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as e:
        raise CliError(f"parsing config file ({path}): {e}") from None
    return data if isinstance(data, dict) else {}


def save_config(config: dict[str, Any]) -> None:
    """Write atomically with mode 0600, as the CLI does (the file holds passwords)."""
    path = config_path()
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(config, indent="\t"))
    os.replace(tmp, path)


def hostname(server: str) -> str:
    """credentials.ConvertToHostname: 'https://host:5000/v2/' -> 'host:5000'."""
    for scheme in ("http://", "https://"):
        server = server.removeprefix(scheme)
    return server.split("/", 1)[0]


def _entry_key(auths: dict[str, Any], key: str) -> str | None:
    if key in auths:
        return key
    want = hostname(key)
    return next((k for k in auths if hostname(k) == want), None)


def get_auth(config: dict[str, Any], key: str) -> dict[str, str]:
    """The AuthConfig for one registry (empty when none is stored)."""
    auths = config.get("auths") or {}
    found = _entry_key(auths, key)
    if found is None:
        return {}
    entry = auths[found] or {}
    out: dict[str, str] = {"serveraddress": found}
    if entry.get("auth"):
        try:
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except ValueError:
            raise CliError(f"invalid auth configuration file for {found}") from None
        out.update(username=user, password=password)
    if entry.get("identitytoken"):
        out["identitytoken"] = entry["identitytoken"]
    return out


def store_auth(config: dict[str, Any], key: str, user: str, password: str, token: str) -> None:
    """Save one registry's login; with an identity token the password is not kept (login.go)."""
    password = "" if token else password
    entry: dict[str, str] = {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
    if token:
        entry["identitytoken"] = token
    config.setdefault("auths", {})[key] = entry
    save_config(config)


def remove_auth(config: dict[str, Any], key: str) -> bool:
    auths = config.get("auths") or {}
    found = _entry_key(auths, key)
    if found is None:
        return False
    del auths[found]
    save_config(config)
    return True


def encode(value: dict[str, Any]) -> str:
    """registry.EncodeAuthConfig: base64url of the JSON (padding kept, as Go's URLEncoding)."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def registry_auth(key: str) -> str:
    """X-Registry-Auth for one registry ('e30=' — '{}' — when nothing is stored)."""
    return encode(get_auth(load_config(), key))


def registry_config() -> str:
    """X-Registry-Config for build: every stored registry's credentials."""
    config = load_config()
    return encode({k: get_auth(config, k) for k in (config.get("auths") or {})})
