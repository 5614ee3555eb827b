"""Paths inside a container's root, opened by the kernel with ``RESOLVE_IN_ROOT``.

One implementation, in the runtime package because the zygote (which cannot import
``engine.host``) creates volume mount points with it; re-exported here for the engine.
"""

from __future__ import annotations

from pydocker.engine.runtime.inroot import (
    RESOLVE_BENEATH,
    RESOLVE_NO_MAGICLINKS,
    RESOLVE_NO_SYMLINKS,
    RESOLVE_NO_XDEV,
    closing_fd,
    makedirs_in_root,
    open_in_root,
    open_root,
    openat2,
)

__all__ = ["RESOLVE_BENEATH", "RESOLVE_NO_MAGICLINKS", "RESOLVE_NO_SYMLINKS", "RESOLVE_NO_XDEV",
           "closing_fd", "makedirs_in_root", "open_in_root", "open_root", "openat2"]
