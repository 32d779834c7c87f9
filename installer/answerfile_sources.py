"""Where the answer file installs from and what it runs: <source>s and their signature checks,
<driver-source>s (read, then ignored), and hook scripts (<script> and XCP-ng's older forms)."""
from __future__ import annotations

from . import location_values, values
from .answerfile_reader import Reader
from .answerfile_xcpng import SCRIPT_STAGES
from .config import HOOK_STAGES, Hook, Source
from .xmlsafe import Node

REPO_GPGCHECK_OFF = (": the signature of the product tree is NOT checked: its manifest is trusted "
                     "without the product key, so a tampered tree would be installed")
GPGCHECK_NO_EFFECT = (" has no effect: Debian packages carry no signatures of their own; each one is "
                      "checked against the package pool's signed index, which stays checked")
DRIVER_SOURCE_IGNORED = ("is ignored: driver disks are not supported; the installer's own drivers "
                         "are used and nothing from it is installed on the host")


def source(r: Reader, node: Node, kind: str) -> Source | None:
    stype = r.value(node, ("type",), lambda v: values.choice(v, ("local", "url", "nfs"), "type"),
                    required=True)
    if stype == "local":
        if node.stripped_text():
            r.report.warning(f"<{kind}> of type local ignores its text", node.text_line,
                             node.text_column)
        return Source("local")
    if stype == "url":
        text = node.stripped_text()
        if text.lower().startswith("nfs://"):
            loc = r.text(node, location_values.nfs_location, "an NFS location")
            return Source("nfs", loc) if loc else None
        loc = r.text(node, location_values.url, "a URL (http://, https://, ftp:// or file://)")
        return Source("url", loc) if loc else None
    if stype == "nfs":
        loc = r.text(node, location_values.nfs_location, "an NFS location like server:/path")
        return Source("nfs", loc) if loc else None
    return None


def sources(r: Reader) -> list[Source]:
    """The <source>s, each with its own signature settings (None: the root element's apply)."""
    found = []
    for node in r.children(r.root, "source"):
        src = source(r, node, "source")
        if src:
            src.repo_gpgcheck = r.value(node, ("repo-gpgcheck",), values.boolean)
            src.gpgcheck = r.value(node, ("gpgcheck",), values.boolean)
            signature_warnings(r, node)
            found.append(src)
    if not r.children(r.root, "source"):
        r.require(None, "source", "where to install from; <source type=\"local\"/> means the "
                  "installer media")
    return found


def signature_warnings(r: Reader, node: Node) -> None:
    """Turning a signature check off is never silent (gpgcheck: not even when it changes nothing)."""
    for names, meaning in ((("repo-gpgcheck", "netinstall-gpg-check"), REPO_GPGCHECK_OFF),
                           (("gpgcheck",), GPGCHECK_NO_EFFECT)):
        for name in names:
            a = node.attrs.get(name)
            if a is not None and a.value.strip() and _is_false(a.value):
                r.report.warning(f"<{node.tag} {name}=\"{a.value}\">{meaning}", a.line, a.column)
                break


def _is_false(text: str) -> bool:
    try:
        return values.boolean(text) is False
    except ValueError:
        return False      # reported as an error where the value is read


def driver_sources(r: Reader) -> list[Source]:
    nodes = r.children(r.root, "driver-source")
    for node in nodes:
        r.report.warning(f"<driver-source> {DRIVER_SOURCE_IGNORED}", node.line, node.column)
    return [s for s in (source(r, n, "driver-source") for n in nodes) if s]


def hooks(r: Reader) -> list[Hook]:
    result = []
    for node in r.children(r.root, "script", *SCRIPT_STAGES):
        if node.tag == "script":
            stage = r.value(node, ("stage",), lambda v: values.choice(
                v.lower(), HOOK_STAGES, "stage"), required=True)
        else:
            stage = SCRIPT_STAGES[node.tag]
        htype = r.value(node, ("type",), lambda v: values.choice(v.lower(), ("url", "nfs"), "type"),
                        "url", required=node.tag == "script")
        if htype == "nfs":
            loc = r.text(node, location_values.nfs_location, "an NFS location of the script")
        else:
            loc = r.text(node, location_values.url, "the script's URL")
        if stage and htype and loc:
            result.append(Hook(stage, htype, loc))
    return result
