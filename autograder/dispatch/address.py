"""The command line's cluster arguments, checked before anything connects.

Light on purpose: ``autograder grade --cluster ...`` parses its arguments
without importing Dask.
"""

from __future__ import annotations

import re

_LOCAL = re.compile(r"local(?::(\d+))?")


def parse_cluster(spec: str) -> int | None:
    """``"local"`` or ``"local:N"``: the number of local Dask workers (None: one per core).

    Raises
    ------
    ValueError
        Anything else, or N < 1.

    >>> parse_cluster("local:2"), parse_cluster("local")
    (2, None)
    """
    m = _LOCAL.fullmatch(spec.strip()) if isinstance(spec, str) else None
    if m is None or (m.group(1) is not None and int(m.group(1)) < 1):
        raise ValueError(f"--cluster expects 'local' or 'local:N' with N >= 1 workers, "
                         f"got {spec!r}")
    return int(m.group(1)) if m.group(1) else None


def scheduler_address(address: str) -> str:
    """A scheduler address, checked: ``tcp://host:port`` (the scheme may be left out).

    Raises
    ------
    ValueError
        Not an address a Dask client can connect to.

    >>> scheduler_address("10.0.0.5:8786")
    'tcp://10.0.0.5:8786'
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    text = address.strip() if isinstance(address, str) else ""
    if "://" not in text:
        text = "tcp://" + text
    try:
        scheme, location = parse_address(text)
        if scheme not in ("tcp", "tls"):
            raise ValueError(f"the scheme {scheme!r} is not tcp or tls")
        host, port = parse_host_port(location)
        if not host or not 0 < int(port) < 65536:
            raise ValueError("a host and a port are needed")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"--scheduler expects a Dask scheduler address such as "
                         f"tcp://host:8786, got {address!r} ({exc})") from None
    return text
