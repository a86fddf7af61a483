"""`holdfast … --help` is complete: every command described, every argument explained with its default shown;
--version, and -v after the command."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.cli.help import subcommands
from bot.cli.main import parser

ROOT = Path(__file__).resolve().parents[2]


def tree(p: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command path, its help line, its parser) for the top and every subcommand, however deep."""
    yield path, None, p
    for name, text, sub in subcommands(p):
        yield from ((sub_path, sub_text if sub_path != (*path, name) else text, sub_parser)
                    for sub_path, sub_text, sub_parser in tree(sub, (*path, name)))


COMMANDS = list(tree(parser()))


def test_the_tree_holds_every_command():
    names = {" ".join(path) for path, _help, _p in COMMANDS}
    assert {"serve", "worker", "migrate", "jobs", "jobs retry", "check", "policy test", "audit verify",
            "audit export", "demo", "sandbox"} <= names


SUBCOMMANDS = [c for c in COMMANDS if c[0]]


@pytest.mark.parametrize("path,text,sub", SUBCOMMANDS, ids=[" ".join(path) for path, _t, _s in SUBCOMMANDS])
def test_every_subcommand_has_a_help_line_and_a_description(path, text, sub):
    assert text, f"`holdfast {' '.join(path)}` has no help line in its parent's list"
    assert sub.description, f"`holdfast {' '.join(path)} --help` has no description"


def shown_help(p: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The action's help as --help prints it (its %(default)s expanded)."""
    formatter = p._get_formatter()
    return formatter._expand_help(action) if action.help else ""


ACTIONS = [(" ".join(path), p, action) for path, _help, p in COMMANDS for action in p._actions
           if not isinstance(action, argparse._SubParsersAction)]  # a subcommand list: its entries are checked above


@pytest.mark.parametrize("path,p,action", ACTIONS, ids=[f"{path or 'holdfast'} {a.dest}" for path, _p, a in ACTIONS])
def test_every_argument_says_what_it_is_and_its_default(path, p, action):
    name = "/".join(action.option_strings) or action.dest
    assert action.help and action.help is not argparse.SUPPRESS, f"holdfast {path}: {name} has no help"
    text = shown_help(p, action)
    if action.default is not None and action.default is not False and action.default is not argparse.SUPPRESS:
        assert "default" in text.lower() and str(action.default) in text, \
            f"holdfast {path}: {name} does not show its default {action.default!r}: {text!r}"


def test_a_default_is_shown_once_in_the_help_text():
    sandbox = {" ".join(path): sub for path, _h, sub in COMMANDS}["sandbox"]
    out = " ".join(sandbox.format_help().split())  # as read, whatever the terminal's width wrapped
    assert "--shopify-port SHOPIFY_PORT the Shopify stand-in's port (Admin API, OAuth) (default: 8081)" in out, out
    assert out.count("(default: 8081)") == 1
    assert "(default: None)" not in parser().format_help() and "(default: False)" not in sandbox.format_help()


def test_version_is_the_installed_packages():
    done = subprocess.run([sys.executable, "-m", "bot.cli", "--version"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == f"holdfast {version('holdfast')}"


@pytest.mark.parametrize("argv", [["serve", "-v"], ["serve", "--verbose"], ["-v", "serve"], ["demo", "-v"],
                                  ["jobs", "retry", "3", "-v"], ["audit", "verify", "-v"], ["policy", "test", "-v"]])
def test_verbose_works_before_and_after_the_command(argv):
    assert parser().parse_args(argv).verbose is True


@pytest.mark.parametrize("argv", [["serve"], ["jobs"], ["audit", "export"]])
def test_without_verbose_it_stays_off(argv):
    assert parser().parse_args(argv).verbose is False


def test_jobs_says_what_it_lists():
    text, sub = {" ".join(path): (text, sub) for path, text, sub in COMMANDS}["jobs"]
    assert "pending" in text and "dead" in text and "periodic" in text
    assert "pending" in sub.format_help() and "retry" in sub.format_help()


def test_demo_keeps_its_database_where_asked():
    args = parser().parse_args(["demo", "--keep", "/tmp/demo-db"])
    assert args.keep == "/tmp/demo-db" and parser().parse_args(["demo"]).keep is None


def test_dev_py_help_still_works_and_its_install_shows_progress():
    done = subprocess.run([sys.executable, "dev.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0 and "python3 dev.py demo" in done.stdout
    import importlib.util

    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    command = dev.install_command()
    assert command[1:4] == ["-m", "pip", "install"] and "-q" not in command and "--quiet" not in command
