"""What we build and install: the product's identity (brand, version, Debian and Xen versions).
The image build writes the same values into the product tree's .treeinfo and the host's inventory."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    brand: str = "Xenhost"
    name: str = "xenhost"
    version: str = "0.1.0"
    build: str = "dev"
    platform_name: str = "Debian"
    platform_version: str = "13"
    xen_version: str = "4.20"
    network_backend_default: str = "bridge"


DEFAULT = Product()
