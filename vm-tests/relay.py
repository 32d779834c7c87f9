#!/usr/bin/env python3
"""stdin/stdout <-> TCP relay, for QEMU guestfwd=...-cmd: (one process per guest connection).

A guest on restrict=on user networking reaches a service on this machine's 127.0.0.1 only through
such a forward; `-tcp:` targets would connect once at QEMU start and serve a single connection.
usage: relay.py HOST PORT
"""
import os
import selectors
import socket
import sys


def main() -> int:
    sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ, "in")
    sel.register(sock, selectors.EVENT_READ, "sock")
    while True:
        for key, _ in sel.select():
            if key.data == "in":
                data = os.read(0, 65536)
                if not data:
                    sock.shutdown(socket.SHUT_WR)
                    sel.unregister(0)
                    continue
                sock.sendall(data)
            else:
                data = sock.recv(65536)
                if not data:
                    return 0
                os.write(1, data)


if __name__ == "__main__":
    sys.exit(main())
