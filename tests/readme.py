"""The README's commands, read from README.md by the tests that run them, so that a command
changed in the README is a command changed in its test ("a README command that no test runs
is a command that will break").

:func:`sh_block` returns the commands of the one fenced ``sh`` block that contains a given
text; :func:`inline` the commands of the one inline code span that does. Each command is what
the shell would run: continuation lines joined, comments dropped, ``&&`` chains split, words
split by :mod:`shlex`, leading ``NAME=value`` words (and ``export NAME=value ...`` lines) kept
as its environment.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
_ASSIGNMENT = re.compile(r"[A-Z_][A-Z0-9_]*=")


@dataclass(frozen=True)
class Command:
    """One command of the README: ``env`` (assignments before it, or an ``export``) and
    ``argv``; ``argv`` is empty for an ``export`` line."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    export: bool = False

    def startswith(self, *words: str) -> bool:
        return self.argv[: len(words)] == list(words)

    def resolve(self, python: str, substitutions: Mapping[str, str] | None = None) -> Command:
        """This command with ``python`` (or ``venv/bin/python``) run by ``python`` and each
        placeholder of ``substitutions`` replaced, in the words and in the environment."""

        def sub(text: str) -> str:
            for old, new in (substitutions or {}).items():
                text = text.replace(old, new)
            return text

        argv = [sub(word) for word in self.argv]
        if argv and (argv[0] == "python" or argv[0].endswith("/bin/python")):
            argv[0] = python
        return replace(self, argv=argv, env={k: sub(v) for k, v in self.env.items()})


def _parse(line: str) -> list[Command]:
    commands = []
    for part in re.split(r"\s&&\s", line):
        words = shlex.split(part, comments=True)
        export = bool(words) and words[0] == "export"
        if export:
            words = words[1:]
        env = {}
        while words and _ASSIGNMENT.match(words[0]):
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        if words or env:
            commands.append(Command(argv=words, env=env, export=export))
    return commands


def _lines(text: str) -> list[str]:
    """Logical lines: a line ending in a backslash continues on the next one."""
    joined: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return joined


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), re.M | re.S)


def sh_block(containing: str) -> list[Command]:
    """The commands of the one ```sh block of the README that contains ``containing``."""
    found = [block for block in _blocks("sh") if containing in block]
    assert len(found) == 1, f"{len(found)} sh blocks of README.md contain {containing!r}"
    return [command for line in _lines(found[0]) for command in _parse(line)]


def python_block(containing: str) -> str:
    """The one ```python block of the README that contains ``containing``."""
    found = [block for block in _blocks("python") if containing in block]
    assert len(found) == 1, f"{len(found)} python blocks of README.md contain {containing!r}"
    return found[0]


def inline(containing: str) -> list[Command]:
    """The commands of the one inline code span of the README that contains ``containing``
    (fenced blocks left out)."""
    prose = re.sub(r"^```.*?^```", "", README.read_text(), flags=re.M | re.S)
    found = [span for span in re.findall(r"`([^`\n]+)`", prose) if containing in span]
    assert len(found) == 1, f"{len(found)} code spans of README.md contain {containing!r}"
    return _parse(found[0])


def run_all(
    commands: Sequence[Command], *, cwd: Path, env: Mapping[str, str], timeout: float
) -> list[subprocess.CompletedProcess[str]]:
    """Run ``commands`` at once (each with ``env`` and its own assignments), bounded in time;
    their results in order."""
    processes = [
        subprocess.Popen(
            command.argv,
            cwd=cwd,
            env={**env, **command.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    results = []
    try:
        for command, process in zip(commands, processes, strict=True):
            out, err = process.communicate(timeout=timeout)
            results.append(subprocess.CompletedProcess(command.argv, process.returncode, out, err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return results
