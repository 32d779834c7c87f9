"""Answer files that must fail: the exact message and position of the first error, and warnings."""
import pytest
from helpers import parse_text

from installer.errors import ConfigError, clip

HEAD = '<?xml version="1.0"?>\n'
BASE = ('  <primary-disk>sda</primary-disk>\n'
        '  <source type="local"/>\n'
        '  <root-password>changeme-now</root-password>\n')


def doc(body: str, root: str = "<installation>", base: str = BASE) -> str:
    return HEAD + root + "\n" + base + body + "</installation>\n"


IFACE = '  <admin-interface name="eth0" proto="dhcp"/>\n'
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhxGKqXiNRovQ7J0GDiX7IRqsz7tt/rJtCVj5UBS3/o"


def match(attrs: str) -> str:
    return doc(IFACE, base=BASE.replace("<primary-disk>sda</primary-disk>",
                                        f"<primary-disk><match {attrs}/></primary-disk>"))


def static4(ip: str, subnet: str, gateway: str | None = None) -> str:
    gw = f"    <gateway>{gateway}</gateway>\n" if gateway else ""
    return doc('  <admin-interface name="eth0" proto="static">\n'
               f"    <ipaddr>{ip}</ipaddr>\n    <subnet>{subnet}</subnet>\n{gw}  </admin-interface>\n")


def static6(address: str, gateway: str | None = None) -> str:
    gw = f"    <gatewayv6>{gateway}</gatewayv6>\n" if gateway else ""
    return doc('  <admin-interface name="eth0" proto="none" protov6="static">\n'
               f"    <ipv6>{address}</ipv6>\n{gw}  </admin-interface>\n")

