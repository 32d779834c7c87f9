"""xenhost installer: install, upgrade and restore Xen hosts from answer files or a text UI."""
__version__ = "0.1.0"
