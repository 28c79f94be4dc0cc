"""No test depends on the outside world's DNS: names other than localhost fail at once, as they do on a machine
without a resolver, instead of waiting on one that stops answering (seen under the schema fuzzing's bursts of
made-up callback hosts: a lookup held the whole run for minutes). IP literals and localhost resolve as usual.
Tests that need a name to resolve to a given address patch socket.getaddrinfo themselves (tests/test_netguard.py).
"""

import ipaddress
import socket

import pytest

_real_getaddrinfo = socket.getaddrinfo


def _local(host) -> bool:
    if host is None:
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return True


def hermetic_getaddrinfo(host, *args, **kwargs):
    if _local(host):
        return _real_getaddrinfo(host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, f"Name or service not known ({host}: the tests resolve no public names)")


@pytest.fixture(autouse=True, scope="session")
def no_public_dns():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", hermetic_getaddrinfo)
        yield
