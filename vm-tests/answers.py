"""The answer files the scenarios install with: one builder, and the management network snippets
for QEMU's user network (the guest is 10.0.2.15, the gateway 10.0.2.2, DNS 10.0.2.3)."""
from __future__ import annotations

DHCP = '<admin-interface name="eth0" proto="dhcp"/>'
STATIC = ('<admin-interface name="eth0" proto="static"><ipaddr>10.0.2.15</ipaddr>'
          '<subnet>255.255.255.0</subnet><gateway>10.0.2.2</gateway></admin-interface>'
          '<name-server>10.0.2.3</name-server>')
LOCAL = '<source type="local"/>'


def answerfile(key: str, hostname: str, network: str, source: str = LOCAL, extra: str = "",
               password: str = "media-scenario-pw", disk: str = "vda", sr_type: str = "ext") -> str:
    """An install onto disk with a local SR of sr_type (ext or lvm); network is DHCP or STATIC,
    extra any further elements (a guest disk, a hook, the keymap...)."""
    return f"""<?xml version="1.0"?>
<installation sr-type="{sr_type}">
  <primary-disk>{disk}</primary-disk>
  {extra}
  <root-password>{password}</root-password>
  <ssh-authorized-key>{key}</ssh-authorized-key>
  {source}
  {network}
  <hostname>{hostname}</hostname>
</installation>
"""
