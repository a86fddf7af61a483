"""The README's reference holds to the code, and its links to the repository.

The environment table ("Reference: environment variables") must name every setting of bot/settings.py under a
name pydantic-settings really reads it from, name nothing holdfast does not read, and show the code's default. Every
relative link in README.md and docs/*.md must lead to a file inside this repository (a reader has no `../shared`),
and every `#anchor` to a heading of the file it points into.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TABLE_HEADING = "## Reference: environment variables"
PREFIX = "HOLDFAST_"
# Packages whose code may read the environment itself, beside the settings class (bot/settings.py data_dir()).
RUNTIME_PACKAGES = ("bot", "storage", "handlers")
ENV_READ = re.compile(r"""(?:os\.environ\.get|os\.getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
                      r"""|os\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\](?!\s*=[^=])""")


def env_names(*, name: str, field: FieldInfo) -> list[str]:
    """The environment variables pydantic-settings reads this field from: its validation alias(es) when it has any
    (env_prefix is then not applied), else its alias, else env_prefix + the field's name."""
    config = Settings.model_config
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        names = [c for c in alias.choices if isinstance(c, str)]  # an AliasPath reads into a value: no env name
    elif isinstance(alias, str):
        names = [alias]
    elif field.alias:
        names = [field.alias]
    else:
        names = [f"{config.get('env_prefix', '')}{name}"]
    return names if config.get("case_sensitive") else [n.upper() for n in names]


def settings_env() -> dict[str, list[str]]:
    """Field name -> the environment names it is read from."""
    return {name: env_names(name=name, field=field) for name, field in Settings.model_fields.items()}


def read_outside_settings() -> set[str]:
    """Variables the runtime code reads from os.environ directly (not through the settings class)."""
    found: set[str] = set()
    for package in RUNTIME_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for match in ENV_READ.finditer(path.read_text(encoding="utf-8")):
                found.add(match.group(1) or match.group(2))
    return found


def table_rows() -> list[tuple[list[str], str, str]]:
    """(names in the first cell, default cell, meaning cell) for each row of the README's environment table."""
    text = README.read_text(encoding="utf-8")
    assert TABLE_HEADING in text, f"README.md has no {TABLE_HEADING!r} section"
    section = text.split(TABLE_HEADING, 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert len(lines) > 2, "the environment section has no table"
    rows = []
    for line in lines[2:]:  # the header and the --- line
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
        assert len(cells) == 3, f"an environment row must read | `NAME` | default | meaning |:\n{line}"
        rows.append((re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0]), cells[1], cells[2]))
    return rows


def twin(*, name: str) -> str:
    """The name without the HOLDFAST_ prefix (`HOLDFAST_PORT` and `PORT` are twins)."""
    return name.removeprefix(PREFIX)


def test_every_setting_has_exactly_one_row() -> None:
    rows = table_rows()
    missing, doubled = [], []
    for field, names in settings_env().items():
        hits = [row for row in rows if set(row[0]) & set(names)]
        if not hits:
            missing.append(f"{names[0]} (Settings.{field}; also read as {', '.join(names[1:]) or 'nothing else'})")
        elif len(hits) > 1:
            doubled.append(f"{names[0]} (Settings.{field}) has {len(hits)} rows")
    assert not missing, "add a row to the README's environment table for:\n" + "\n".join(missing)
    assert not doubled, "one row per setting:\n" + "\n".join(doubled)


def test_no_row_names_a_variable_holdfast_does_not_read() -> None:
    owner = {n: field for field, names in settings_env().items() for n in names}
    outside = read_outside_settings()
    stale = [n for names, _, _ in table_rows() for n in names if n not in owner and n not in outside]
    assert not stale, ("the README's environment table names variables no setting reads (rename or remove the "
                       "row):\n" + "\n".join(stale))
    mixed = [names for names, _, _ in table_rows() if len({owner.get(n, n) for n in names}) > 1]
    assert not mixed, f"a row names the variables of more than one setting: {mixed}"