# (id, document, exact first error)  -- line numbers count the XML declaration as line 1
CASES = [
    ("bad-serial-console", doc(IFACE + '  <bootloader serial-console="com1">grub2</bootloader>\n'),
     "test.xml:7:15: error: <bootloader serial-console=\"com1\">: serial-console must look like ttyS0 "
     "or ttyS0,115200, not 'com1'"),
    ("typo-element", doc(IFACE + "  <hostnme>h</hostnme>\n"),
     "test.xml:7:3: error: unknown element <hostnme> in <installation> (did you mean 'hostname'?); "
     "expected one of: <primary-disk>, <guest-disk>, <guest-disks>, <raid>, <admin-interface>, "
     "<root-password>, <ssh-authorized-key>, <name-server>, <hostname>, <timezone>, <ntp>, "
     "<ntp-server>, <keymap>, <service>, <source>, <bootloader>, <network-backend>, "
     "<existing-installation>, <script>, <driver-source>, <secure-boot>"),
    ("typo-attribute", doc('  <admin-interface name="eth0" prot="dhcp"/>\n'),
     "test.xml:6:32: error: unknown attribute 'prot' on <admin-interface> (did you mean 'proto'?); "
     "allowed attributes: name, hwaddr, proto, protov6, vlan"),
    ("missing-primary-disk", doc(IFACE, base='  <source type="local"/>\n'),
     "test.xml:2:1: error: <installation> needs a <primary-disk> element: the disk to install onto"),
    ("missing-admin-interface", doc(""),
     "test.xml:2:1: error: <installation> needs a <admin-interface> element: the management network "
     "interface"),
    ("missing-source", doc(IFACE, base='  <primary-disk>sda</primary-disk>\n'),
     "test.xml:2:1: error: <installation> needs a <source> element: where to install from; "
     "<source type=\"local\"/> means the installer media"),
    ("bad-mode", doc(IFACE, root='<installation mode="clean">'),
     "test.xml:2:15: error: <installation mode=\"clean\">: mode must be one of fresh, reinstall, "
     "upgrade; got 'clean'"),
    ("bad-boolean", doc(IFACE, base=BASE.replace("<primary-disk>", '<primary-disk guest-storage="maybe">')),
     "test.xml:3:17: error: <primary-disk guest-storage=\"maybe\">: expected yes/true or no/false, "
     "got 'maybe'"),
    ("vlan-range", doc('  <admin-interface name="eth0" proto="dhcp" vlan="4095"/>\n'),
     "test.xml:6:45: error: <admin-interface vlan=\"4095\">: a VLAN ID must be a number from 1 to "
     "4094, got '4095'"),
    ("bad-ipv4", doc('  <admin-interface name="eth0" proto="static">\n    <ipaddr>192.0.2.300</ipaddr>\n'
                     '    <subnet>255.255.255.0</subnet>\n  </admin-interface>\n'),
     "test.xml:7:13: error: <ipaddr>: expected an IPv4 address like 192.0.2.10, got '192.0.2.300'"),
    ("bad-netmask", doc('  <admin-interface name="eth0" proto="static">\n    <ipaddr>192.0.2.3</ipaddr>\n'
                        '    <subnet>255.0.255.0</subnet>\n  </admin-interface>\n'),
     "test.xml:8:13: error: <subnet>: expected a netmask like 255.255.255.0 or a prefix length, got "
     "'255.0.255.0'"),
    ("gateway-outside", doc('  <admin-interface name="eth0" proto="static">\n    <ipaddr>192.0.2.3</ipaddr>\n'
                            '    <subnet>255.255.255.0</subnet>\n    <gateway>192.0.3.1</gateway>\n'
                            '  </admin-interface>\n'),
     "test.xml:9:14: error: <gateway>: gateway 192.0.3.1 is not inside the management subnet "
     "192.0.2.0/24"),
    ("static-without-address", doc('  <admin-interface name="eth0" proto="static"/>\n'),
     "test.xml:6:3: error: proto=\"static\" needs <ipaddr> and <subnet> (netmask) elements"),
    ("bad-ipv6", doc('  <admin-interface name="eth0" proto="none" protov6="static">\n'
                     '    <ipv6>2001:db8::zz/64</ipv6>\n  </admin-interface>\n'),
     "test.xml:7:11: error: <ipv6>: expected an IPv6 address with prefix like 2001:db8::10/64, got '2001:db8::zz/64'"),
    ("no-ip-at-all", doc('  <admin-interface name="eth0" proto="none"/>\n'),
     "test.xml:6:3: error: <admin-interface> must configure IPv4 or IPv6 (proto and protov6 are both "
     "none)"),
    ("no-name-no-mac", doc('  <admin-interface proto="dhcp"/>\n'),
     "test.xml:6:3: error: <admin-interface> needs a 'name' (e.g. eth0) or 'hwaddr' (MAC) attribute"),
    ("bad-mac", doc('  <admin-interface hwaddr="52:54:00:12:34" proto="dhcp"/>\n'),
     "test.xml:6:20: error: <admin-interface hwaddr=\"52:54:00:12:34\">: expected a MAC address like "
     "52:54:00:12:34:56, got '52:54:00:12:34'"),
    ("bad-hostname", doc(IFACE + "  <hostname>web_01</hostname>\n"),
     "test.xml:7:13: error: <hostname>: 'web_01' is not a valid host name: each dot-separated label "
     "must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen"),
    ("bad-timezone", doc(IFACE + "  <timezone>Europe/Pariss</timezone>\n"),
     "test.xml:7:13: error: <timezone>: unknown time zone 'Europe/Pariss' (use a tz database name "
     "like Europe/Paris or Etc/UTC)"),
    ("timezone-case", doc(IFACE + "  <timezone>europe/paris</timezone>\n"),
     "test.xml:7:13: error: <timezone>: unknown time zone 'europe/paris' (did you mean 'Europe/Paris'?)"),
    ("bad-keymap", doc(IFACE + "  <keymap>qwerty</keymap>\n"),
     "test.xml:7:11: error: <keymap>: unknown keymap 'qwerty' (console keymap names such as us, uk, "
     "de, fr-latin1; see docs/answerfile.md)"),
    ("bad-disk", doc(IFACE, base=BASE.replace("sda", "/etc/passwd")),
     "test.xml:3:17: error: <primary-disk>: a disk must be a device under /dev, got '/etc/passwd'"),
    ("short-password", doc(IFACE, base=BASE.replace("changeme-now", "abc")),
     "test.xml:5:18: error: <root-password>: the password must be at least 6 characters long (it has 3)"),
    ("bad-hash", doc(IFACE, base=BASE.replace("<root-password>changeme-now",
                                              '<root-password type="hash">$6$abc$tooshort')),
     "test.xml:5:30: error: <root-password>: not a valid crypt(5) password hash: expected SHA-512 "
     "($6$...), SHA-256 ($5$...), yescrypt ($y$...) or bcrypt ($2b$...), e.g. from 'mkpasswd -m sha-512'"),
    ("ntp-manual-no-server", doc(IFACE + '  <ntp source="manual"/>\n'),
     "test.xml:7:3: error: <ntp source=\"manual\"> needs at least one <ntp-server>"),
    ("ntp-server-with-dhcp", doc(IFACE + '  <ntp source="dhcp"/>\n  <ntp-server>192.0.2.1</ntp-server>\n'),
     "test.xml:8:3: error: <ntp-server> is only allowed with <ntp source=\"manual\"> (or without <ntp>)"),
    ("duplicate-element", doc(IFACE + "  <hostname>a</hostname>\n  <hostname>b</hostname>\n"),
     "test.xml:8:3: error: <hostname> may appear only once in <installation> (first at line 7)"),
    ("alias-and-name", doc('  <admin-interface name="eth0" proto="static">\n    <ip>192.0.2.3</ip>\n'
                           '    <ipaddr>192.0.2.4</ipaddr>\n    <subnet>24</subnet>\n  </admin-interface>\n'),
     "test.xml:8:5: error: <ipaddr> and <ip> (line 7) give the same setting; keep one"),
    ("duplicate-service", doc(IFACE + '  <service name="sshd" state="enabled"/>\n'
                              '  <service name="sshd" state="disabled"/>\n'),
     "test.xml:8:3: error: service 'sshd' is listed twice (first at line 7)"),
    ("bad-script-stage", doc(IFACE + '  <script stage="post-install" type="url">http://x/y</script>\n'),
     "test.xml:7:11: error: <script stage=\"post-install\">: stage must be one of installation-start, "
     "filesystem-populated, installation-complete; got 'post-install'"),
    ("bad-url", doc(IFACE + '  <script stage="installation-start" type="url">gopher://x/y</script>\n'),
     "test.xml:7:49: error: <script>: expected a URL starting with http://, https://, ftp://, file://; "
     "got 'gopher://x/y'"),
    ("bad-source-type", doc(IFACE, base=BASE.replace('type="local"', 'type="cdrom"')),
     "test.xml:4:11: error: <source type=\"cdrom\">: type must be one of local, url, nfs; got 'cdrom'"),
    ("bad-bootloader", doc(IFACE + "  <bootloader>lilo</bootloader>\n"),
     "test.xml:7:15: error: <bootloader>: unsupported boot loader 'lilo'; only grub2 is supported"),
    ("bad-backend", doc(IFACE + "  <network-backend>linuxbridge</network-backend>\n"),
     "test.xml:7:20: error: <network-backend> must be one of bridge, openvswitch; got 'linuxbridge'"),
    ("raid-member-as-guest", doc(IFACE + '  <raid device="md127"><disk>sda</disk><disk>sdb</disk></raid>\n'
                                         "  <guest-disk>sdb</guest-disk>\n", base=BASE.replace("sda", "md127")),
     "test.xml:2:1: error: /dev/sdb is a RAID member and cannot also be a guest disk"),
    ("existing-data-word", doc(IFACE, root='<installation existing-data="keep">'),
     "test.xml:2:15: error: <installation existing-data=\"keep\">: existing-data must be one of erase, "
     "refuse; got 'keep'"),
    ("raid-one-disk", doc(IFACE + '  <raid device="md127"><disk>sdb</disk></raid>\n',
                          base=BASE.replace("sda", "md127")),
     "test.xml:7:3: error: <raid> needs at least two <disk> members, found 1"),
    ("raid-not-primary", doc(IFACE + '  <raid device="md0"><disk>sdb</disk><disk>sdc</disk></raid>\n'),
     "test.xml:2:1: error: <raid device=\"/dev/md0\"> is defined but the primary disk is /dev/sda; "
     "name the RAID device in <primary-disk>"),
    ("upgrade-needs-existing", HEAD + '<installation mode="upgrade">\n  <source type="local"/>\n'
     '</installation>\n',
     "test.xml:2:1: error: <installation> needs a <existing-installation> element: the disk holding "
     "the installation to upgrade"),
    ("text-where-none", doc('  <admin-interface name="eth0" proto="dhcp">eth0</admin-interface>\n'),
     "test.xml:6:45: error: <admin-interface> does not take text content; found 'eth0'"),
    ("bad-ssh-key", doc(IFACE + "  <ssh-authorized-key>ssh-ed25519 AAAAnotakey</ssh-authorized-key>\n"),
     "test.xml:7:23: error: <ssh-authorized-key>: the SSH key's base64 data is corrupt"),
    ("match-empty", doc(IFACE, base=BASE.replace("<primary-disk>sda</primary-disk>",
                                                 "<primary-disk><match/></primary-disk>")),
     "test.xml:3:17: error: <match> needs at least one of serial, model, min-size, max-size"),
    ("newline-in-hostname", doc(IFACE + "  <hostname>foo&#10;.bar</hostname>\n"),
     "test.xml:7:13: error: <hostname>: 'foo\\n.bar' is not a valid host name: each dot-separated label "
     "must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen"),
    ("newline-in-disk", doc(IFACE, base=BASE.replace("sda", "sda&#10;/x")),
     "test.xml:3:17: error: <primary-disk>: 'sda\\n/x' is not a valid disk name (expected sda, nvme0n1, "
     "/dev/sdb, disk/by-id/...)"),
    ("raid-device-not-md", doc(IFACE + '  <raid device="sdc"><disk>sda</disk><disk>sdb</disk></raid>\n',
                               base=BASE.replace("sda", "sdc")),
     "test.xml:7:9: error: <raid device=\"sdc\">: a RAID device must be an md device such as md127, got 'sdc'"),
    ("hostmask-as-netmask", doc('  <admin-interface name="eth0" proto="static">\n    <ipaddr>192.0.2.3</ipaddr>\n'
                                '    <subnet>0.0.0.255</subnet>\n  </admin-interface>\n'),
     "test.xml:8:13: error: <subnet>: expected a netmask like 255.255.255.0 or a prefix length, got "
     "'0.0.0.255'"),
    ("gateway-is-broadcast", doc('  <admin-interface name="eth0" proto="static">\n    <ipaddr>192.0.2.3</ipaddr>\n'
                                 '    <subnet>24</subnet>\n    <gateway>192.0.2.255</gateway>\n  </admin-interface>\n'),
     "test.xml:9:14: error: <gateway>: gateway 192.0.2.255 is the network or broadcast address of 192.0.2.0/24"),
    ("loopback-address", doc('  <admin-interface name="eth0" proto="static">\n    <ipaddr>127.0.0.1</ipaddr>\n'
                             '    <subnet>8</subnet>\n  </admin-interface>\n'),
     "test.xml:7:13: error: <ipaddr>: 127.0.0.1 is not a usable host address"),
    ("unicode-digit-vlan", doc('  <admin-interface name="eth0" proto="dhcp" vlan="\u0663"/>\n'),
     "test.xml:6:45: error: <admin-interface vlan=\"\u0663\">: a VLAN ID must be a number from 1 to 4094, "
     "got '\u0663'"),
    ("multicast-mac", doc('  <admin-interface hwaddr="01:00:5e:00:00:01" proto="dhcp"/>\n'),
     "test.xml:6:20: error: <admin-interface hwaddr=\"01:00:5e:00:00:01\">: 01:00:5e:00:00:01 is a multicast "
     "or null MAC address, not a NIC's"),
    ("gt-inside-earlier-attribute", doc('  <admin-interface name="eth0" vlan="3" proto="bogus"/>\n'.replace(
        'vlan="3"', 'hwaddr="a>b"')),
     "test.xml:6:45: error: <admin-interface proto=\"bogus\">: proto must be one of dhcp, static, none; "
     "got 'bogus'"),
    ("huge-size", doc(IFACE, base=BASE.replace("<primary-disk>sda</primary-disk>",
                                               '<primary-disk><match min-size="' + "9" * 400 + '"/></primary-disk>')),
     "test.xml:3:24: error: " + clip("<match min-size=\"" + "9" * 400 + "\">: expected a size like 500G, 2T or "
                                     "1048576, got '" + "9" * 400 + "'")),
    # wrong meanings: refused rather than read as something the operator did not mean
    ("match-empty-serial", match('serial=""'),
     "test.xml:3:24: error: <match serial=\"\">: an empty serial number would match every disk; give "
     "the disk's serial number or leave the attribute out"),
    ("match-blank-model", match('model="  "'),
     "test.xml:3:24: error: <match model=\"  \">: an empty model name would match every disk; give "
     "the disk's model name or leave the attribute out"),
    ("match-min-size-0", match('min-size="0"'),
     "test.xml:3:24: error: <match min-size=\"0\">: a size of 0 would match every disk; give a size "
     "like 500G, or leave the attribute out"),
    ("match-max-size-0", match('serial="S1" max-size="0G"'),
     "test.xml:3:36: error: <match max-size=\"0G\">: a size of 0 would match no disk; give a size "
     "like 500G, or leave the attribute out"),
    ("two-keys-two-lines", doc(IFACE + f"  <ssh-authorized-key>{KEY} a@x\n    {KEY} b@y</ssh-authorized-key>\n"),
     "test.xml:7:23: error: <ssh-authorized-key>: holds 2 keys; give each key its own "
     "<ssh-authorized-key> element"),
    ("two-keys-one-line", doc(IFACE + f"  <ssh-authorized-key>{KEY} {KEY} b@y</ssh-authorized-key>\n"),
     "test.xml:7:23: error: <ssh-authorized-key>: holds 2 keys; give each key its own "
     "<ssh-authorized-key> element"),
    ("service-option", doc(IFACE + '  <service name="-q" state="enabled"/>\n'),
     "test.xml:7:12: error: <service name=\"-q\">: '-q' starts with '-': systemctl would read it as "
     "an option, not a unit"),
    ("service-not-a-unit", doc(IFACE + '  <service name="ssh d" state="enabled"/>\n'),
     "test.xml:7:12: error: <service name=\"ssh d\">: expected a systemd unit name like sshd, "
     "chrony.service or getty@tty2 (at most 255 letters, digits and : _ . \\ - @), got 'ssh d'"),
    ("service-same-unit-two-states", doc(IFACE + '  <service name="sshd" state="enabled"/>\n'
                                         '  <service name="sshd.service" state="disabled"/>\n'),
     "test.xml:8:3: error: service 'sshd.service' is listed twice (first at line 7)"),
    ("address-32", static4("192.0.2.3", "32"),
     "test.xml:7:13: error: <ipaddr>: 192.0.2.3/32 leaves no other address on the management "
     "network: neither a gateway nor any other host could be reached; give the network's netmask"),
    ("address-32-gateway", static4("192.0.2.3", "255.255.255.255", "192.0.2.1"),
     "test.xml:7:13: error: <ipaddr>: 192.0.2.3/32 leaves no other address on the management "
     "network: neither a gateway nor any other host could be reached; give the network's netmask"),
    ("address-link-local-v4", static4("169.254.7.7", "16", "169.254.0.1"),
     "test.xml:7:13: error: <ipaddr>: 169.254.7.7 is a link-local address (169.254.0.0/16), which is "
     "never routed; a management address must be one of the management network's"),
    ("address-v4-mapped", static6("::ffff:192.0.2.10/120"),
     "test.xml:7:11: error: <ipv6>: ::ffff:192.0.2.10 is an IPv4-mapped IPv6 address; write the IPv4 "
     "address 192.0.2.10 instead"),
    ("address-link-local-v6", static6("fe80::10/64"),
     "test.xml:7:11: error: <ipv6>: fe80::10 is a link-local address (fe80::/10), which every IPv6 "
     "interface has already; a management address must be global or unique-local"),
    ("gateway-v4-mapped", static6("2001:db8::10/64", "::ffff:192.0.2.1"),
     "test.xml:8:16: error: <gatewayv6>: ::ffff:192.0.2.1 is an IPv4-mapped IPv6 address; write the "
     "IPv4 address 192.0.2.1 instead"),
    ("name-server-v4-mapped", doc(IFACE + "  <name-server>::ffff:192.0.2.53</name-server>\n"),
     "test.xml:7:16: error: <name-server>: ::ffff:192.0.2.53 is an IPv4-mapped IPv6 address; write "
     "the IPv4 address 192.0.2.53 instead"),
    ("name-server-v4-compatible", doc(IFACE + "  <name-server>::192.0.2.53</name-server>\n"),
     "test.xml:7:16: error: <name-server>: ::192.0.2.53 is an IPv4-compatible IPv6 address "
     "(deprecated since RFC 4291); write the IPv4 address 192.0.2.53 instead"),
    ("name-server-unspecified", doc(IFACE + "  <name-server>::</name-server>\n"),
     "test.xml:7:16: error: <name-server>: :: is not a usable host address"),
    ("ntp-server-v4-mapped", doc(IFACE + "  <ntp-server>::ffff:192.0.2.123</ntp-server>\n"),
     "test.xml:7:15: error: <ntp-server>: ::ffff:192.0.2.123 is an IPv4-mapped IPv6 address; write "
     "the IPv4 address 192.0.2.123 instead"),
    ("boolean-one", doc(IFACE, root='<installation gpgcheck="1">'),
     "test.xml:2:15: error: <installation gpgcheck=\"1\">: '1' would mean no to XCP-ng's installer; "
     "write yes or no"),
    ("empty-mode", doc(IFACE, root='<installation mode="">'),
     "test.xml:2:15: error: <installation mode=\"\">: mode must be one of fresh, reinstall, upgrade; "
     "got ''"),
    ("iscsi-disk", doc(IFACE, base=BASE.replace("sda", "iscsi:192.0.2.9::3260:1:iqn.2026-01.x:t")),
     "test.xml:3:17: error: <primary-disk>: iSCSI boot disks (iscsi:192.0.2.9::3260:1:iqn.2026-01.x:t) are "
     "not supported; name a local disk"),
    ("empty-interface-name", doc('  <admin-interface name="" proto="dhcp"/>\n'),
     "test.xml:6:3: error: <admin-interface> needs a 'name' (e.g. eth0) or 'hwaddr' (MAC) attribute"),
    ("bad-encoding", '<?xml version="1.0" encoding="x-bogus"?><installation/>',
     "test.xml:1:1: error: unsupported character encoding (unknown encoding: x-bogus); use UTF-8"),
    ("wrong-root", HEAD + '<upgrade mode="upgrade"/>\n',
     "test.xml:2:1: error: unexpected root element <upgrade> (use <installation mode=\"upgrade\">); "
     "expected <installation> or <restore>"),
    ("malformed", HEAD + "<installation>\n  <primary-disk>sda</primary-disk\n</installation>\n",
     "test.xml:4:1: error: malformed XML: not well-formed (invalid token)"),
    ("unclosed", HEAD + "<installation>\n  <primary-disk>sda</primary-disk>\n",
     "test.xml:4:1: error: malformed XML: no element found"),
    ("empty", "   \n",
     "test.xml:1:1: error: file is empty: expected an <installation> or <restore> element"),
    ("xml-bomb", HEAD + '<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol1 "&lol;&lol;&lol;&lol;">\n]>\n'
     "<installation>&lol1;</installation>\n",
     "test.xml:2:1: error: DOCTYPE declarations are not allowed in answer files (no DTDs, no entities)"),
    ("external-entity", HEAD + '<!DOCTYPE x SYSTEM "file:///etc/passwd">\n<installation/>\n',
     "test.xml:2:1: error: DOCTYPE declarations are not allowed in answer files (no DTDs, no entities)"),
    ("undefined-entity", HEAD + "<installation>&bomb;</installation>\n",
     "test.xml:2:15: error: malformed XML: undefined entity"),
]


