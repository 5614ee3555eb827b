"""iptables rules as values, applied idempotently, all inside chains of our own.

``Rule.ensure()`` checks with ``-C`` and appends (or inserts at the top) only if missing;
``Rule.remove()`` is a no-op when the rule is gone (moby's Rule.Append/Delete). Per-container
rules go through ``apply_batch`` (one ``iptables-restore --noflush`` call, ~2 ms) because every
separate iptables invocation costs ~1.5 ms.

The chain layout (prefix P, default ``PYDOCKER``) - every rule below is ours:

  filter FORWARD     -> P-FORWARD (inserted first: the host policy may be DROP)
  filter P-FORWARD   -> P-ISOLATION-STAGE-1, then per network: established / P / out / icc
  filter P-ISOLATION-STAGE-1: per network  -i br ! -o br -> P-ISOLATION-STAGE-2
  filter P-ISOLATION-STAGE-2: per network  -o br -j DROP     (bridge-to-bridge isolation)
  filter P           published ports: ACCEPT to the container port
  nat PREROUTING/OUTPUT (dst-type LOCAL) -> P      DNAT for published ports
  nat POSTROUTING    -> P-POSTROUTING              MASQUERADE (outbound, loopback DNAT)

The same layout exists in ip6tables for networks with IPv6 (``family=6``; see ip6rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydocker.engine.errors import InvalidParameter
from pydocker.engine.host.commands import HostCommandError, run, succeeds

TOOLS = {4: ("iptables", "iptables-restore"), 6: ("ip6tables", "ip6tables-restore")}
BUILTIN = {"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"}


def _join(args: Sequence[str]) -> str:
    """iptables-restore splits on blanks and understands only double quotes."""
    return " ".join(f'"{a}"' if (" " in a or not a) else a for a in args)


@dataclass(frozen=True)
class Rule:
    table: str
    chain: str
    args: tuple[str, ...]
    insert: bool = False  # True: keep it at the top of the chain (-I chain 1)
    family: int = 4  # 6: an ip6tables rule

    def spec(self, op: str) -> list[str]:
        if op == "-I":
            return ["-t", self.table, "-I", self.chain, "1", *self.args]
        return ["-t", self.table, op, self.chain, *self.args]

    def render(self) -> str:
        """The rule as an iptables-restore line (without the table header)."""
        op = "-I" if self.insert else "-A"
        head = f"{op} {self.chain} 1" if self.insert else f"{op} {self.chain}"
        return f"{head} {_join(self.args)}"

    def exists(self) -> bool:
        return succeeds([TOOLS[self.family][0], "--wait", *self.spec("-C")])

    def ensure(self) -> None:
        if not self.exists():
            run([TOOLS[self.family][0], "--wait", *self.spec("-I" if self.insert else "-A")])

    def remove(self) -> None:
        while self.exists():  # a rule added twice by accident goes entirely
            run([TOOLS[self.family][0], "--wait", *self.spec("-D")])


@dataclass(frozen=True)
class Chain:
    table: str
    name: str
    family: int = 4

    def _tool(self, *args: str) -> list[str]:
        return [TOOLS[self.family][0], "--wait", "-t", self.table, *args]

    def exists(self) -> bool:
        return succeeds(self._tool("-n", "-L", self.name))

    def ensure(self) -> None:
        if not self.exists():
            run(self._tool("-N", self.name))

    def flush(self) -> None:
        if self.exists():
            run(self._tool("-F", self.name))

    def delete(self) -> None:
        """Delete the chain, emptied beforehand (``remove_chains``)."""
        if self.exists():
            run(self._tool("-X", self.name))


def render_batch(add: Iterable[Rule] = (), delete: Iterable[Rule] = (),
                 flush: Iterable[Chain] = ()) -> str:
    """An iptables-restore --noflush script: chains emptied first (a ``:chain`` line
    empties an existing user chain, or creates it), then deletions, then additions, per
    table."""
    tables: dict[str, list[str]] = {}
    for chain in flush:
        tables.setdefault(chain.table, []).append(f":{chain.name} - [0:0]")
    for rule in delete:
        tables.setdefault(rule.table, []).append(
            f"-D {rule.chain} {_join(rule.args)}")
    for rule in add:
        tables.setdefault(rule.table, []).append(rule.render())
    out: list[str] = []
    for table, lines in tables.items():
        out += [f"*{table}", *lines, "COMMIT"]
    return "\n".join(out) + "\n" if out else ""


def apply_batch(add: Sequence[Rule] = (), delete: Sequence[Rule] = (),
                flush: Sequence[Chain] = ()) -> None:
    """Apply many rules in one process per address family; all-or-nothing per table.

    Deletion of rules that are already gone would fail the whole batch, so on failure the
    deletions fall back to one idempotent ``remove()`` each.
    """
    for family, (_, restore) in TOOLS.items():
        adding = [r for r in add if r.family == family]
        deleting = [r for r in delete if r.family == family]
        script = render_batch(adding, deleting, [c for c in flush if c.family == family])
        if not script:
            continue
        try:
            run([restore, "--wait", "--noflush"], input=script)
        except HostCommandError:
            if not deleting:
                raise
            for rule in deleting:
                rule.remove()
            if adding:
                run([restore, "--wait", "--noflush"], input=render_batch(adding))


def remove_chains(chains: Sequence[Chain]) -> None:
    """Our chains gone: all emptied first, since a chain another one still jumps to cannot
    be deleted (what a killed daemon's leftovers would otherwise make fail)."""
    for chain in chains:
        chain.flush()
    for chain in chains:
        chain.delete()


class InvalidChainPrefix(InvalidParameter, ValueError):
    """A daemon option no chain name can be built from (a ValueError, as it always was)."""


@dataclass(frozen=True)
class Names:
    """Our chain names for one prefix."""

    prefix: str = "PYDOCKER"

    def __post_init__(self) -> None:
        # iptables chain names are at most 28 characters: "<prefix>-ISOLATION-STAGE-1"
        if not self.prefix or len(self.prefix) > 10 or " " in self.prefix:
            raise InvalidChainPrefix(f"chain prefix must be 1-10 characters: {self.prefix!r}")

    @property
    def ports(self) -> str:
        return self.prefix

    @property
    def forward(self) -> str:
        return f"{self.prefix}-FORWARD"

    @property
    def stage1(self) -> str:
        return f"{self.prefix}-ISOLATION-STAGE-1"

    @property
    def stage2(self) -> str:
        return f"{self.prefix}-ISOLATION-STAGE-2"

    @property
    def postrouting(self) -> str:
        return f"{self.prefix}-POSTROUTING"

    def chains(self) -> list[Chain]:
        return [Chain("filter", self.ports), Chain("filter", self.forward),
                Chain("filter", self.stage1), Chain("filter", self.stage2),
                Chain("nat", self.ports), Chain("nat", self.postrouting)]

    def jumps(self) -> list[Rule]:
        """The only rules we put in built-in chains: one jump each."""
        local = ("-m", "addrtype", "--dst-type", "LOCAL", "-j", self.ports)
        return [
            Rule("filter", "FORWARD", ("-j", self.forward), insert=True),
            Rule("nat", "PREROUTING", local),
            Rule("nat", "OUTPUT", local),
            Rule("nat", "POSTROUTING", ("-j", self.postrouting)),
        ]

    def base_rules(self) -> list[Rule]:
        """Rules inside our chains that do not depend on any network."""
        return [Rule("filter", self.forward, ("-j", self.stage1), insert=True)]


def network_rules(names: Names, bridge: str, subnet: str, *, internal: bool = False,
                  masquerade: bool = True, icc: bool = True) -> list[Rule]:
    """Everything one bridge network needs, in the order it must be appended."""
    fwd, s1, s2 = names.forward, names.stage1, names.stage2
    rules = [
        Rule("filter", s1, ("-i", bridge, "!", "-o", bridge, "-j", s2)),
        Rule("filter", s2, ("-o", bridge, "-j", "DROP")),
    ]
    if internal:
        rules += [
            Rule("filter", s1, ("!", "-s", subnet, "-o", bridge, "-j", "DROP")),
            Rule("filter", s1, ("-i", bridge, "!", "-d", subnet, "-j", "DROP")),
        ]
    rules += [
        Rule("filter", fwd, ("-o", bridge, "-m", "conntrack", "--ctstate",
                             "RELATED,ESTABLISHED", "-j", "ACCEPT")),
        Rule("filter", fwd, ("-o", bridge, "-j", names.ports)),
    ]
    if not internal:
        rules.append(Rule("filter", fwd, ("-i", bridge, "!", "-o", bridge, "-j", "ACCEPT")))
    rules.append(Rule("filter", fwd, ("-i", bridge, "-o", bridge, "-j",
                                      "ACCEPT" if icc else "DROP")))
    # Loopback DNAT (127.0.0.1:port -> container) needs route_localnet on the bridge plus
    # a MASQUERADE of host-local sources leaving through it.
    rules.append(Rule("nat", names.postrouting,
                      ("-o", bridge, "-m", "addrtype", "--src-type", "LOCAL", "-j",
                       "MASQUERADE")))
    if masquerade and not internal:
        rules.append(Rule("nat", names.postrouting,
                          ("-s", subnet, "!", "-o", bridge, "-j", "MASQUERADE")))
    return rules


def port_rules(names: Names, bridge: str, host_ip: str, host_port: int, container_ip: str,
               container_port: int, proto: str) -> list[Rule]:
    """DNAT + ACCEPT for one published port (one host port -> one container port); an
    IPv6 container address makes them ip6tables rules."""
    family = 6 if ":" in container_ip else 4
    host = f"/{128 if family == 6 else 32}"
    target = f"[{container_ip}]" if family == 6 else container_ip
    dst = () if host_ip in ("", "0.0.0.0", "::") else ("-d", f"{host_ip}{host}")
    return [
        Rule("nat", names.ports, (*dst, "!", "-i", bridge, "-p", proto, "-m", proto,
                                  "--dport", str(host_port), "-j", "DNAT",
                                  "--to-destination", f"{target}:{container_port}"),
             family=family),
        Rule("filter", names.ports, ("-d", f"{container_ip}{host}", "!", "-i", bridge,
                                     "-o", bridge, "-p", proto, "-m", proto, "--dport",
                                     str(container_port), "-j", "ACCEPT"), family=family),
    ]


def ensure_all(rules: Iterable[Rule]) -> None:
    for rule in rules:
        rule.ensure()


def remove_all(rules: Iterable[Rule]) -> None:
    for rule in rules:
        rule.remove()
