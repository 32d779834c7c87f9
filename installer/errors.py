"""Diagnostics: every problem the installer reports about its input has a place and a severity."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # "error" or "warning"
    message: str
    file: str = "<input>"
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.column}"
        return f"{where}: {self.severity}: {self.message}"

    def to_dict(self) -> dict:
        return {"severity": self.severity, "message": self.message, "file": self.file,
                "line": self.line, "column": self.column}


class InstallerError(Exception):
    """Base of every error the installer reports on purpose (never a traceback)."""


class ConfigError(InstallerError):
    """Input (answer file, kernel command line, machine description) is invalid."""

    def __init__(self, diagnostics: list[Diagnostic]):
        diagnostics = sorted(diagnostics, key=lambda d: (d.file, d.line, d.column))
        self.diagnostics = [d for d in diagnostics if d.severity == "error"]
        self.warnings = [d for d in diagnostics if d.severity == "warning"]
        super().__init__("\n".join(str(d) for d in self.diagnostics) or "invalid input")


class PlanError(InstallerError):
    """The configuration cannot be applied to this machine."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


MAX_MESSAGE = 400


def clip(message: str) -> str:
    """A message quoting a huge value (a 1 MiB attribute) keeps its start and end: the position
    says where the rest is."""
    if len(message) <= MAX_MESSAGE:
        return message
    cut = len(message) - 300 - 80
    return f"{message[:300]}... [{cut} characters not shown] ...{message[-80:]}"


@dataclass
class Report:
    """Collects diagnostics for one input so all problems are shown at once."""
    file: str = "<input>"
    items: list[Diagnostic] = field(default_factory=list)

    def error(self, message: str, line: int = 0, column: int = 0) -> None:
        self.items.append(Diagnostic("error", clip(message), self.file, line, column))

    def warning(self, message: str, line: int = 0, column: int = 0) -> None:
        self.items.append(Diagnostic("warning", clip(message), self.file, line, column))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ConfigError(self.items)