@pytest.mark.parametrize("xml,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_is_exact(xml, expected):
    with pytest.raises(ConfigError) as info:
        parse_text(xml)
    assert expected in [str(d) for d in info.value.diagnostics]


def test_all_errors_are_reported_at_once():
    xml = doc('  <admin-interface name="eth0" proto="dhcp" vlan="0"/>\n  <hostname>-x</hostname>\n'
              '  <keymap>zz</keymap>\n')
    with pytest.raises(ConfigError) as info:
        parse_text(xml)
    assert [d.line for d in info.value.diagnostics] == [6, 7, 8]


def test_huge_file_is_refused_without_reading_it_all(tmp_path):
    from installer.answerfile import parse_file
    big = tmp_path / "big.xml"
    big.write_bytes(b"<installation>" + b" " * (2 * 1024 * 1024) + b"</installation>")
    with pytest.raises(ConfigError) as info:
        parse_file(big)
    assert "file is too large" in str(info.value)


def test_deep_nesting_is_refused():
    xml = "<installation>" + "<guest-disks>" * 100 + "</guest-disks>" * 100 + "</installation>"
    with pytest.raises(ConfigError) as info:
        parse_text(xml)
    assert "nested too deeply" in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path):
    from installer.answerfile import parse_file
    with pytest.raises(ConfigError) as info:
        parse_file(tmp_path / "nope.xml")
    assert str(info.value) == f"{tmp_path / 'nope.xml'}: error: cannot read answer file: No such file or directory"


