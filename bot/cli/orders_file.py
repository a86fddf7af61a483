"""Read a file of orders for `holdfast policy test`: one order, JSON lines, or a JSON array, streamed (bounded
memory), each value with the line it starts on, so that a bad line is reported as file:line and skipped."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

CHUNK = 1 << 16
_WS = re.compile(r"[ \t\n\r]*")


class OrdersFileError(ValueError):
    """The file cannot be read past this point (a broken JSON array or multi-line object); `line` says where."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message if line is None else f"line {line}: {message}")
        self.line, self.message = line, message


@dataclass(frozen=True)
class Entry:
    """One value of the file and the line it starts on; `error` instead when the line is not JSON."""

    line: int
    value: Any = None
    error: str | None = None


def read_entries(stream: TextIO) -> Iterator[Entry]:
    """Every value of the file with its line. In JSON lines a bad line becomes an error entry and reading goes on;
    inside an array or a multi-line object nothing after a syntax error can be trusted: OrdersFileError."""
    buf = ""
    while not buf.strip():
        chunk = stream.read(CHUNK)
        if not chunk:
            return
        buf += chunk
    start = len(buf) - len(buf.lstrip())
    if buf[start] == "[":
        yield from _array(buf, start + 1, stream)
    else:
        yield from _json_lines(_lines(buf, stream))


def read_orders(stream: TextIO) -> Iterator[Any]:
    """Just the values (for callers that want the first problem to stop them)."""
    for entry in read_entries(stream):
        if entry.error:
            raise OrdersFileError(entry.error, entry.line)
        yield entry.value


def _lines(buf: str, stream: TextIO) -> Iterator[str]:
    pos = 0
    while True:
        nl = buf.find("\n", pos)
        if nl >= 0:
            yield buf[pos:nl + 1]
            pos = nl + 1
            continue
        chunk = stream.read(CHUNK)
        if not chunk:
            if buf[pos:]:
                yield buf[pos:]
            return
        buf, pos = buf[pos:] + chunk, 0


def _complete(decoder: json.JSONDecoder, text: str) -> bool:
    try:
        _, end = decoder.raw_decode(text.strip())
    except json.JSONDecodeError:
        return False
    return end == len(text.strip())


def _json_lines(lines: Iterator[str]) -> Iterator[Entry]:
    decoder = json.JSONDecoder()
    one_per_line = False  # once a value fit on its line, a line that ends early is bad, never joined to the next
    pending, start = "", 0
    for n, line in enumerate(lines, 1):
        if pending:
            pending += line
            if not line.rstrip().endswith(("}", "]")):
                continue  # a multi-line value can only close on a line ending with } or ]
            text, at = pending, start
        elif not line.strip():
            continue
        else:
            text, at = line, n
        pending = ""
        while text.strip():
            lead = len(text) - len(text.lstrip())
            at += text.count("\n", 0, lead)
            text = text[lead:]
            try:
                value, end = decoder.raw_decode(text)
            except json.JSONDecodeError as exc:
                ran_out = not text[exc.pos:].strip()
                if ran_out and not one_per_line:
                    pending, start = text, at  # the value may go on over the next lines (a pretty-printed order)
                elif at < n and _complete(decoder, line):
                    # JSON lines whose line `at` was cut short: say so, and read this line on its own
                    yield Entry(at, error="not valid JSON: the line ends before its value does")
                    text, at = line, n
                    continue
                elif at < n:
                    raise OrdersFileError(f"not valid JSON: {exc.msg}", at + text.count("\n", 0, exc.pos))
                else:
                    column = len(line) - len(text) + exc.pos + 1
                    yield Entry(at, error="not valid JSON: the line ends before its value does" if ran_out
                                else f"not valid JSON: {exc.msg} (column {column})")
                break
            yield Entry(at, value)
            one_per_line = one_per_line or "\n" not in text[:end]
            at += text.count("\n", 0, end)
            text = text[end:]
    if pending:
        yield Entry(start, error="not valid JSON: the value starting here is not closed by the end of the file")


def _array(buf: str, pos: int, stream: TextIO) -> Iterator[Entry]:
    decoder = json.JSONDecoder()
    line, eof = 1 + buf.count("\n", 0, pos), False

    def more() -> None:
        nonlocal buf, pos, eof
        chunk = stream.read(CHUNK)
        buf, pos, eof = buf[pos:] + chunk, 0, not chunk

    while True:
        skip = _WS.match(buf, pos).end()
        line, pos = line + buf.count("\n", pos, skip), skip
        if pos >= len(buf):
            if eof:
                raise OrdersFileError("the orders array is not closed with ]", line)
            more()
            continue
        if buf[pos] == ",":
            pos += 1
            continue
        if buf[pos] == "]":
            rest = buf[pos + 1:]
            while not rest.strip() and (chunk := stream.read(CHUNK)):
                rest = chunk
            if rest.strip():
                raise OrdersFileError("unexpected data after the closing ] of the orders array", line)
            return
        try:
            value, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            if not eof and buf.find("\n", exc.pos) < 0:
                more()  # no JSON token spans a line break: without one after the error, the value may go on
                continue
            raise OrdersFileError(f"not valid JSON: {exc.msg}", line + buf.count("\n", pos, exc.pos)) from None
        yield Entry(line, value)
        line, pos = line + buf.count("\n", pos, end), end
