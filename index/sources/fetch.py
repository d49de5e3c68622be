"""Fetching a web page for indexing, safely: a link an admin sends may point anywhere.

Only http(s); the host is resolved here and every address it resolves to must be public — not
loopback, private, link-local (cloud metadata at 169.254.169.254), multicast, reserved or
unspecified, for IPv4 and IPv6 alike, whatever the spelling (2130706433, 0177.0.0.1,
[::ffff:127.0.0.1] all resolve to 127.0.0.1 and are refused). The connection then goes to the
address that was checked, not to a second lookup, so a name cannot change its answer in between.
Each redirect is checked the same way (at most MAX_REDIRECTS), and one deadline bounds the whole
fetch, not each read, so a server trickling bytes cannot hold the caller.
"""
from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

MAX_REDIRECTS = 5
USER_AGENT = "article-qa/0.1"


class FetchError(Exception):
    """The page cannot or may not be fetched; the message says why in one line."""


@dataclass(frozen=True)
class FetchLimits:
    seconds: float = 30              # for the whole fetch, redirects included
    max_bytes: int = 20 * 2**20
    allow_private: bool = False      # let links reach this machine and its network (tests, intranets)


def fetch(url: str, limits: FetchLimits = FetchLimits()) -> tuple[bytes, str | None]:
    """The body of the page at `url` and the charset its Content-Type names (or None), following up
    to MAX_REDIRECTS checked redirects."""
    deadline = time.monotonic() + limits.seconds
    for _ in range(MAX_REDIRECTS + 1):
        status, location, body, charset = _get(url, limits, deadline)
        if location is None:
            if status >= 400:
                raise FetchError(f"{url}: the server answered {status}")
            return body, charset
        url = urljoin(url, location)
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")


def _get(url: str, limits: FetchLimits, deadline: float) -> tuple[int, str | None, bytes, str | None]:
    """One request: (status, redirect location or None, body, charset)."""
    import http.client   # here, not above: a process that only answers questions never fetches (11 ms)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"{url}: only http and https links can be fetched")
    try:
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchError(f"{url}: not a valid address") from None
    if not host:
        raise FetchError(f"{url}: the link has no host")
    address = _checked_address(host, port, limits.allow_private)
    connection = _connection(parts.scheme, host, port, address, _left(deadline, url))
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*"})
        response = connection.getresponse()
        if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
            return response.status, response.getheader("Location"), b"", None
        body = _read_body(response, url, limits.max_bytes, deadline)
        return response.status, None, body, response.headers.get_content_charset()
    except (OSError, http.client.HTTPException) as exc:
        if time.monotonic() >= deadline:
            raise FetchError(f"{url}: took longer than {limits.seconds:g} s") from None
        raise FetchError(f"{url} cannot be fetched: {exc or type(exc).__name__}") from None
    finally:
        connection.close()


def _checked_address(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to; every address the host resolves to must be public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"{host}: no such host ({exc})") from None
    addresses = [info[4][0] for info in infos]
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise FetchError(f"{host} is a private or local address ({address}); links may only "
                                 f"point to public sites (sources.allow_private_urls allows others)")
    return addresses[0]


def is_public(address: str) -> bool:
    """Whether an IP address belongs to the public internet. An IPv6 address that carries an IPv4
    one (IPv4-mapped, 6to4, Teredo) is judged by that one too."""
    ip = ipaddress.ip_address(address.split("%")[0])
    inner = []
    if isinstance(ip, ipaddress.IPv6Address):
        inner = [a for a in (ip.ipv4_mapped, ip.sixtofour, ip.teredo and ip.teredo[1]) if a]
    return all(a.is_global and not (a.is_multicast or a.is_reserved or a.is_loopback or a.is_link_local
                                    or a.is_private or a.is_unspecified)
               for a in [ip, *inner])


def _connection(scheme: str, host: str, port: int, address: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to `address` that speaks to `host` (Host header, TLS name and certificate)."""
    import http.client
    import ssl
    if scheme == "https":
        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection._create_connection = lambda _, t, source: socket.create_connection((address, port), t, source)
    return connection


def _read_body(response: http.client.HTTPResponse, url: str, max_bytes: int, deadline: float) -> bytes:
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{url} is larger than {max_bytes // 2**20} MB")
    chunks, size = [], 0
    while True:
        if response.fp is not None and response.fp.raw is not None:
            _set_timeout(response, _left(deadline, url))
        chunk = response.read1(65536)   # what has arrived, so the deadline is checked between reads
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{url} is larger than {max_bytes // 2**20} MB")
        chunks.append(chunk)
        _left(deadline, url)


def _set_timeout(response: http.client.HTTPResponse, seconds: float) -> None:
    sock = getattr(response.fp.raw, "_sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def _left(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"{url}: the fetch took too long")
    return left