DEPRECATED = doc('  <admin-interface name="eth0" proto="static">\n    <ip>192.0.2.3</ip>\n'
                 '    <subnet-mask>255.255.255.0</subnet-mask>\n    <gateway>192.0.2.1</gateway>\n'
                 '  </admin-interface>\n  <nameserver>192.0.2.53</nameserver>\n'
                 '  <ntp-servers>192.0.2.123</ntp-servers>\n'
                 '  <post-install-script>http://192.0.2.5/p.sh</post-install-script>\n',
                 root='<installation srtype="lvm" netinstall-gpg-check="false">',
                 base=BASE.replace("<primary-disk>", '<primary-disk gueststorage="no">'))


def test_deprecated_spellings_are_accepted_with_warnings():
    cfg, report = parse_text(DEPRECATED)
    assert [str(w) for w in report.warnings] == [
        "test.xml:2:15: warning: attribute 'srtype' is deprecated; use 'sr-type'",
        "test.xml:2:28: warning: attribute 'netinstall-gpg-check' is deprecated; use 'repo-gpgcheck'",
        "test.xml:3:17: warning: attribute 'gueststorage' is deprecated; use 'guest-storage'",
        "test.xml:7:5: warning: <ip> is deprecated; use <ipaddr>",
        "test.xml:8:5: warning: <subnet-mask> is deprecated; use <subnet>",
        "test.xml:11:3: warning: <nameserver> is deprecated; use <name-server>",
        "test.xml:12:3: warning: <ntp-servers> is deprecated; use <ntp-server>",
        "test.xml:13:3: warning: <post-install-script> is deprecated; use <script>",
        "test.xml:2:28: warning: <installation netinstall-gpg-check=\"false\">: the signature of the "
        "product tree is NOT checked: its manifest is trusted without the product key, so a tampered "
        "tree would be installed",
    ]
    assert cfg.sr_type.value == "lvm" and cfg.repo_gpgcheck is False
    assert cfg.primary_disk.guest_storage is False
    assert cfg.interface.ipv4.address == "192.0.2.3/24" and cfg.interface.ipv4.gateway == "192.0.2.1"
    assert cfg.name_servers == ["192.0.2.53"]
    assert cfg.ntp.mode.value == "manual" and cfg.ntp.servers == ["192.0.2.123"]
    assert [(h.stage, h.location) for h in cfg.hooks] == [("filesystem-populated", "http://192.0.2.5/p.sh")]


