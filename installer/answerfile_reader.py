"""The answer file reader's tools: elements, attributes and text of one parsed document read and
converted, every problem reported against its file:line:column. The per-element readers
(installer/answerfile_*.py) use them."""
from __future__ import annotations

from collections.abc import Callable

from . import values
from .answerfile_xcpng import OPTIONAL_ATTRIBUTES
from .errors import Report
from .xmlsafe import Node


class Reader:
    """Reads one parsed document, reporting every problem against its position. secrets collects
    what the readers derive that must be masked (a root password's hash); the parser hands them
    on in InstallConfig.secrets."""

    def __init__(self, root: Node, report: Report):
        self.root, self.report = root, report
        self.secrets: set[str] = set()

    def err(self, node: Node, message: str) -> None:
        self.report.error(message, node.line, node.column)

    def children(self, node: Node, *names: str) -> list[Node]:
        return [c for c in node.children if c.tag in names]

    def one(self, node: Node, *names: str) -> Node | None:
        found = self.children(node, *names)
        if len({c.tag for c in found}) > 1:
            self.err(found[1], f"<{found[1].tag}> and <{found[0].tag}> (line {found[0].line}) "
                     "give the same setting; keep one")
        return found[0] if found else None

    def attr(self, node: Node, *names: str) -> tuple[str | None, int, int]:
        present = [n for n in names if n in node.attrs]
        if len(present) > 1:
            a = node.attrs[present[1]]
            self.report.error(f"attributes {present[0]!r} and {present[1]!r} give the same "
                              "setting; keep one", a.line, a.column)
        if not present:
            return None, node.line, node.column
        a = node.attrs[present[0]]
        return a.value, a.line, a.column

    def value(self, node: Node, names: tuple[str, ...], convert: Callable, default=None,
              required: bool = False):
        raw, line, col = self.attr(node, *names)
        if raw is None:
            if required:
                self.err(node, f"<{node.tag}> needs the attribute {names[0]!r}")
            return default
        used = next(n for n in names if n in node.attrs)
        if not raw.strip() and not required and used in OPTIONAL_ATTRIBUTES.get(node.tag, ()):
            self.report.warning(f"<{node.tag} {used}=\"{raw}\"> is empty and ignored, as XCP-ng does: "
                                "the default applies", line, col)
            return default
        try:
            result = convert(raw)
        except ValueError as exc:
            self.report.error(f"<{node.tag} {used}=\"{raw}\">: {exc}", line, col)
            return default
        if convert is values.boolean and (note := values.boolean_note(raw)):
            self.report.warning(f"<{node.tag} {used}=\"{raw}\">: {note}", line, col)
        return result

    def text(self, node: Node, convert: Callable | None = None, what: str = "a value"):
        raw = node.stripped_text()
        line, col = (node.text_line, node.text_column) if raw else (node.line, node.column)
        if not raw:
            self.report.error(f"<{node.tag}> is empty; expected {what}", line, col)
            return None
        if convert is None:
            return raw
        try:
            return convert(raw)
        except ValueError as exc:
            self.report.error(f"<{node.tag}>: {exc}", line, col)
            return None

    def require(self, node: Node | None, name: str, why: str) -> Node | None:
        if node is None:
            self.err(self.root, f"<{self.root.tag}> needs a <{name}> element: {why}")
        return node

    def texts(self, node: Node, names: tuple[str, ...], convert: Callable, what: str) -> list:
        """The converted text of every child named so; the bad ones reported and left out."""
        return [v for v in (self.text(n, convert, what) for n in self.children(node, *names)) if v]
