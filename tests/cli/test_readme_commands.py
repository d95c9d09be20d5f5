"""Every shell command in the README names a real make target, CLI command and option, or route."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.routing import iter_route_contexts

from api.app import create_app
from cli.main import app as cli_app
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def shell_lines() -> list[str]:
    """Returns the README's sh lines, continuations joined and trailing comments dropped."""
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command = re.sub(r"\s+#\s.*$", "", line).strip()
            if command:
                lines.append(command)
    return lines


def triage_commands() -> list[list[str]]:
    """Returns the argument lists of every `.venv/bin/triage` command in the README."""
    found = []
    for line in shell_lines():
        for part in line.split("|"):
            words = shlex.split(part)
            if words and words[0] == ".venv/bin/triage":
                found.append(words[1:])
    return found


def test_the_readme_runs_triage_from_the_venv_as_make_installs_it() -> None:
    """No block calls a bare `triage`, which make does not put on PATH."""
    bare = [line for line in shell_lines() if re.match(r"(.*\|\s*)?triage\s", line)]
    assert bare == []
    assert len(triage_commands()) >= 15


@pytest.mark.parametrize("args", triage_commands(), ids=lambda a: " ".join(a[:3]))
def test_each_triage_command_and_option_exists(args: list[str]) -> None:
    """The command path resolves and every option the README passes is one the command takes."""
    command: Any = typer.main.get_command(cli_app)
    rest = list(args)
    while hasattr(command, "commands") and rest and rest[0] in command.commands:
        command = command.commands[rest.pop(0)]
    assert not hasattr(command, "commands"), f"no such command: {args}"
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    given = {word.split("=", 1)[0] for word in rest if word.startswith("--")}
    assert given <= known, f"{args}: unknown options {given - known}"


def test_each_make_target_exists() -> None:
    """`make X` in the README is a target of the Makefile."""
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), flags=re.M))
    used = {w.split()[1] for w in shell_lines() if w.startswith("make ")}
    assert used
    assert used <= targets


def test_each_curl_names_a_route_the_app_serves(tmp_path: Path) -> None:
    """The curl examples reach real routes with the methods they use."""
    routes = create_app(Settings(data_dir=tmp_path, classifier="local")).routes
    served = {(m, str(c.path)) for c in iter_route_contexts(routes) for m in c.methods or ()}
    curls = [line for line in shell_lines() if line.startswith("curl ")]
    assert curls
    for line in curls:
        url = next(w for w in shlex.split(line) if w.startswith("http"))
        path = re.sub(r"^https?://[^/]+", "", url).split("?", 1)[0]
        method = "POST" if re.search(r"\s(-d|--data|-X POST)\b", line) else "GET"
        assert (method, path) in served, line
