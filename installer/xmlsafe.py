"""A small, hostile-input-safe XML reader that keeps line:column for every element, attribute and text.

Answer files come from the network. We refuse DTDs (and so entity expansion: no XML bombs, no
external entities), cap size, depth and element count, and turn every parser complaint into a
positioned message instead of a traceback.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from xml.parsers import expat

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 16
MAX_ELEMENTS = 5000
MAX_ATTRIBUTES = 20000  # in the whole file: each unknown one costs an error message


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
    chunks: list[str] = field(default_factory=list)
    text_line: int = 0
    text_column: int = 0

    @property
    def text(self) -> str:
        if len(self.chunks) > 1:     # joined once: a text may arrive in a million pieces
            self.chunks[:] = ["".join(self.chunks)]
        return self.chunks[0] if self.chunks else ""

    def stripped_text(self) -> str:
        return self.text.strip()


class _Builder:
    def __init__(self, raw: bytes):
        self.raw = raw
        # expat counts CR LF, CR and LF as line ends
        self.line_starts = [0] + [m.end() for m in re.finditer(rb"\r\n|\r|\n", raw)]
        self._cache = (-1, 0, 1)  # (line start, offset, column) of the last position asked for
        self.stack: list[Node] = []
        self.root: Node | None = None
        self.count = 0
        self.attr_count = 0
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = False  # unbuffered: CurrentByteIndex is each chunk's start
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.chars
        self.parser.StartDoctypeDeclHandler = self.doctype
        self.parser.EntityDeclHandler = self.entity
        self.parser.ExternalEntityRefHandler = self.external

    def position(self, offset: int) -> tuple[int, int]:
        lo = bisect.bisect_right(self.line_starts, offset) - 1
        start = self.line_starts[lo]
        # positions come in increasing order: count only the characters since the last one
        cached_start, cached_offset, cached_col = self._cache
        if cached_start == start and cached_offset <= offset:
            base, col = cached_offset, cached_col
        else:
            base, col = start, 1
        segment = self.raw[base:offset].decode("utf-8", "replace")
        column = col + len(segment) - (segment.count("\ufeff") if base == 0 else 0)
        self._cache = (start, offset, column)
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
        self.attr_count += len(attrs)
        if self.attr_count > MAX_ATTRIBUTES:
            raise XMLInputError(f"too many attributes (more than {MAX_ATTRIBUTES} in the file)",
                                line, column)
        node = Node(tag, line, column)
        offset = self.parser.CurrentByteIndex
        where = {name.decode("utf-8", "replace"): pos for name, pos in _attribute_offsets(self.raw, offset)}
        for name, value in attrs.items():
            aline, acol = self.position(where[name]) if name in where else (line, column)
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
        if not node.text_line and data.strip():
            line, column = self.here()
            lead = len(data) - len(data.lstrip())
            skipped = data[:lead]
            if "\n" in skipped:
                line += skipped.count("\n")
                column = len(skipped.rsplit("\n", 1)[1]) + 1
            else:
                column += lead
            node.text_line, node.text_column = line, column
        node.chunks.append(data)


_TAG_NAME = re.compile(rb"<[^\s/>]+")
_ATTR = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')""")


def _attribute_offsets(raw: bytes, start: int):
    """(name, byte offset) of each attribute in the start tag at `start`, skipping quoted values."""
    m = _TAG_NAME.match(raw, start)
    pos = m.end() if m else start
    while True:
        m = _ATTR.match(raw, pos)
        if not m:
            return
        yield m.group(1), m.start(1)
        pos = m.end()


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
    except (LookupError, ValueError) as exc:  # unknown or multi-byte declared encodings
        raise XMLInputError(f"unsupported character encoding ({exc}); use UTF-8", 1, 1) from None
    assert builder.root is not None
    return builder.root
