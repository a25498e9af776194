"""Request and event counters for ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

import time
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Request counters and latency histograms per route, plus named event counters."""

    def __init__(self) -> None:
        self.started = time.time()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.events: dict[str, int] = defaultdict(int)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests[(route, method, status)] += 1
        counts = self.latency[route]
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                counts[i] += 1
        counts[-1] += 1
        self.latency_sum[route] += seconds

    def inc(self, name: str, amount: int = 1) -> None:
        """Count an event, e.g. ``referrals_submitted`` (exported as samverkan_<name>_total)."""
        self.events[name] += amount

    def render(self) -> str:
        lines = [
            "# HELP samverkan_http_requests_total HTTP requests by route, method and status.",
            "# TYPE samverkan_http_requests_total counter",
        ]
        for (route, method, status), n in sorted(self.requests.items()):
            lines.append(
                f'samverkan_http_requests_total{{route="{route}",method="{method}",status="{status}"}} {n}'
            )
        lines += [
            "# HELP samverkan_http_request_duration_seconds Request latency by route.",
            "# TYPE samverkan_http_request_duration_seconds histogram",
        ]
        for route, counts in sorted(self.latency.items()):
            for bound, n in zip(BUCKETS, counts, strict=False):
                lines.append(
                    f'samverkan_http_request_duration_seconds_bucket{{route="{route}",le="{bound}"}} {n}'
                )
            lines.append(
                f'samverkan_http_request_duration_seconds_bucket{{route="{route}",le="+Inf"}} {counts[-1]}'
            )
            lines.append(
                f'samverkan_http_request_duration_seconds_sum{{route="{route}"}} {self.latency_sum[route]:.6f}'
            )
            lines.append(
                f'samverkan_http_request_duration_seconds_count{{route="{route}"}} {counts[-1]}'
            )
        for name, n in sorted(self.events.items()):
            lines += [f"# TYPE samverkan_{name}_total counter", f"samverkan_{name}_total {n}"]
        lines += [
            "# TYPE samverkan_process_start_time_seconds gauge",
            f"samverkan_process_start_time_seconds {self.started:.0f}",
        ]
        return "\n".join(lines) + "\n"
