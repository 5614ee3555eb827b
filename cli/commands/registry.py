"""``pull``, ``push``, ``login`` and ``logout``: docker's registry verbs (cli/command/image/pull.go,
push.go, cli/command/registry/login.go, logout.go), progress on stdout, errors on stderr with
status 1. Credentials come from and go to config.json (pydocker.cli.auth).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any, TextIO

from pydocker.cli import auth
from pydocker.cli.client import APIError, Client, quote_ref
from pydocker.cli.errors import CliError
from pydocker.cli.flags import PROG, Command, Flag, Options
from pydocker.cli.progress import JSONError, show_progress
from pydocker.cli.reference import INDEX_SERVER, Reference, parse


def _default_tag(ref: Reference, all_tags: bool, quiet: bool) -> Reference:
    if all_tags and not ref.name_only:
        raise CliError("tag can't be used with --all-tags/-a")
    if not all_tags and ref.name_only:
        ref.tag = "latest"
        if not quiet:
            sys.stdout.write("Using default tag: latest\n")
    return ref


def _stream(resp: Any, out: TextIO | None) -> None:
    try:
        show_progress(resp, out)
    except JSONError as e:
        raise CliError(str(e)) from None  # pull/push exit 1 whatever the code


def pull_image(client: Client, ref: Reference, all_tags: bool, platform: str,
               out: TextIO | None) -> None:
    """client.ImagePull: fromImage is the full name, tag the tag or the digest."""
    query = {"fromImage": ref.name, "tag": None if all_tags else (ref.digest or ref.tag),
             "platform": platform.lower() or None}
    resp = client.request("POST", "/images/create", query,
                          headers={"X-Registry-Auth": auth.registry_auth(ref.auth_key)})
    _stream(resp, out)


def pull(client: Client, opts: Options) -> None:
    ref = _default_tag(parse(opts.args[0]), opts.all_tags, opts.quiet)
    pull_image(client, ref, opts.all_tags, opts.platform, None if opts.quiet else sys.stdout)
    sys.stdout.write(f"{ref}\n")


def push(client: Client, opts: Options) -> None:
    ref = _default_tag(parse(opts.args[0]), opts.all_tags, opts.quiet)
    if ref.digest:
        raise CliError("cannot push a digest reference")
    resp = client.request("POST", f"/images/{quote_ref(ref.name)}/push",
                          {"tag": None if opts.all_tags else ref.tag},
                          headers={"X-Registry-Auth": auth.registry_auth(ref.auth_key)})
    _stream(resp, None if opts.quiet else sys.stdout)
    if opts.quiet:
        sys.stdout.write(f"{ref}\n")


def _server(arg: str) -> tuple[str, bool]:
    """The config key for a SERVER argument, and whether it is Docker Hub."""
    if not arg or arg in ("docker.io", INDEX_SERVER):
        return INDEX_SERVER, True
    return auth.hostname(arg), False


def _prompt(label: str, secret: bool) -> str:
    if not os.isatty(0):
        raise CliError("Error: Cannot perform an interactive login from a non TTY device")
    if secret:
        import getpass
        return getpass.getpass(label)
    sys.stdout.write(label)
    sys.stdout.flush()
    return sys.stdin.readline().strip()


def _authenticate(client: Client, creds: dict[str, str]) -> dict[str, Any]:
    return dict(client.post("/auth", body=creds) or {})


def login(client: Client, opts: Options) -> None:
    if opts.password and opts.password_stdin:
        raise CliError("--password and --password-stdin are mutually exclusive")
    password = opts.password
    if opts.password_stdin:
        if not opts.username:
            raise CliError("Must provide --username with --password-stdin")
        password = sys.stdin.read().removesuffix("\n").removesuffix("\r")
    elif password:
        sys.stderr.write("WARNING! Using --password via the CLI is insecure. "
                         "Use --password-stdin.\n")
    key, _ = _server(opts.args[0] if opts.args else "")
    config = auth.load_config()
    if not opts.username and not password and _login_stored(client, auth.get_auth(config, key),
                                                             key):
        return
    user = opts.username or _prompt("Username: ", False)
    if not user:
        raise CliError("Error: Non-null Username Required")
    if not password:
        password = _prompt("Password: ", True)
        if not password:
            raise CliError("Error: Password Required")
    answer = _authenticate(client, {"username": user, "password": password,
                                    "serveraddress": key})
    auth.store_auth(config, key, user, password, str(answer.get("IdentityToken") or ""))
    sys.stderr.write(f"\nWARNING! Your credentials are stored unencrypted in "
                     f"'{auth.config_path()}'.\nConfigure a credential helper to remove this "
                     "warning. See\nhttps://docs.docker.com/go/credential-store/\n\n")
    if answer.get("Status"):
        sys.stdout.write(f"{answer['Status']}\n")


def _login_stored(client: Client, stored: dict[str, str], key: str) -> bool:
    """docker tries the stored credentials first; a refusal falls through to asking."""
    if not stored.get("username") or not (stored.get("password") or
                                          stored.get("identitytoken")):
        return False
    sys.stderr.write(f"Authenticating with existing credentials... "
                     f"[Username: {stored['username']}]\n")
    try:
        answer = _authenticate(client, {**stored, "serveraddress": key})
    except APIError as e:
        sys.stderr.write(f"Login did not succeed, error: {e}\n")
        return False
    sys.stderr.write(f"\n Info -> To login with a different account, run '{PROG} logout' "
                     f"followed by '{PROG} login'\n\n\n")
    if answer.get("Status"):
        sys.stdout.write(f"{answer['Status']}\n")
    return True


def logout(client: Client, opts: Options) -> None:
    key, _ = _server(opts.args[0] if opts.args else "")
    sys.stdout.write(f"Removing login credentials for {key}\n")
    auth.remove_auth(auth.load_config(), key)


COMMANDS = {
    "pull": Command("pull", "[OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry",
                    pull, (
                        Flag("all-tags", "a", help="Download all tagged images in the "
                             "repository"),
                        Flag("disable-content-trust", "", "bool", True,
                             help="Skip image verification"),
                        Flag("platform", "", "str", help="Set platform if server is "
                             "multi-platform capable"),
                        Flag("quiet", "q", help="Suppress verbose output"),
                    ), min_args=1, max_args=1, aliases=("image pull", "pull")),
    "push": Command("push", "[OPTIONS] NAME[:TAG]", "Upload an image to a registry", push, (
        Flag("all-tags", "a", help="Push all tags of an image to the repository"),
        Flag("disable-content-trust", "", "bool", True, help="Skip image signing"),
        Flag("platform", "", "str", help="Push a platform-specific manifest as a "
             "single-platform image to the registry."),
        Flag("quiet", "q", help="Suppress verbose output"),
    ), min_args=1, max_args=1, aliases=("image push", "push")),
    "login": Command("login", "[OPTIONS] [SERVER]", "Authenticate to a registry", login, (
        Flag("password", "p", "str", help="Password or Personal Access Token (PAT)"),
        Flag("password-stdin", "", help="Take the Password or Personal Access Token (PAT) "
             "from stdin"),
        Flag("username", "u", "str", help="Username"),
    ), max_args=1),
    "logout": Command("logout", "[SERVER]", "Log out from a registry", logout, (),
                      max_args=1),
}