def test_short_password_warns():
    _, report = parse_text(doc(IFACE, base=BASE.replace("changeme-now", "abcdef7")))
    assert [w.message for w in report.warnings] == [
        "<root-password>: a password shorter than 8 characters is weak"]


@pytest.mark.parametrize("word,value", [("YES", True), ("True", True), ("no", False), ("FALSE", False)])
def test_booleans_are_case_insensitive(word, value):
    cfg, _ = parse_text(doc(IFACE, base=BASE.replace("<primary-disk>", f'<primary-disk sr-at-end="{word}">')))
    assert cfg.primary_disk.sr_at_end is value


@pytest.mark.parametrize("proto,expected", [("dhcp", "dhcp"), ("static", "default")])
def test_ntp_is_inferred_like_xcpng(proto, expected):
    iface = IFACE if proto == "dhcp" else ('  <admin-interface name="eth0" proto="static"><ipaddr>192.0.2.3'
                                          '</ipaddr><subnet>24</subnet></admin-interface>\n')
    cfg, _ = parse_text(doc(iface))
    assert cfg.ntp.mode.value == expected


def test_defaults_match_xcpng_83_except_backend():
    cfg, _ = parse_text(doc(IFACE))
    assert (cfg.timezone, cfg.host_keymap, cfg.sr_type.value, cfg.hostname) == ("Etc/UTC", "us", "ext", None)
    assert cfg.keymap is None    # not given: the boot line's keymap= may still choose one
    assert cfg.network_backend.value == "bridge"
    assert cfg.bootloader.location == "mbr" and cfg.bootloader.write_boot_entry is True
    assert cfg.primary_disk.preserve_first_partition == "if-utility"


