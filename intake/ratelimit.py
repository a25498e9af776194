"""Rate limits for the public referral form, per client address, kept in this process.

A sliding window: an address may make ``limit`` attempts within ``window`` seconds. The
counts live in memory, so each server process counts on its own and a restart forgets them;
that is enough to stop a script flooding the form, and needs no extra service. With several
processes behind a load balancer the effective limit is ``limit`` × processes.

The client address is the TCP peer (``request.remote``). ``X-Forwarded-For`` is read only when
the peer is one of the configured ``trusted_proxies`` (a reverse proxy in front of the
service); otherwise anyone could claim any address with that header.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from aiohttp import web

#: At most this many addresses are tracked; the least recently seen are forgotten first.
MAX_TRACKED = 10_000


@dataclass
class RateLimiter:
    """At most ``limit`` attempts per key within ``window`` seconds."""

    limit: int
    window: float
    clock: Callable[[], float] = time.monotonic
    #: Each key's attempts in the window, oldest first: tuples of floats, which the garbage
    #: collector stops tracking, so thousands of addresses cost its full collections nothing.
    _seen: OrderedDict[str, tuple[float, ...]] = field(default_factory=OrderedDict, repr=False)

    def attempt(self, key: str) -> float:
        """Count an attempt by ``key``: 0 when allowed, else the seconds until the next one is."""
        now = self.clock()
        since = now - self.window
        times = tuple(at for at in self._seen.pop(key, ()) if at > since)
        if len(times) >= self.limit:
            self._seen[key] = times
            return max(times[0] + self.window - now, 1.0)
        self._seen[key] = (*times, now)
        while len(self._seen) > MAX_TRACKED:
            self._seen.popitem(last=False)
        return 0.0


@dataclass(frozen=True)
class ReferralLimits:
    """The referral form's limits: any POST to the form, and new referrals stored."""

    posts: RateLimiter
    submissions: RateLimiter
    trusted_proxies: frozenset[str] = frozenset()

    @classmethod
    def per_hour(cls, referrals: int, *, trusted_proxies: Collection[str] = ()) -> ReferralLimits:
        """``referrals`` new referrals an hour per address, and ten form steps for each."""
        return cls(
            posts=RateLimiter(limit=referrals * 10, window=3600),
            submissions=RateLimiter(limit=referrals, window=3600),
            trusted_proxies=frozenset(trusted_proxies),
        )


REFERRAL_LIMITS = web.AppKey("referral_limits", ReferralLimits)


def client_address(request: web.Request, trusted_proxies: Collection[str] = ()) -> str:
    """The client's address: the peer, or the nearest untrusted ``X-Forwarded-For`` hop."""
    peer = request.remote or "unknown"
    if peer not in trusted_proxies:
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if hop not in trusted_proxies:
            return hop
    return peer
