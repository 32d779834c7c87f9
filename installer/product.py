"""What we install. Issue-level note: the product tree's .treeinfo will provide these values; until
the product tree exists (image/), the Debian product's identity is defined here."""
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