def test_plaintext_password_is_hashed_and_dropped():
    cfg, _ = parse_text(doc(IFACE))
    assert cfg.root_password.origin == "plaintext"
    assert cfg.root_password.hash.startswith("$6$")
    assert "changeme-now" not in repr(cfg)


def test_disk_names_normalize():
    cfg, _ = parse_text(doc(IFACE + "  <guest-disk>disk/by-id/wwn-0x5000</guest-disk>\n"
                                    "  <guest-disk>/dev/nvme0n1</guest-disk>\n"))
    assert cfg.primary_disk.disk.path == "/dev/sda"
    assert [g.path for g in cfg.guest_disks] == ["/dev/disk/by-id/wwn-0x5000", "/dev/nvme0n1"]


def test_upgrade_ignores_install_settings_with_a_warning():
    xml = (HEAD + '<installation mode="upgrade">\n  <existing-installation>sda</existing-installation>\n'
           '  <source type="local"/>\n  <hostname>x</hostname>\n</installation>\n')
    cfg, report = parse_text(xml)
    assert cfg.existing_installation.path == "/dev/sda"
    assert [str(w) for w in report.warnings] == [
        "test.xml:5:3: warning: <hostname> is ignored in upgrade mode: the settings of the existing "
        "installation are kept"]


def test_cr_only_line_endings_and_bom_keep_positions():
    xml = "\ufeff" + doc(IFACE + "  <hostname>-x</hostname>\n").replace("\n", "\r")
    with pytest.raises(ConfigError) as info:
        parse_text(xml)
    assert str(info.value.diagnostics[0]).startswith("test.xml:7:13: error: <hostname>")


def test_many_text_chunks():
    """Expat hands each newline over as its own chunk; joining them once keeps this linear."""
    xml = doc(IFACE + "  <hostname>" + "\n" * 400_000 + "x</hostname>\n")
    cfg, _ = parse_text(xml)
    assert cfg.hostname == "x"


def test_serial_console_extension_is_read():
    cfg, report = parse_text(doc(IFACE + '  <bootloader serial-console="ttyS1,57600">grub2</bootloader>\n'))
    assert cfg.bootloader.serial_console == "ttyS1,57600" and not report.warnings


def test_guest_disks_are_a_set_as_in_xcpng():
    """A guest disk listed twice, or the primary disk listed as a guest disk, is what XCP-ng accepts
    (it merges them as a set): the same meaning here, with a warning at the element."""
    cfg, report = parse_text(doc(IFACE + "  <guest-disk>sdb</guest-disk>\n  <guest-disk>/dev/sdb</guest-disk>\n"
                                 "  <guest-disks><guest-disk>sda</guest-disk></guest-disks>\n",
                                 base=BASE.replace("<primary-disk>", '<primary-disk guest-storage="no">')))
    assert [d.path for d in cfg.guest_disks] == ["/dev/sdb"]
    assert cfg.primary_disk.guest_storage is True      # XCP-ng: the primary disk in the set carries the SR
    assert [str(w) for w in report.warnings] == [
        "test.xml:8:3: warning: guest disk /dev/sdb is listed twice (first at line 7); it is used once, "
        "as in XCP-ng",
        "test.xml:9:16: warning: guest disk /dev/sda is the primary disk: as in XCP-ng, this puts the local "
        "SR on the primary disk (partition 3), overriding guest-storage=\"no\""]


