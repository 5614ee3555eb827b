"""Image commands: images/image ls, image inspect, rmi, image prune, history, tag, load,
save, import."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any, BinaryIO

from pydocker.cli.client import APIError, Client, quote_ref
from pydocker.cli.commands.containers import FORMAT_HELP, filters_param, inspect_objects
from pydocker.cli.errors import CliError
from pydocker.cli.flags import Command, Flag, Options
from pydocker.cli.formatter import Context, write_rows
from pydocker.cli.output import ago, ellipsis, go_time_string, human_size, short_id

IMAGES_TABLE = "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGES_HEADERS = {"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG",
                  "Digest": "DIGEST", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
                  "Size": "SIZE", "Containers": "CONTAINERS", "VirtualSize": "VIRTUAL SIZE",
                  "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE"}
CHUNK = 1 << 20


class ImageContext(Context):
    FIELDS = ("ID", "Repository", "Tag", "Digest", "CreatedSince", "CreatedAt", "Size",
              "Containers", "VirtualSize", "SharedSize", "UniqueSize")
    go_type = "*formatter.imageContext"

    def __init__(self, i: dict[str, Any], repo: str, tag: str, digest: str, trunc: bool,
                 now: float | None = None) -> None:
        self.i, self.repo, self.tag, self.digest = i, repo, tag, digest
        self.trunc, self.now = trunc, now

    @property
    def ID(self) -> str:
        return short_id(self.i["Id"]) if self.trunc else str(self.i["Id"])

    @property
    def Repository(self) -> str:
        return self.repo

    @property
    def Tag(self) -> str:
        return self.tag

    @property
    def Digest(self) -> str:
        return self.digest

    @property
    def CreatedSince(self) -> str:
        created = self.i.get("Created") or 0
        return ago(created, self.now) if created > 0 else "N/A"

    @property
    def CreatedAt(self) -> str:
        return go_time_string(self.i.get("Created") or 0)

    @property
    def Size(self) -> str:
        return human_size(self.i.get("Size") or 0, 3)

    @property
    def VirtualSize(self) -> str:
        return human_size(self.i.get("Size") or 0)  # units.HumanSize, unlike Size

    @property
    def SharedSize(self) -> str:
        shared = self.i.get("SharedSize", -1)
        return "N/A" if shared is None or shared < 0 else human_size(shared)

    @property
    def UniqueSize(self) -> str:
        shared = self.i.get("SharedSize", -1)
        if shared is None or shared < 0:
            return "N/A"
        return human_size((self.i.get("Size") or 0) - shared)

    @property
    def Containers(self) -> str:
        n = self.i.get("Containers", -1)
        return "N/A" if n is None or n < 0 else str(n)


def split_reference(ref: str) -> tuple[str, str]:
    """'repo/name:tag' -> ('repo/name', 'tag'); the tag is '' when absent."""
    if "@" in ref:
        return ref.split("@", 1)[0], ""
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, ""


def image_rows(images: list[dict[str, Any]], trunc: bool,
               digests: bool) -> Iterator[ImageContext]:
    now = time.time()
    for i in images:
        repo_digests = {d.split("@", 1)[0]: d.split("@", 1)[1]
                        for d in i.get("RepoDigests") or [] if "@" in d}
        tags = [t for t in i.get("RepoTags") or [] if t != "<none>:<none>"]
        if not tags:
            if repo_digests:
                for repo, digest in repo_digests.items():
                    yield ImageContext(i, repo, "<none>", digest, trunc, now)
            else:
                yield ImageContext(i, "<none>", "<none>", "<none>", trunc, now)
            continue
        for t in tags:
            repo, tag = split_reference(t)
            yield ImageContext(i, repo, tag or "<none>", repo_digests.get(repo, "<none>"),
                               trunc, now)


def images(client: Client, opts: Options) -> None:
    filters = list(opts.filter)
    if opts.args:
        filters.append(f"reference={opts.args[0]}")
    listing = client.get("/images/json", {"all": True if opts.all else None,
                                         "filters": filters_param(filters)})
    fmt = opts.format
    if opts.quiet and fmt in ("", "table"):
        fmt = "{{.ID}}"
    default = IMAGES_TABLE
    if opts.digests:
        default = "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    rows = list(image_rows(listing, not opts.no_trunc, opts.digests))  # -q repeats IDs too
    write_rows(fmt, rows, default, IMAGES_HEADERS)


def inspect(client: Client, opts: Options) -> int:
    return inspect_objects(client, opts.args,
                           lambda n: client.get(f"/images/{quote_ref(n)}/json"), opts.format)


def rmi(client: Client, opts: Options) -> int:
    failed = False
    for name in opts.args:
        try:
            result = client.delete(f"/images/{quote_ref(name)}",
                                   {"force": True if opts.force else None,
                                    "noprune": True if opts.no_prune else None})
        except APIError as e:
            sys.stdout.flush()
            sys.stderr.write(f"{e}\n")
            failed = True
            continue
        for item in result or []:
            for key, label in (("Untagged", "Untagged"), ("Deleted", "Deleted")):
                if item.get(key):
                    sys.stdout.write(f"{label}: {item[key]}\n")
    return 1 if failed else 0


def prune(client: Client, opts: Options) -> None:
    from pydocker.cli.prompt import confirm
    warning = ("WARNING! This will remove all images without at least one container "
               "associated to them." if opts.all else
               "WARNING! This will remove all dangling images.")
    if not opts.force and not confirm(warning):
        return
    filters = [*opts.filter, f"dangling={'false' if opts.all else 'true'}"]
    report = client.post("/images/prune", {"filters": filters_param(filters)}) or {}
    deleted = report.get("ImagesDeleted") or []
    if deleted:
        sys.stdout.write("Deleted Images:\n")
        for item in deleted:
            for key in ("Untagged", "Deleted"):
                if item.get(key):
                    sys.stdout.write(f"{key.lower()}: {item[key]}\n")
        sys.stdout.write("\n")
    sys.stdout.write(f"Total reclaimed space: {human_size(report.get('SpaceReclaimed') or 0)}\n")


class HistoryContext(Context):
    FIELDS = ("ID", "CreatedSince", "CreatedAt", "CreatedBy", "Size", "Comment")
    go_type = "*formatter.historyContext"

    def __init__(self, h: dict[str, Any], trunc: bool, human: bool) -> None:
        self.h, self.trunc, self.human = h, trunc, human

    @property
    def ID(self) -> str:
        ident = str(self.h.get("Id", ""))
        return short_id(ident) if self.trunc and ident.startswith("sha256:") else ident

    @property
    def CreatedSince(self) -> str:
        created = self.h.get("Created") or 0
        if not self.human:
            return self.CreatedAt
        return ago(created) if created > 0 else "N/A"

    @property
    def CreatedAt(self) -> str:
        import datetime
        created = self.h.get("Created") or 0
        return datetime.datetime.fromtimestamp(created).astimezone().isoformat()

    @property
    def CreatedBy(self) -> str:
        by = str(self.h.get("CreatedBy", "")).replace("\t", " ")
        return ellipsis(by, 45) if self.trunc else by

    @property
    def Size(self) -> str:
        size = self.h.get("Size") or 0
        return human_size(size, 3) if self.human else str(size)

    @property
    def Comment(self) -> str:
        return str(self.h.get("Comment", ""))


HISTORY_TABLE = "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
HISTORY_HEADERS = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
                   "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"}


def history(client: Client, opts: Options) -> None:
    entries = client.get(f"/images/{quote_ref(opts.args[0])}/history")
    fmt = opts.format
    if opts.quiet and fmt in ("", "table"):
        fmt = "{{.ID}}"
    rows = [HistoryContext(h, not opts.no_trunc, opts.human) for h in entries or []]
    write_rows(fmt, rows, HISTORY_TABLE, HISTORY_HEADERS)


def tag(client: Client, opts: Options) -> None:
    source, target = opts.args
    repo, tag_ = split_reference(target)
    client.request("POST", f"/images/{quote_ref(source)}/tag",
                   {"repo": repo, "tag": tag_ or "latest"}).read()


def _file_chunks(f: BinaryIO) -> Iterator[bytes]:
    while chunk := f.read(CHUNK):
        yield chunk


def _open_input(path: str) -> BinaryIO:
    if path in ("", "-"):
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as e:
        raise CliError(f"open {path}: {(e.strerror or str(e)).lower()}") from None


def load(client: Client, opts: Options) -> None:
    from pydocker.cli.progress import show_progress
    if not opts.input and os.isatty(0):
        raise CliError("requested load from stdin, but stdin is empty")
    quiet = opts.quiet or not os.isatty(1)
    with _open_input(opts.input) as f:
        resp = client.request("POST", "/images/load", {"quiet": quiet}, _file_chunks(f),
                              {"Content-Type": "application/x-tar"})
        show_progress(resp, sys.stdout)


def save(client: Client, opts: Options) -> None:
    if not opts.output and os.isatty(1):
        raise CliError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    resp = client.request("GET", "/images/get", {"names": opts.args})
    with (open(opts.output, "wb") if opts.output
          else contextlib.nullcontext(sys.stdout.buffer)) as target:
        for chunk in resp.iter_raw():
            target.write(chunk)
        target.flush()


def import_(client: Client, opts: Options) -> None:
    from pydocker.cli.progress import show_progress
    source = opts.args[0]
    query: dict[str, Any] = {"message": opts.message or None, "changes": opts.change or None,
                             "platform": opts.platform or None}
    if len(opts.args) > 1:
        repo, tag_ = split_reference(opts.args[1])
        query.update(repo=repo, tag=tag_ or None)
    headers = {"Content-Type": "application/x-tar"}
    if source.startswith(("http://", "https://")):
        query["fromSrc"] = source
        resp = client.request("POST", "/images/create", query)
        show_progress(resp, sys.stdout)
        return
    query["fromSrc"] = "-"
    with _open_input(source) as f:
        resp = client.request("POST", "/images/create", query, _file_chunks(f), headers)
        show_progress(resp, sys.stdout)


_FORMAT = Flag("format", "", "str", help=FORMAT_HELP)

COMMANDS = {
    "images": Command("images", "[OPTIONS] [REPOSITORY[:TAG]]", "List images", images, (
        Flag("all", "a", help="Show all images (default hides intermediate images)"),
        Flag("digests", "", help="Show digests"),
        Flag("filter", "f", "list", help="Filter output based on conditions provided"),
        _FORMAT,
        Flag("no-trunc", "", help="Don't truncate output"),
        Flag("quiet", "q", help="Only show image IDs"),
    ), max_args=1, aliases=("image ls", "image list", "images")),
    "inspect": Command("image inspect", "[OPTIONS] IMAGE [IMAGE...]", "Display detailed "
                       "information on one or more images", inspect, (
                           Flag("format", "f", "str", help=FORMAT_HELP),), min_args=1),
    "rmi": Command("rmi", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", rmi, (
        Flag("force", "f", help="Force removal of the image"),
        Flag("no-prune", "", help="Do not delete untagged parents"),
    ), min_args=1, aliases=("image rm", "image remove", "rmi")),
    "prune": Command("image prune", "[OPTIONS]", "Remove unused images", prune, (
        Flag("all", "a", help="Remove all unused images, not just dangling ones"),
        Flag("filter", "", "list", help="Provide filter values (e.g. \"until=<timestamp>\")"),
        Flag("force", "f", help="Do not prompt for confirmation"),
    ), max_args=0),
    "history": Command("history", "[OPTIONS] IMAGE", "Show the history of an image", history, (
        _FORMAT,
        Flag("human", "H", "bool", True, help="Print sizes and dates in human readable format"),
        Flag("no-trunc", "", help="Don't truncate output"),
        Flag("quiet", "q", help="Only show image IDs"),
    ), min_args=1, max_args=1, aliases=("image history", "history")),
    "tag": Command("tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE "
                   "that refers to SOURCE_IMAGE", tag, (), min_args=2, max_args=2),
    "load": Command("load", "[OPTIONS]", "Load an image from a tar archive or STDIN", load, (
        Flag("input", "i", "str", help="Read from tar archive file, instead of STDIN"),
        Flag("quiet", "q", help="Suppress the load output"),
    ), max_args=0),
    "save": Command("save", "[OPTIONS] IMAGE [IMAGE...]", "Save one or more images to a tar "
                    "archive (streamed to STDOUT by default)", save, (
                        Flag("output", "o", "str", help="Write to a file, instead of STDOUT"),
                    ), min_args=1),
    "import": Command("import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]", "Import the "
                      "contents from a tarball to create a filesystem image", import_, (
                          Flag("change", "c", "list", help="Apply Dockerfile instruction to "
                               "the created image"),
                          Flag("message", "m", "str", help="Set commit message for imported "
                               "image"),
                          Flag("platform", "", "str", help="Set platform if server is "
                               "multi-platform capable"),
                      ), min_args=1, max_args=2),
}
