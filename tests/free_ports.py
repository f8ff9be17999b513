#!/usr/bin/env python3
"""Distinct free loopback TCP ports for the test and benchmark harnesses (shell scripts run it, the Python suite
imports it). The ports are bound together and released together: one bind to port 0 after another may get the
same port back, and a daemon refuses one address for two sockets. Never fixed numbers.

    python3 tests/free_ports.py COUNT     prints COUNT ports on one line, separated by spaces
"""

import socket
import sys


def free_ports(count: int) -> list:
    """`count` distinct loopback ports that were free a moment ago."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: free_ports.py COUNT")
    print(*free_ports(int(sys.argv[1])))
