"""Domain errors raised anywhere in the engine.

Engine code raises these with Docker's exact wording (docker-py and the docker CLI match
on it); ``pydocker.api.server.errors`` maps each class to an HTTP status in one place.
Subsystems (images, network, volumes, runtime) raise them too: this module is a leaf.
"""


class EngineError(Exception):
    """Base of every error the API turns into ``{"message": ...}``."""


class InvalidParameter(EngineError):
    """The request is malformed or names an impossible value (400)."""


class Unauthorized(EngineError):
    """Registry credentials were refused (401)."""


class Forbidden(EngineError):
    """The operation is not allowed in this state (403)."""


class NotFound(EngineError):
    """The named object does not exist (404)."""


class Conflict(EngineError):
    """The object exists, or is in use, or is in the wrong state (409)."""


class NotModified(EngineError):
    """Nothing to do: already started, already stopped (304, no body)."""


class Unimplemented(EngineError):
    """The feature exists in Docker but not here (501); errdefs.NotImplemented, renamed so as
    not to shadow the builtin."""


class Unavailable(EngineError):
    """The subsystem is not available, e.g. swarm endpoints (503)."""


class SystemFailure(EngineError):
    """Something on the host failed (500); errdefs.System, renamed so as not to shadow the
    builtin."""


def os_error_text(exc: OSError) -> str:
    """An OSError in Go's words, as dockerd shows it ("<path>: no space left on device"):
    the C library's message in lower case, after the path when it names one."""
    if exc.errno is None or not exc.strerror:
        return str(exc) or type(exc).__name__
    text = exc.strerror[:1].lower() + exc.strerror[1:]
    return f"{exc.filename}: {text}" if exc.filename else text
