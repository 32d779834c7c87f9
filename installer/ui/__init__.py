"""The urwid text-mode wizard: one module per screen, producing an InstallConfig.

Views hold no business logic; they call the same answer-file validators (installer.values) and
the same planner, and read the engine's event stream for progress.
"""
