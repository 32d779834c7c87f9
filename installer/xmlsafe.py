"""A small, hostile-input-safe XML reader that keeps line:column for every element, attribute and text.

Answer files come from the network. We refuse DTDs (and so entity expansion: no XML bombs, no
external entities), cap size, depth and element count, and turn every parser complaint into a
positioned message instead of a traceback.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.parsers import expat

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 16
MAX_ELEMENTS = 5000


class XMLInputError(Exception):
    def __init__(self, message: str, line: int = 0, column: int = 0):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass
class Attr:
    value: str
    line: int
    column: int


@dataclass
class Node:
    tag: str
    line: int
    column: int
    attrs: dict[str, Attr] = field(default_factory=dict)
    children: list["Node"] = field(default_factory=list)
    text: str = ""
    text_line: int = 0
    text_column: int = 0

    def stripped_text(self) -> str:
        return self.text.strip()


class _Builder:
    def __init__(self, raw: bytes):
        self.raw = raw
        self.line_starts = [0] + [m.end() for m in re.finditer(rb"\n", raw)]
        self.stack: list[Node] = []
        self.root: Node | None = None
        self.count = 0
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = False  # unbuffered: CurrentByteIndex is each chunk's start
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.chars
        self.parser.StartDoctypeDeclHandler = self.doctype
        self.parser.EntityDeclHandler = self.entity
        self.parser.ExternalEntityRefHandler = self.external

    def position(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        start = self.line_starts[lo]
        column = len(self.raw[start:offset].decode("utf-8", "replace")) + 1
        return lo + 1, column

    def here(self) -> tuple[int, int]:
        return self.position(self.parser.CurrentByteIndex)

    def doctype(self, *_args) -> None:
        start = self.raw.rfind(b"<!DOCTYPE", 0, self.parser.CurrentByteIndex + 1)
        where = self.position(start) if start >= 0 else self.here()
        raise XMLInputError("DOCTYPE declarations are not allowed in answer files "
                            "(no DTDs, no entities)", *where)

    def entity(self, *_args) -> None:
        raise XMLInputError("entity declarations are not allowed in answer files", *self.here())

    def external(self, *_args) -> int:
        raise XMLInputError("external entities are not allowed in answer files", *self.here())

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.count += 1
        line, column = self.here()
        if self.count > MAX_ELEMENTS:
            raise XMLInputError(f"too many elements (more than {MAX_ELEMENTS})", line, column)
        if len(self.stack) >= MAX_DEPTH:
            raise XMLInputError(f"elements nested too deeply (more than {MAX_DEPTH} levels)",
                                line, column)
        node = Node(tag, line, column)
        offset = self.parser.CurrentByteIndex
        tag_end = self.raw.find(b">", offset)
        tag_text = self.raw[offset:tag_end if tag_end >= 0 else len(self.raw)]
        for name, value in attrs.items():
            m = re.search(rb"\s" + re.escape(name.encode()) + rb"\s*=", tag_text)
            aline, acol = self.position(offset + m.start() + 1) if m else (line, column)
            node.attrs[name] = Attr(value, aline, acol)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def end(self, _tag: str) -> None:
        self.stack.pop()

    def chars(self, data: str) -> None:
        if not self.stack:
            return
        node = self.stack[-1]
        if not node.text.strip() and data.strip():
            line, column = self.here()
            lead = len(data) - len(data.lstrip())
            skipped = data[:lead]
            if "\n" in skipped:
                line += skipped.count("\n")
                column = len(skipped.rsplit("\n", 1)[1]) + 1
            else:
                column += lead
            node.text_line, node.text_column = line, column
        node.text += data


def parse(raw: bytes) -> Node:
    """Parse bytes into a Node tree; raise XMLInputError with a position on any problem."""
    if len(raw) > MAX_BYTES:
        raise XMLInputError(f"file is too large ({len(raw)} bytes; an answer file may be at most "
                            f"{MAX_BYTES} bytes)")
    if not raw.strip():
        raise XMLInputError("file is empty: expected an <installation> or <restore> element", 1, 1)
    builder = _Builder(raw)
    try:
        builder.parser.Parse(raw, True)
    except expat.ExpatError as exc:
        message = expat.ErrorString(exc.code)
        raise XMLInputError(f"malformed XML: {message}", exc.lineno, exc.offset + 1) from None
    except RecursionError:
        raise XMLInputError("elements nested too deeply") from None
    assert builder.root is not None
    return builder.root
