"""The command line's reference, from its argparse parser (:func:`provider.cli._parser`).

One section per subcommand: its description, usage, arguments, options (by argument group),
and its epilog (exit codes, environment) as the command's ``--help`` prints it. Nothing is
taken from ``--help``'s own layout, which changes with the terminal's width and Python's
version: the page is the same wherever it is generated.

argparse offers no public way to list a parser's arguments, groups or subcommands; the three
private attributes read here (``_action_groups``, ``_group_actions``, ``_choices_actions``)
have been stable since Python 2.7 and are read in this module only.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..cli import _parser
from .markdown import anchor, code_block

PROGRAM = "baseten-chains"
ALIASES = "python -m provider"


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    if "%" in text:  # argparse's own expansion of %(default)s and friends
        text = text % {**vars(action), "prog": PROGRAM}
    return " ".join(text.split()).replace("|", "\\|")


def _metavar(action: argparse.Action) -> str:
    if isinstance(action.metavar, str):
        return action.metavar
    return action.dest.upper()


def _usage_word(action: argparse.Action) -> str:
    if action.option_strings:
        flag = action.option_strings[0]
        long = [f for f in action.option_strings if f.startswith("--")]
        flag = long[0] if long else flag
        word = flag if action.nargs == 0 else f"{flag} {_metavar(action)}"
        return word if action.required else f"[{word}]"
    metavar = _metavar(action)
    return {"?": f"[{metavar}]", "*": f"[{metavar} ...]", "+": f"{metavar} [{metavar} ...]"}.get(
        str(action.nargs), metavar
    )


def _visible(parser: argparse.ArgumentParser) -> list[tuple[str, list[argparse.Action]]]:
    groups = []
    for group in parser._action_groups:
        actions = [
            a
            for a in group._group_actions
            if a.help != argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)
        ]
        if actions:
            groups.append((group.title or "options", actions))
    return groups


def _option_cell(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{_metavar(action)}`"
    takes = "" if action.nargs == 0 else f" {_metavar(action)}"
    return ", ".join(f"`{flag}{takes}`" for flag in action.option_strings)


def _command_section(
    title: str, program: str, parser: argparse.ArgumentParser, *, level: str
) -> list[str]:
    actions = [a for _, group in _visible(parser) for a in group]
    plain = [a for a in actions if not isinstance(a, argparse._SubParsersAction)]
    words = [_usage_word(a) for a in plain if a.option_strings]
    words += [_usage_word(a) for a in actions if not a.option_strings]
    lines = [f"{level} {title}", ""]
    if parser.description:
        lines += [" ".join(parser.description.split()), ""]
    lines += [*code_block("text", " ".join([program, *words])), ""]
    for group_title, group in _visible(parser):
        rows = [a for a in group if not isinstance(a, argparse._SubParsersAction)]
        if not rows:
            continue
        lines += [f"{level}# {group_title[:1].upper()}{group_title[1:]}", ""]
        lines += ["| Argument | Description |", "|---|---|"]
        lines += [f"| {_option_cell(a)} | {_help(a)} |" for a in rows]
        lines.append("")
    if parser.epilog:
        lines += [*code_block("text", parser.epilog.strip("\n")), ""]
    return lines


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, Any]]:
    """(name, one-line help, parser) of each subcommand, in the order of ``--help``."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            found += [(name, helps.get(name, ""), sub) for name, sub in action.choices.items()]
    return found


def page() -> str:
    """``cli.md``."""
    parser = _parser()
    commands = _subcommands(parser)
    lines = [
        f"# Command line reference: `{PROGRAM}`",
        "",
        f"`{PROGRAM}` (also `{ALIASES}`). Generated from the command's own parser by "
        "`make docs`; `" + PROGRAM + " COMMAND --help` prints the same.",
        "",
        "## Commands",
        "",
        "| Command | What it does |",
        "|---|---|",
        *(
            f"| [`{name}`](#{anchor(f'{PROGRAM} {name}')}) | {' '.join(text.split())} |"
            for name, text, _ in commands
        ),
        "",
        *_command_section(PROGRAM, PROGRAM, parser, level="##"),
    ]
    for name, _, sub in commands:
        lines += _command_section(f"{PROGRAM} {name}", f"{PROGRAM} {name}", sub, level="##")
    return "\n".join(lines)
