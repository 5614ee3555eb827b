"""``build``: the classic builder as docker CLI 28 drives it with DOCKER_BUILDKIT=0
(cli/command/image/build.go): tar the context, POST /build, show the stream; a failed
step exits with the error's code (1 when it has none) and its message on stderr.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli import auth
from pydocker.cli.buildcontext import context_tar
from pydocker.cli.client import Client
from pydocker.cli.errors import CliError
from pydocker.cli.flags import Command, Flag, Options
from pydocker.cli.output import human_size
from pydocker.cli.progress import JSONError, show_progress

from .runconfig import parse_labels


def _build_args(values: list[str]) -> dict[str, str | None]:
    """opts.ConvertKVStringsToMapWithNil: 'K=V', or 'K' (its value from the environment)."""
    out: dict[str, str | None] = {}
    for item in values:
        key, eq, value = item.partition("=")
        out[key] = value if eq else os.environ.get(key)
    return out


def _context(opts: Options) -> tuple[bytes, str]:
    """The context tar and the Dockerfile's name inside it."""
    path = opts.args[0]
    if path == "-":
        if opts.file == "-":
            raise CliError("invalid argument: can't use stdin for both build context and "
                           "dockerfile")
        data = sys.stdin.buffer.read()
        if data[257:262] == b"ustar" or data[:2] == b"\x1f\x8b":
            return data, opts.file
        # not an archive: stdin is the Dockerfile of an empty context
        return _tar_of({"Dockerfile": data}), "Dockerfile"
    if not os.path.isdir(path):
        raise CliError(f'unable to prepare context: path "{path}" not found')
    if opts.file == "-":
        name = ".dockerfile." + os.urandom(10).hex()
        return context_tar(path, "", (name, sys.stdin.buffer.read())), name
    # -f is relative to the working directory, not the context (GetContextFromLocalDir)
    dockerfile = os.path.abspath(opts.file or os.path.join(path, "Dockerfile"))
    if not opts.file and not os.path.lexists(dockerfile):
        lower = os.path.join(path, "dockerfile")
        dockerfile = os.path.abspath(lower) if os.path.lexists(lower) else dockerfile
    if not os.path.exists(dockerfile):
        raise CliError("unable to prepare context: unable to evaluate symlinks in Dockerfile "
                       f"path: lstat {dockerfile}: no such file or directory")
    rel = os.path.relpath(dockerfile, os.path.abspath(path))
    if rel.startswith(".."):  # outside the context: sent alongside, as docker does
        name = ".dockerfile." + os.urandom(10).hex()
        with open(dockerfile, "rb") as f:
            return context_tar(path, "", (name, f.read())), name
    return context_tar(path, rel.replace(os.sep, "/")), rel.replace(os.sep, "/")


def _tar_of(files: dict[str, bytes]) -> bytes:
    import tarfile
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def build(client: Client, opts: Options) -> None:
    body, dockerfile = _context(opts)
    query: dict[str, Any] = {
        "t": opts.tag or None, "dockerfile": dockerfile,
        "buildargs": _json(_build_args(opts.build_arg)) if opts.build_arg else None,
        "labels": _json(parse_labels(opts.label, [])) if opts.label else None,
        "target": opts.target or None, "nocache": opts.no_cache or None,
        "pull": opts.pull or None, "q": opts.quiet or None, "rm": opts.rm,
        "forcerm": opts.force_rm or None, "networkmode": opts.network or None,
        "platform": opts.platform or None, "version": "1"}
    buffered = io.StringIO()  # -q: the daemon's output is shown only at the end
    out = buffered if opts.quiet else sys.stdout
    if not opts.quiet:
        # the CLI's progress reader ends its line with '\r', then '\r\n' when done
        out.write(f"Sending build context to Docker daemon  {human_size(len(body)):>8}\r\r\n")
        out.flush()
    resp = client.request("POST", "/build", query, body, {
        "Content-Type": "application/x-tar", "X-Registry-Config": auth.registry_config()})
    try:
        show_progress(resp, out)
    except JSONError:
        if opts.quiet:
            sys.stderr.write(buffered.getvalue())
        raise
    if opts.quiet:
        sys.stdout.write(buffered.getvalue())


def _json(value: Mapping[str, str | None]) -> str:
    import json
    return json.dumps(value, separators=(",", ":"))


COMMANDS = {
    "build": Command("build", "[OPTIONS] PATH | URL | -", "Build an image from a Dockerfile",
                     build, (
                         Flag("build-arg", "", "list", help="Set build-time variables"),
                         Flag("file", "f", "str", help="Name of the Dockerfile (Default is "
                              "\"PATH/Dockerfile\")"),
                         Flag("force-rm", "", help="Always remove intermediate containers"),
                         Flag("label", "", "list", help="Set metadata for an image"),
                         Flag("network", "", "str", help="Set the networking mode for the RUN "
                              "instructions during build"),
                         Flag("no-cache", "", help="Do not use cache when building the image"),
                         Flag("platform", "", "str", help="Set platform if server is "
                              "multi-platform capable"),
                         Flag("pull", "", help="Always attempt to pull a newer version of the "
                              "image"),
                         Flag("quiet", "q", help="Suppress the build output and print image "
                              "ID on success"),
                         Flag("rm", "", "bool", True, help="Remove intermediate containers "
                              "after a successful build"),
                         Flag("tag", "t", "list", help="Name and optionally a tag in the "
                              "\"name:tag\" format"),
                         Flag("target", "", "str", help="Set the target build stage to build."),
                     ), min_args=1, max_args=1,
                     aliases=("image build", "build")),
}
