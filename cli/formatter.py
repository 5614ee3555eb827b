"""``--format`` for list commands: table / json / Go template over per-row contexts.

Mirrors docker/cli's formatter.Context: ``\\t`` and ``\\n`` escapes are expanded, a
``table`` format gets a header row rendered from the same template over the header
names and goes through tabwriter; other formats print one rendered line per row.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.errors import CliError
from pydocker.cli.output import tabwrite
from pydocker.cli.template import Template, TemplateError


class HeaderName(str):
    """A header cell; callable so ``{{.Label "x"}}`` renders a header too."""

    def __call__(self, *args: Any) -> str:
        return str(args[0]) if args else str(self)  # docker heads {{.Label "x"}} with "x"


class Context:
    """One row. Subclasses list FIELDS (template names) and HEADERS (column titles)."""

    FIELDS: tuple[str, ...] = ()
    go_type = "*formatter.Context"

    def fields(self) -> tuple[str, ...]:
        return self.FIELDS

    def to_json(self) -> dict[str, Any]:
        out = {}
        for name in sorted(self.FIELDS):
            value = getattr(self, name)
            if callable(value):
                try:
                    value = value()
                except TypeError:
                    continue  # methods that need arguments (Label) are not serialised
            out[name] = value
        return out


class LabelsContext(Context):
    """A row of an object with labels: ``{{.Labels}}`` and ``{{.Label "key"}}``."""

    labels: dict[str, Any]  # set by the subclass's __init__ from the object's "Labels"

    @property
    def Labels(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))

    def Label(self, name: str) -> str:
        return str(self.labels.get(name, ""))


def expand(fmt: str) -> str:
    return fmt.replace("\\t", "\t").replace("\\n", "\n")


def render(fmt: str, rows: Iterable[Context], default_table: str,
           headers: dict[str, str]) -> str:
    """Render ``rows`` with a docker --format string ('' means the default table)."""
    fmt = fmt or "table"
    is_table = fmt.startswith("table")
    if fmt == "json":
        body = "{{json .}}"
    elif fmt == "table":
        body = default_table
    elif is_table:
        body = fmt[len("table"):].strip()
    else:
        body = fmt
    body = expand(body)
    try:
        tmpl = Template(body)
        lines = [tmpl.render(row) for row in rows]
        if not is_table:
            return "".join(line + "\n" for line in lines)
        header = tmpl.render({k: HeaderName(v) for k, v in headers.items()})
    except TemplateError as e:
        raise CliError(f"failed to execute template: {e}") from None
    text = "\n".join([header, *lines])
    return tabwrite(text.split("\n"))


def write_rows(fmt: str, rows: Iterable[Context], default_table: str,
               headers: dict[str, str]) -> None:
    sys.stdout.write(render(fmt, rows, default_table, headers))


def render_one(fmt: str, value: Any) -> str:
    """A template over one object (inspect -f, version -f, info -f)."""
    try:
        return Template(expand(fmt)).render(value)
    except TemplateError as e:
        raise CliError(f"template parsing error: {e}" if "unexpected" in str(e)
                       else str(e)) from None
