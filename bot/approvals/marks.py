"""Where each key and value of the policy YAML starts (line:column), so every problem can point into the file.

Pure: it reads text, never a file. The YAML is composed once into a node tree (each node keeps its start mark),
the data is constructed from that same tree, and the marks are kept as plain data keyed by path
(("policies", 0, "approvers", "users") …), the same shape pydantic's error locations have.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]
_SEGMENT = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


@dataclass(frozen=True, order=True)
class Pos:
    """A place in the file, both counted from 1 (as editors and compilers count)."""

    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


START = Pos(1, 1)


def _pos(mark: Any) -> Pos:
    return Pos(mark.line + 1, mark.column + 1)  # yaml's marks count from 0


@dataclass(frozen=True)
class Marks:
    """Start of every mapping key (`keys`) and every value (`values`) by path; `scalars`: first path of each text."""

    keys: Mapping[Path, Pos] = field(default_factory=dict)
    values: Mapping[Path, Pos] = field(default_factory=dict)
    scalars: Mapping[str, Path] = field(default_factory=dict)

    def _get(self, table: Mapping[Path, Pos], path: Path) -> Pos | None:
        # A mapping key `1:` is the text "1" here but may be the int 1 in an error location: try both.
        return table.get(path) or table.get(tuple(str(p) for p in path))

    def at(self, path: Path, *, key: bool = False) -> Pos:
        """Where `path` starts (its key with key=True), or its nearest ancestor that is in the file."""
        for end in range(len(path), -1, -1):
            found = self._get(self.keys, path[:end]) if key and end == len(path) else None
            found = found or self._get(self.values, path[:end])
            if found:
                return found
        return START

    def first(self, text: str) -> Pos | None:
        """Where the scalar `text` (a Slack id, say) first appears as a value, if it does."""
        path = self.scalars.get(text)
        return self.values[path] if path is not None else None


def split_path(dotted: str) -> Path:
    """'when.any[0].total_price.gte' → ('when', 'any', 0, 'total_price', 'gte')."""
    return tuple(int(i) if i else name for i, name in _SEGMENT.findall(dotted))


def _walk(node: yaml.Node, path: Path, keys: dict, values: dict, scalars: dict, above: frozenset[int]) -> None:
    values.setdefault(path, _pos(node.start_mark))
    if id(node) in above:
        return  # an alias of its own ancestor (`&a [*a]`): its marks are already known
    above = above | {id(node)}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # a complex key cannot be named in a path
            sub = (*path, key_node.value)
            keys.setdefault(sub, _pos(key_node.start_mark))
            _walk(value_node, sub, keys, values, scalars, above)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), keys, values, scalars, above)
    elif isinstance(node, yaml.ScalarNode):
        scalars.setdefault(str(node.value), path)


def compose(text: str) -> tuple[Any, Marks]:
    """(the data, as yaml.safe_load gives it; its marks). Raises yaml.YAMLError like safe_load."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    keys: dict[Path, Pos] = {}
    values: dict[Path, Pos] = {}
    scalars: dict[str, Path] = {}
    if node is not None:
        _walk(node, (), keys, values, scalars, frozenset())
    return data, Marks(keys, values, scalars)