def test_primary_as_guest_disk_with_guest_storage_changes_nothing():
    cfg, report = parse_text(doc(IFACE + "  <guest-disk>sda</guest-disk>\n"))
    plain, _ = parse_text(doc(IFACE))
    a, b = cfg.to_dict(), plain.to_dict()
    a.pop("root_password"), b.pop("root_password")    # salted hashes
    assert a == b
    assert [str(w) for w in report.warnings] == [
        "test.xml:7:3: warning: guest disk /dev/sda is the primary disk: as in XCP-ng, this puts the local "
        "SR on the primary disk (partition 3)"]


@pytest.mark.parametrize("attr,expected", [("", "erase"), (' existing-data="erase"', "erase"),
                                           (' existing-data="refuse"', "refuse")])
def test_existing_data_attribute(attr, expected):
    cfg, report = parse_text(doc(IFACE, root=f"<installation{attr}>"))
    assert cfg.existing_data == expected and not report.warnings


def test_existing_data_is_ignored_in_upgrade_mode_with_a_warning():
    cfg, report = parse_text('<installation mode="upgrade" existing-data="refuse"><source type="local"/>'
                             "<existing-installation>sda</existing-installation></installation>")
    assert [w.message for w in report.warnings] == ["'existing-data' is ignored in upgrade mode"]


def test_empty_optional_attributes_are_absent_as_in_xcpng():
    """XCP-ng reads attr="" as a missing attribute: the default applies here too, with a warning."""
    xml = doc('  <admin-interface name="eth0" hwaddr="" proto="dhcp" vlan=""/>\n',
              root='<installation sr-type="" gpgcheck="">',
              base=BASE.replace("<primary-disk>", '<primary-disk guest-storage="" sr-at-end="">'))
    cfg, report = parse_text(xml)
    assert (cfg.sr_type.value, cfg.gpgcheck, cfg.primary_disk.guest_storage, cfg.primary_disk.sr_at_end,
            cfg.interface.mac, cfg.interface.vlan) == ("ext", True, True, True, None, None)
    assert sorted(str(w) for w in report.warnings) == [
        f'test.xml:{line}:{col}: warning: <{tag} {attr}=""> is empty and ignored, as XCP-ng does: the '
        "default applies" for line, col, tag, attr in [
            (2, 15, "installation", "sr-type"), (2, 26, "installation", "gpgcheck"),
            (3, 17, "primary-disk", "guest-storage"), (3, 34, "primary-disk", "sr-at-end"),
            (6, 32, "admin-interface", "hwaddr"), (6, 55, "admin-interface", "vlan")]]


@pytest.mark.parametrize("word", ["0", "off", "N"])
def test_words_xcpng_reads_as_false_are_false_with_a_warning(word):
    cfg, report = parse_text(doc(IFACE, base=BASE.replace("<primary-disk>", f'<primary-disk sr-at-end="{word}">')))
    assert cfg.primary_disk.sr_at_end is False
    assert [str(w) for w in report.warnings] == [
        f"test.xml:3:17: warning: <primary-disk sr-at-end=\"{word}\">: '{word}' is read as no (as XCP-ng "
        "does); write no"]


def test_same_unit_twice_with_the_same_state_is_one_service():
    cfg, report = parse_text(doc(IFACE + '  <service name="sshd" state="disabled"/>\n'
                                         '  <service name="sshd.service" state="disabled"/>\n'
                                         '  <service name="getty@tty2" state="enabled"/>\n'))
    assert [(s.name, s.state) for s in cfg.services] == [("sshd", "disabled"), ("getty@tty2", "enabled")]
    assert [str(w) for w in report.warnings] == [
        "test.xml:8:3: warning: service 'sshd.service' is the same unit as 'sshd' (line 7); it is "
        "disabled once"]


def test_link_local_ipv6_gateway_stays_allowed():
    cfg, report = parse_text(static6("2001:db8::10/64", "fe80::1"))
    assert (cfg.interface.ipv6.address, cfg.interface.ipv6.gateway) == ("2001:db8::10/64", "fe80::1")
    assert not report.warnings


def test_link_local_ipv4_name_server_stays_allowed():
    """Some clouds resolve at 169.254.169.253: a name server need not be routed."""
    cfg, _ = parse_text(doc(IFACE + "  <name-server>169.254.169.253</name-server>\n"))
    assert cfg.name_servers == ["169.254.169.253"]


def test_an_ipv6_link_local_name_server_is_refused():
    """It would need an interface zone (fe80::1%eth0), which resolv.conf as written has not."""
    with pytest.raises(ConfigError, match="fe80::1 is a link-local address: a name server needs a global"):
        parse_text(doc(IFACE + "  <name-server>fe80::1</name-server>\n"))


def test_one_key_with_a_comment_stays_one_key():
    cfg, _ = parse_text(doc(IFACE + f"  <ssh-authorized-key>{KEY} ops team key</ssh-authorized-key>\n"))
    assert cfg.ssh_authorized_keys == [f"{KEY} ops team key"]


