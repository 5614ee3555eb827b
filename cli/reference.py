"""Image references as docker's distribution/reference normalises them, small and stdlib only.

``busybox`` is ``docker.io/library/busybox``; a first component with a '.' or ':' (or
``localhost``) is a registry host. Only what pull/push/login need: the full name, the tag
or digest, the familiar form and the registry whose credentials apply.
"""

from __future__ import annotations

import re

from pydocker.cli.errors import CliError

DEFAULT_DOMAIN = "docker.io"
INDEX_SERVER = "https://index.docker.io/v1/"  # the config.json key docker uses for Docker Hub

_PATH_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
                      r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


class Reference:
    def __init__(self, domain: str, path: str, tag: str, digest: str) -> None:
        self.domain, self.path, self.tag, self.digest = domain, path, tag, digest

    @property
    def name(self) -> str:
        """'docker.io/library/busybox', '127.0.0.1:5000/bb'."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        return self.path.removeprefix("library/") if self.path.count("/") == 1 else self.path

    def suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.name + self.suffix()

    def familiar(self) -> str:
        return self.familiar_name + self.suffix()

    @property
    def name_only(self) -> bool:
        return not self.tag and not self.digest

    @property
    def auth_key(self) -> str:
        """The key of this registry's entry under ``auths`` in config.json."""
        return INDEX_SERVER if self.domain == DEFAULT_DOMAIN else self.domain


def parse(ref: str) -> Reference:
    """reference.ParseNormalizedNamed, with its 'invalid reference format' errors."""
    rest, _, digest = ref.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    tag = ""
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
    first, sep, remainder = rest.partition("/")
    # an upper-case first component is a host too (then the path's case is the error)
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, path = first, remainder
    else:
        domain, path = DEFAULT_DOMAIN, rest
        if "/" not in path:
            path = "library/" + path
    if domain == "index.docker.io":
        domain = DEFAULT_DOMAIN
    if (tag and not _TAG_RE.match(tag)) or (digest and not _DIGEST_RE.match(digest)) or not rest:
        raise CliError("invalid reference format")
    if not _PATH_RE.match(path):
        if _PATH_RE.match(path.lower()):
            raise CliError(f"invalid reference format: repository name ({path}) must be "
                           "lowercase")
        raise CliError("invalid reference format")
    return Reference(domain, path, tag, digest)
