"""The answer file's network: <admin-interface> with its IPv4 and IPv6 settings, <ntp> and its
servers, <network-backend>."""
from __future__ import annotations

from . import values
from .answerfile_reader import Reader
from .answerfile_xcpng import OLD_NETWORK_BACKENDS
from .config import (IPv4Config, IPv4Mode, IPv6Config, IPv6Mode, ManagementInterface, NetworkBackend,
                     NTPConfig, NTPMode)
from .xmlsafe import Node


def interface(r: Reader, node: Node) -> ManagementInterface:
    iface = ManagementInterface(
        name=r.value(node, ("name",), values.interface_name),
        mac=r.value(node, ("hwaddr",), values.mac_address),
        vlan=r.value(node, ("vlan",), values.vlan))
    if not any(node.attrs[a].value.strip() for a in ("name", "hwaddr") if a in node.attrs):
        r.err(node, "<admin-interface> needs a 'name' (e.g. eth0) or 'hwaddr' (MAC) attribute")
    proto = r.value(node, ("proto",), lambda v: values.choice(v, ("dhcp", "static", "none"),
                                                              "proto"), required=True)
    protov6 = r.value(node, ("protov6",), lambda v: values.choice(
        v, ("dhcp", "static", "autoconf", "none"), "protov6"), "none")
    ipaddr, subnet, gateway = (r.one(node, "ipaddr", "ip"), r.one(node, "subnet", "subnet-mask"),
                               r.one(node, "gateway"))
    if proto == "static":
        iface.ipv4 = static_ipv4(r, node, ipaddr, subnet, gateway)
    else:
        for extra in (ipaddr, subnet, gateway):   # XCP-ng ignores them: proto decides
            if extra is not None:
                r.report.warning(f"<{extra.tag}> is ignored: proto=\"{proto}\" (it is used "
                                 "only with proto=\"static\")", extra.line, extra.column)
        iface.ipv4 = IPv4Config(mode=IPv4Mode(proto or "dhcp"))
    ipv6, gw6 = r.one(node, "ipv6"), r.one(node, "gatewayv6")
    if protov6 == "static":
        iface.ipv6 = static_ipv6(r, node, ipv6, gw6)
    else:
        for extra in (ipv6, gw6):
            if extra is not None:
                r.report.warning(f"<{extra.tag}> is ignored: protov6=\"{protov6}\" (it is used "
                                 "only with protov6=\"static\")", extra.line, extra.column)
        iface.ipv6 = IPv6Config(mode=IPv6Mode(protov6 or "none"))
    if proto == "none" and protov6 in ("none", None):
        r.err(node, "<admin-interface> must configure IPv4 or IPv6 (proto and protov6 are "
              "both none)")
    return iface


def static_ipv4(r: Reader, node: Node, ipaddr: Node | None, subnet: Node | None,
                gateway: Node | None) -> IPv4Config:
    if ipaddr is None or subnet is None:
        r.err(node, "proto=\"static\" needs <ipaddr> and <subnet> (netmask) elements")
        return IPv4Config(mode=IPv4Mode.STATIC)
    addr = r.text(ipaddr, values.ipv4_address, "an IPv4 address")
    prefix = r.text(subnet, values.ipv4_prefix, "a netmask like 255.255.255.0")
    cfg = IPv4Config(mode=IPv4Mode.STATIC)
    if addr is None or prefix is None:
        return cfg
    try:
        iface = values.ipv4_interface(addr, prefix)
    except ValueError as exc:
        r.report.error(f"<{ipaddr.tag}>: {exc}", ipaddr.text_line, ipaddr.text_column)
        return cfg
    cfg.address = str(iface)
    if gateway is not None and gateway.stripped_text():
        gw = r.text(gateway, values.ipv4_address, "an IPv4 address")
        if gw is not None:
            try:
                values.gateway_in(gw, iface)
                cfg.gateway = str(gw)
            except ValueError as exc:
                r.report.error(f"<gateway>: {exc}", gateway.text_line, gateway.text_column)
    return cfg


def static_ipv6(r: Reader, node: Node, ipv6: Node | None, gw6: Node | None) -> IPv6Config:
    cfg = IPv6Config(mode=IPv6Mode.STATIC)
    if ipv6 is None:
        r.err(node, "protov6=\"static\" needs an <ipv6> element (address/prefix)")
        return cfg
    iface = r.text(ipv6, values.ipv6_interface, "an IPv6 address with prefix")
    if iface is None:
        return cfg
    cfg.address = str(iface)
    if gw6 is not None:
        gw = r.text(gw6, values.ipv6_address, "an IPv6 address")
        if gw is not None:
            if not gw.is_link_local:
                try:
                    values.gateway_in(gw, iface)
                except ValueError as exc:
                    r.report.error(f"<gatewayv6>: {exc}", gw6.text_line, gw6.text_column)
                    return cfg
            cfg.gateway = str(gw)
    if iface.network.prefixlen == 128 and cfg.gateway is None:
        r.report.error(f"<ipv6>: {iface} is a single address with no gateway: the host could "
                       "reach nothing; give the subnet's prefix length or a <gatewayv6>",
                       ipv6.text_line, ipv6.text_column)
    return cfg


def name_servers(r: Reader) -> list[str]:
    return [str(s) for s in r.texts(r.root, ("name-server", "nameserver"), values.name_server,
                                    "a name server IP address")]


def ntp(r: Reader, interface: ManagementInterface | None) -> NTPConfig:
    node = r.one(r.root, "ntp")
    server_nodes = r.children(r.root, "ntp-server", "ntp-servers")
    servers = [s for s in (r.text(n, values.host_or_ip, "an NTP server") for n in server_nodes) if s]
    if node is None:
        if server_nodes:
            return NTPConfig(NTPMode.MANUAL, servers)
        dhcp = interface is not None and interface.ipv4.mode == IPv4Mode.DHCP
        return NTPConfig(NTPMode.DHCP if dhcp else NTPMode.DEFAULT)
    mode = r.value(node, ("source",), lambda v: NTPMode(values.choice(
        v, tuple(m.value for m in NTPMode), "source")), required=True)
    if mode == NTPMode.MANUAL and not server_nodes:
        r.err(node, "<ntp source=\"manual\"> needs at least one <ntp-server>")
    if mode == NTPMode.DHCP and (interface is None or interface.ipv4.mode != IPv4Mode.DHCP):
        r.report.warning("<ntp source=\"dhcp\">: the management interface gets no DHCP lease "
                         "(its IPv4 is not proto=\"dhcp\"), so the host has no time source; "
                         "use source=\"manual\" with <ntp-server> or source=\"default\"",
                         node.line, node.column)
    if mode not in (NTPMode.MANUAL, None) and server_nodes:
        r.err(server_nodes[0], f"<{server_nodes[0].tag}> is only allowed with "
              "<ntp source=\"manual\"> (or without <ntp>)")
    return NTPConfig(mode or NTPMode.DEFAULT, servers if mode == NTPMode.MANUAL else [])


def network_backend(r: Reader, node: Node) -> NetworkBackend | None:
    text = r.text(node, None, "bridge or openvswitch")
    if text in OLD_NETWORK_BACKENDS:
        new = OLD_NETWORK_BACKENDS[text]
        r.report.warning(f"<network-backend> '{text}' is an old spelling of '{new.value}'",
                         node.text_line, node.text_column)
        return new
    if text is None:
        return None
    try:
        return NetworkBackend(values.choice(text, ("bridge", "openvswitch"), "<network-backend>"))
    except ValueError as exc:
        r.report.error(str(exc), node.text_line, node.text_column)
        return None
