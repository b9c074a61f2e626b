"""Command-line parsing with short errors: tyro's multi-line error box becomes one line and exit code 2.

A typo'd flag or command gets its closest match (difflib) and a pointer to ``--help``;
any other parse error keeps the first section of tyro's message, on one line.
"""

from __future__ import annotations

import sys
from typing import Any

import tyro

PROG = "hilserl-bench"


def print_error(message: object) -> None:
    """``hilserl-bench: error: <message>`` on one line of stderr."""
    print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)


def _known_flags(command: Any) -> list[str]:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parser = tyro.extras.get_parser(command)
        return sorted(f for f in parser._option_string_actions if f.startswith("--"))
    except Exception:  # noqa: BLE001  (a hint is optional; the box text still says what was wrong)
        return []


def _box_text(text: str) -> str:
    """The first section of tyro's error box as one line (the title and what was wrong)."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip().strip("│╭╮╰╯").strip()
        if line.startswith("─"):
            if lines:
                break
            continue
        title = line.strip("─ ").strip()
        if raw.strip().startswith("╭"):
            continue
        if line and not raw.startswith("│         "):
            lines.append(title)
    return " ".join(lines)


def parse_error_line(text: str, commands: dict[str, Any], args: list[str], prog: str) -> str:
    """One line for a parse error: an unknown command or flag gets its closest match, anything else tyro's reason."""
    import difflib

    if not args or args[0].startswith("-"):
        return f"{_box_text(text) or 'no command given'}; run `{prog} --help` for the commands"
    name = args[0]
    if name not in commands:
        close = difflib.get_close_matches(name, list(commands), n=1)
        hint = f"did you mean `{prog} {close[0]}`? " if close else ""
        return f"unknown command {name!r}; {hint}commands: {', '.join(commands)}"
    known = _known_flags(commands[name])
    unknown = [a.split("=")[0] for a in args[1:] if a.startswith("--") and a.split("=")[0] not in known]
    if known and unknown:
        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        return f"unknown option {unknown[0]} for `{prog} {name}`{hint} (see `{prog} {name} --help`)"
    return f"{_box_text(text)} (see `{prog} {name} --help`)"


def parse_command(commands: dict[str, Any], args: list[str], prog: str, description: str | None) -> Any:
    """tyro's parse, with its multi-line error box replaced by one line and exit code 2."""
    import contextlib
    import io

    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            return tyro.extras.subcommand_cli_from_dict(commands, prog=prog, args=args, description=description)
    except SystemExit as exc:
        if exc.code in (0, None):
            sys.stderr.write(captured.getvalue())
            raise
        print_error(parse_error_line(captured.getvalue(), commands, args, prog))
        raise SystemExit(2) from None
    finally:
        if captured.getvalue() and not captured.getvalue().lstrip().startswith("╭"):
            sys.stderr.write(captured.getvalue())