def test_variables_read_outside_the_settings_have_rows() -> None:
    named = {n for names, _, _ in table_rows() for n in names}
    missing = sorted(n for n in read_outside_settings() if n.startswith(PREFIX) and n not in named)
    assert not missing, "holdfast reads these from the environment; give each a row in the README:\n" + "\n".join(missing)


def test_every_accepted_name_is_told() -> None:
    """The row names one of each twin pair and every other name; the README's sentence covers the HOLDFAST_ twin of
    a bare name; a bare twin of a HOLDFAST_ row name must be written out where the README says which are read."""
    text = README.read_text(encoding="utf-8")
    untold = []
    for field, names in settings_env().items():
        row = next((r[0] for r in table_rows() if set(r[0]) & set(names)), None)
        if row is None:
            continue  # reported by test_every_setting_has_exactly_one_row
        for name in names:
            if name in row:
                continue
            shown_twin = any(twin(name=r) == twin(name=name) for r in row)
            bare_of_shown = not name.startswith(PREFIX) and f"{PREFIX}{name}" in row
            if not shown_twin or (bare_of_shown and f"`{name}`" not in text.split(TABLE_HEADING, 1)[1]):
                untold.append(f"{name} (Settings.{field}, row {row})")
        # The sentence is about the row's variable (its first name); another name in the row says how it is read.
        claimed = [r for r in row[:1] if not r.startswith(PREFIX) and f"{PREFIX}{r}" not in names]
        untold += [f"{PREFIX}{r} is not read (Settings.{field}): the README says every bare name is" for r in claimed]
    assert not untold, "the README's environment section does not tell these accepted names:\n" + "\n".join(untold)


def shown_default(*, field: FieldInfo) -> str | None:
    """The default as the table shows it (`300`, `0.02`, `true`), or None when there is nothing to compare."""
    value = field.default
    if field.default_factory is not None or value is PydanticUndefined or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, str, Path)):
        return str(value) or None
    return None  # a SecretStr: secrets have no default worth showing


def test_the_table_shows_the_code_defaults() -> None:
    wrong = []
    for field, names in settings_env().items():
        want = shown_default(field=Settings.model_fields[field])
        row = next((r for r in table_rows() if set(r[0]) & set(names)), None)
        if want is not None and row is not None and f"`{want}`" not in row[1]:
            wrong.append(f"{names[0]}: the code's default is `{want}`, the README says {row[1] or '(nothing)'}")
    assert not wrong, "fix the README's environment table defaults:\n" + "\n".join(wrong)


# --- links -----------------------------------------------------------------------------------------------------

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|^\[[^\]]+\]:\s*(\S+)", re.MULTILINE)


def prose(*, text: str) -> str:
    """The text without fenced code blocks and code spans (a `[x](y)` there is code, not a link)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"`[^`\n]*`", "", text)


def slugs(*, text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1, -2 … for repeats."""
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-")
        seen[slug] = seen.get(slug, -1) + 1
        if seen[slug]:
            seen[f"{slug}-{seen[slug]}"] = 0
    return set(seen)


def documents() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_resolves_inside_the_repository() -> None:
    broken = []
    for doc in documents():
        text = doc.read_text(encoding="utf-8")
        for match in LINK.finditer(prose(text=text)):
            target = match.group(1) or match.group(2)
            if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                continue  # https:, mailto:: outside links a reader can open
            path_part, _, anchor = target.partition("#")
            where = (doc.parent / path_part).resolve() if path_part else doc
            if not where.is_relative_to(ROOT) or not where.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target} (no such file in the repository)")
            elif anchor and where.suffix == ".md" and anchor not in slugs(text=where.read_text(encoding="utf-8")):
                broken.append(f"{doc.relative_to(ROOT)}: {target} (no heading #{anchor} in {where.name})")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_link_check_sees_links() -> None:
    # Guard against a pattern that matches nothing: the README links its performance page and a section.
    targets = [m.group(1) or m.group(2) for m in LINK.finditer(prose(text=README.read_text(encoding="utf-8")))]
    assert "docs/performance.md" in targets
    assert "#reference-environment-variables" in targets
    assert "1-the-slack-app" in slugs(text="### 1. The Slack app\n")
