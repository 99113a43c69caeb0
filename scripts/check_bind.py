"""Checks that ``make run`` can listen on SOCIALOPS_BIND before it starts.

Prints a clear message and exits non-zero when the address is malformed or
already in use, so a busy port never looks like a successful start."""

import socket
import sys


def main(value: str) -> int:
    host, sep, port_text = value.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        print(f"SOCIALOPS_BIND={value!r} is not HOST:PORT (for example 127.0.0.1:8000).", file=sys.stderr)
        return 2
    host = host.strip("[]")
    port = int(port_text)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the server itself does: a port whose last connections are still in TIME_WAIT (a restart a
        # moment after Ctrl-C) is free to serve on; only a port someone is listening on is taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            print(
                f"Cannot serve on {host}:{port}: {error.strerror or error}. "
                f"Another program is probably using it: stop it, or choose another address, "
                f"for example `SOCIALOPS_BIND=127.0.0.1:8001 make run`.",
                file=sys.stderr,
            )
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8000"))
