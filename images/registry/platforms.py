"""Platforms (``os/arch[/variant]``): parsing, normalising and choosing from an index.

Follows containerd's ``platforms`` package, which dockerd uses to pick an entry of a manifest
list: names are normalised (``x86_64`` -> ``amd64``, ``aarch64`` -> ``arm64``, ``armhf`` ->
``arm/v7``), and a platform also runs its compatible older ones, in order of preference
(``arm/v7`` then ``arm/v6``, ``arm/v5``; ``amd64/v3`` then ``v2``, ``v1``, then ``386``;
``arm64`` then ``arm/v8`` ... ``arm/v5``).
"""

from __future__ import annotations

import platform as _host
from collections.abc import Sequence
from dataclasses import dataclass

from pydocker.engine.errors import InvalidParameter, NotFound

_ARCH_ALIASES = {
    "i386": ("386", ""), "x86_64": ("amd64", ""), "x86-64": ("amd64", ""),
    "aarch64": ("arm64", ""), "armhf": ("arm", "v7"), "armel": ("arm", "v6"),
}


@dataclass(frozen=True, order=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        """containerd's ``platforms.Format``, used in Docker's messages."""
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def normalized(self) -> Platform:
        os_name = self.os.lower() or "linux"
        arch, variant = self.architecture.lower(), self.variant.lower()
        arch, alias_variant = _ARCH_ALIASES.get(arch, (arch, ""))
        variant = variant or alias_variant
        if arch == "amd64" and variant == "v1" or arch == "arm64" and variant in ("8", "v8", "v8.0"):
            variant = ""
        elif arch == "arm":
            variant = {"": "v7", "5": "v5", "6": "v6", "7": "v7", "8": "v8"}.get(variant, variant)
        return Platform(os_name, arch, variant)


DEFAULT = Platform("linux", "amd64")


def host_platform() -> Platform:
    """The platform this engine runs on (dockerd's default for pulls)."""
    return Platform("linux", _host.machine() or "amd64").normalized()


def parse_platform(text: str) -> Platform:
    """Parse the API's ``platform=`` value (``linux``, ``linux/arm64``, ``linux/arm/v7``)."""
    parts = text.strip().split("/")
    if not text.strip() or len(parts) > 3 or not all(parts):
        raise InvalidParameter(f"\"{text}\": unknown operating system or architecture: "
                               "invalid argument")
    if len(parts) == 1:
        return Platform(parts[0], host_platform().architecture).normalized()
    return Platform(*parts).normalized()


def compatible(wanted: Platform) -> list[Platform]:
    """``wanted`` and the platforms it can also run, most preferred first."""
    wanted = wanted.normalized()
    vector = [wanted]
    arch, variant, os_name = wanted.architecture, wanted.variant, wanted.os
    if arch == "amd64":
        level = _variant_number(variant)
        vector += [Platform(os_name, "amd64", "v" + str(n) if n > 1 else "")
                   for n in range(level - 1, 0, -1)]
        vector.append(Platform(os_name, "386"))
    elif arch == "arm":
        level = _variant_number(variant)
        vector += [Platform(os_name, "arm", f"v{n}") for n in range(level - 1, 4, -1)]
    elif arch == "arm64":
        vector += compatible(Platform(os_name, "arm", variant or "v8"))
    return vector


def _variant_number(variant: str) -> int:
    try:
        return int(variant.removeprefix("v"))
    except ValueError:
        return 1


def select(entries: Sequence[Platform | None], wanted: Platform) -> int:
    """Index of the best entry for ``wanted``; Docker's error when none runs here."""
    preference = {p: rank for rank, p in enumerate(compatible(wanted))}
    ranked = [(preference[entry.normalized()], index) for index, entry in enumerate(entries)
              if entry is not None and entry.normalized() in preference]
    if not ranked:
        raise NotFound(f"no matching manifest for {wanted.normalized()} "
                       "in the manifest list entries")
    return min(ranked)[1]
