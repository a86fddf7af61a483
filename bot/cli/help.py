"""How `holdfast … --help` reads: every command described, every default shown, -v accepted at every level."""

from __future__ import annotations

import argparse
from collections.abc import Iterator


class HelpFormatter(argparse.HelpFormatter):
    """Appends "(default: …)" to an argument's help unless it already says its default or has none worth showing
    (None, a flag's False); keeps a text that is laid out in lines (the exit codes) as it is written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS:
            return text
        if "default" in text.lower():
            return text
        return f"{text} (default: %(default)s)"

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help is HelpFormatter's; its subparsers are Parsers too (add_subparsers makes
    them of the parent's class)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def subcommands(p: argparse.ArgumentParser) -> Iterator[tuple[str, str | None, argparse.ArgumentParser]]:
    """(name, help, parser) of each subcommand of `p`, one level down."""
    for action in p._actions:  # argparse has no public way to walk its tree
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name), sub


def finish(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give every subcommand, however deep and whoever registered it, -v/--verbose and a description (its help
    line, unless it has its own)."""
    for _name, text, sub in subcommands(p):
        if sub.description is None:
            sub.description = text[0].upper() + text[1:] + "." if text else None
        if "--verbose" not in sub._option_string_actions:
            # SUPPRESS: left out, the subcommand does not reset what `holdfast -v serve` set at the top.
            sub.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging")
        finish(sub)
    return p


def version() -> str:
    """The installed holdfast's version (pyproject.toml's, through the package metadata)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("holdfast")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"