def test_static_elements_beside_dhcp_are_ignored_as_in_xcpng():
    """proto/protov6 decide, as in XCP-ng: leftover static elements are ignored with a warning."""
    cfg, report = parse_text(doc('  <admin-interface name="eth0" proto="dhcp" protov6="autoconf">\n'
                                 "    <ipaddr>192.0.2.3</ipaddr>\n    <gateway>192.0.2.1</gateway>\n"
                                 "    <ipv6>2001:db8::3/64</ipv6>\n  </admin-interface>\n"))
    assert (cfg.interface.ipv4.mode.value, cfg.interface.ipv4.address) == ("dhcp", None)
    assert (cfg.interface.ipv6.mode.value, cfg.interface.ipv6.address) == ("autoconf", None)
    assert [str(w) for w in report.warnings] == [
        'test.xml:7:5: warning: <ipaddr> is ignored: proto="dhcp" (it is used only with proto="static")',
        'test.xml:8:5: warning: <gateway> is ignored: proto="dhcp" (it is used only with proto="static")',
        'test.xml:9:5: warning: <ipv6> is ignored: protov6="autoconf" (it is used only with '
        'protov6="static")']


def test_a_key_type_in_the_comment_is_not_a_second_key():
    cfg, _ = parse_text(doc(IFACE + f"  <ssh-authorized-key>{KEY} replaces the old ssh-rsa key</ssh-authorized-key>\n"))
    assert cfg.ssh_authorized_keys == [f"{KEY} replaces the old ssh-rsa key"]


def test_xcpng_no_password_yet_hash_is_no_password():
    cfg, report = parse_text("""<installation><primary-disk>sda</primary-disk>
<root-password type="hash">!!</root-password><source type="local"/>
<admin-interface name="eth0" proto="dhcp"/></installation>""")
    assert cfg.root_password.hash is None and cfg.root_password.origin == "none"
    assert [str(w) for w in report.warnings] == [
        'test.xml:2:28: warning: <root-password type="hash">!!</root-password>: no root password; root '
        "cannot log in until a password is set on the console at first boot"]



def test_a_huge_bad_value_is_quoted_in_part():
    huge = "x" * 900_000
    with pytest.raises(ConfigError) as exc:
        parse_text(f"""<installation sr-type="{huge}"><primary-disk>sda</primary-disk><source type="local"/>
<admin-interface name="eth0" proto="dhcp"/></installation>""")
    [d] = exc.value.diagnostics
    assert (d.line, d.column) == (1, 15)
    assert d.message.startswith('<installation sr-type="xxx') and len(d.message) < 500
    assert "characters not shown" in d.message


@pytest.mark.parametrize("location,message", [
    ("http://192.0.2.5/tree", "<source>: an NFS location is server:/path or nfs://server/path, not a http:// "
                              "URL ('http://192.0.2.5/tree')"),
    ("nfs://op:n5-Secret@nfs.example.com/x", "<source>: NFS locations take no user name or password (NFS has "
                                             "none): 'nfs://op:********@nfs.example.com/x'"),
])
def test_nfs_sources_are_nfs_locations(location, message):
    with pytest.raises(ConfigError) as exc:
        parse_text(f"""<installation><primary-disk>sda</primary-disk><source type="nfs">{location}</source>
<admin-interface name="eth0" proto="dhcp"/></installation>""")
    assert [d.message for d in exc.value.diagnostics] == [message]
    assert "n5-Secret" not in str(exc.value)


def _ipv6_only(address: str, gateway: str = "") -> str:
    gw = f"<gatewayv6>{gateway}</gatewayv6>" if gateway else ""
    return f"""<installation><primary-disk>sda</primary-disk><source type="local"/>
<admin-interface name="eth0" proto="none" protov6="static"><ipv6>{address}</ipv6>{gw}</admin-interface>
</installation>"""


def test_a_single_ipv6_address_needs_a_gateway():
    with pytest.raises(ConfigError) as exc:
        parse_text(_ipv6_only("2001:db8::5/128"))
    assert [str(d) for d in exc.value.diagnostics] == [
        "test.xml:2:66: error: <ipv6>: 2001:db8::5/128 is a single address with no gateway: the host could "
        "reach nothing; give the subnet's prefix length or a <gatewayv6>"]
    cfg, _ = parse_text(_ipv6_only("2001:db8::5/128", "fe80::1"))     # routed /128, on-link gateway
    assert cfg.interface.ipv6.gateway == "fe80::1"


def test_ntp_from_dhcp_without_dhcp_is_a_warning():
    cfg, report = parse_text("""<installation><primary-disk>sda</primary-disk><source type="local"/>
<admin-interface name="eth0" proto="static"><ipaddr>192.0.2.10</ipaddr><subnet>24</subnet></admin-interface>
<ntp source="dhcp"/></installation>""")
    assert cfg.ntp.mode.value == "dhcp"
    assert any("<ntp source=\"dhcp\">: the management interface gets no DHCP lease" in w.message
               for w in report.warnings)


def test_a_password_with_a_control_character_is_refused():
    with pytest.raises(ConfigError) as exc:
        parse_text("""<installation><primary-disk>sda</primary-disk><source type="local"/>
<root-password>line&#10;break-secret</root-password><admin-interface name="eth0" proto="dhcp"/></installation>""")
    [d] = exc.value.diagnostics
    assert "the password holds a control character" in d.message and "break-secret" not in str(exc.value)


@pytest.mark.parametrize("server,why", [("ntp.example.com:123", "without a port"),
                                        ("http://ntp.example.com", "not a URL")])
def test_an_ntp_server_with_a_port_or_a_scheme_is_named_for_what_it_is(server, why):
    with pytest.raises(ConfigError, match=f"expected a host name or IP address,? {why}"):
        parse_text(doc(IFACE + f"  <ntp-server>{server}</ntp-server>\n"))
