"""Crash-safe file replacement for the engine: one implementation, kept in the runtime
package because the shim (which cannot import ``engine.host``) uses it too."""

from __future__ import annotations

from pydocker.engine.runtime.atomic import write_atomic

__all__ = ["write_atomic"]
