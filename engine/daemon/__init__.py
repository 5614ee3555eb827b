"""The Daemon: the one backend the API calls (api.server.backend's Protocols, all of them).

It wires the subsystems together and delegates; each module here holds the methods of one
API area, as moby's daemon/*.go files do, and the work lives in the area services
(engine.containers, images, network, volumes, engine.runtime).
"""

from .core import Daemon

__all__ = ["Daemon"]
