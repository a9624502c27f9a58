"""The guard's counters, rendered in the Prometheus text exposition format (``GET /metrics``)."""

from __future__ import annotations

import bisect
import collections
from collections.abc import Sequence

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class Histogram:
    """Cumulative buckets, sum and count, as Prometheus histograms are."""

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def lines(self, name: str) -> list[str]:
        out, running = [], 0
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += n
            le = "+Inf" if bound == float("inf") else f"{bound:g}"
            out.append(f'{name}_bucket{{le="{le}"}} {running}')
        return [*out, f"{name}_sum {self.sum:.6f}", f"{name}_count {self.count}"]


class Metrics:
    """Counters the handlers bump; :meth:`render` is the ``/metrics`` body."""

    def __init__(self) -> None:
        self.requests: collections.Counter[str] = collections.Counter()
        self.candidates = 0
        self.overridden = 0
        self.upstream_errors = 0
        self.in_flight = 0
        self.latency = Histogram(LATENCY_BUCKETS)
        self.score = Histogram(SCORE_BUCKETS)

    def render(self) -> str:
        p = "safeforge_serve"
        lines = [
            f"# HELP {p}_requests_total Chat-completion requests answered, by HTTP status.",
            f"# TYPE {p}_requests_total counter",
            *(f'{p}_requests_total{{status="{s}"}} {n}' for s, n in sorted(self.requests.items())),
            f"# HELP {p}_candidates_total Candidates drawn from the upstream.",
            f"# TYPE {p}_candidates_total counter",
            f"{p}_candidates_total {self.candidates}",
            f"# HELP {p}_overridden_total Answers where the critic chose another than the first candidate.",
            f"# TYPE {p}_overridden_total counter",
            f"{p}_overridden_total {self.overridden}",
            f"# HELP {p}_upstream_errors_total Requests answered 502 because the upstream failed.",
            f"# TYPE {p}_upstream_errors_total counter",
            f"{p}_upstream_errors_total {self.upstream_errors}",
            f"# HELP {p}_in_flight Chat-completion requests being served now.",
            f"# TYPE {p}_in_flight gauge",
            f"{p}_in_flight {self.in_flight}",
            f"# HELP {p}_request_seconds Time to answer a chat-completion request.",
            f"# TYPE {p}_request_seconds histogram",
            *self.latency.lines(f"{p}_request_seconds"),
            f"# HELP {p}_chosen_score Critic score of the chosen candidate.",
            f"# TYPE {p}_chosen_score histogram",
            *self.score.lines(f"{p}_chosen_score"),
        ]
        return "\n".join(lines) + "\n"
