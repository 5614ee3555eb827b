"""The Go text/template subset used by --format and inspect -f (no daemon)."""

from __future__ import annotations

from typing import Any

import pytest
from pydocker.cli.template import TemplateError, render

DATA: dict[str, Any] = {
    "Name": "/web", "Id": "abc",
    "State": {"Status": "running", "Pid": 42, "Running": True, "ExitCode": 0},
    "Config": {"Labels": {"a": "1", "com.x.y": "2"}, "Env": ["A=1", "B=2"], "Cmd": ["sh"],
               "Tty": False},
    "HostConfig": {"Memory": 0, "Binds": None},
    "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "10.0.0.2"}}},
}


@pytest.mark.parametrize("tmpl,expected", [
    ("{{.State.Status}}", "running"),
    ("{{.State.Pid}}", "42"),
    ("{{.State.Running}}", "true"),
    ("{{.Config.Tty}}", "false"),
    ("{{.Name}} {{.Id}}", "/web abc"),
    ("{{json .State}}", '{"Status":"running","Pid":42,"Running":true,"ExitCode":0}'),
    ("{{json .Config.Cmd}}", '["sh"]'),
    ("{{.Config.Cmd}}", "[sh]"),
    ("{{.Config.Labels}}", "map[a:1 com.x.y:2]"),
    ('{{index .Config.Labels "com.x.y"}}', "2"),
    ("{{.Missing}}", "<no value>"),
    ("{{.HostConfig.Binds}}", "<nil>"),
    ("{{range .Config.Env}}[{{.}}]{{end}}", "[A=1][B=2]"),
    ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "a=1;com.x.y=2;"),
    ("{{range $i, $e := .Config.Env}}{{$i}}{{end}}", "01"),
    ("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "10.0.0.2"),
    ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
    ('{{if eq .State.Status "exited"}}E{{else if .State.Running}}R{{else}}?{{end}}', "R"),
    ("{{if not .HostConfig.Memory}}unlimited{{end}}", "unlimited"),
    ("{{with .State}}{{.Status}}{{end}}", "running"),
    ('{{join .Config.Env ","}}', "A=1,B=2"),
    ("{{.Name | upper}}", "/WEB"),
    ("{{len .Config.Env}}", "2"),
    ('{{printf "%s:%d" .Name .State.Pid}}', "/web:42"),
    ("  {{- .Name -}}  !", "/web!"),
    ("{{/* a comment */}}x", "x"),
    ("{{$.Name}}", "/web"),
    ("{{(index .Config.Env 1)}}", "B=2"),
    ('{{json "a<b"}}', '"a\\u003cb"'),
    ("{{(index .Config.Env 0)}} {{(index .NetworkSettings.Networks \"bridge\").IPAddress}}", "A=1 10.0.0.2"),
    ("{{.State.Status}}\n", "running\n"),
])
def test_render(tmpl: str, expected: str) -> None:
    assert render(tmpl, DATA) == expected


@pytest.mark.parametrize("tmpl", ["{{.State.Status", "{{if .X}}", "{{nosuchfunc .X}}",
                                  "{{.Missing.Deeper}}"])
def test_errors(tmpl: str) -> None:
    with pytest.raises(TemplateError):
        render(tmpl, DATA)
