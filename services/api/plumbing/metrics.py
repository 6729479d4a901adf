"""Prometheus metrics at /metrics: append counters, and log/relay lag read at scrape time."""
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy.exc import SQLAlchemyError

from events.relay import relay_lag
from projections import sales_projection as sales
from projections.runtime import checkpoints


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.appended = Counter("dealtrail_events_appended", "Events appended", ["type"],
                                registry=self.registry)
        self.rejected = Counter("dealtrail_events_rejected", "Appends rejected", ["code"],
                                registry=self.registry)
        # per route template (not raw path: bounded labels), observed by the access-log middleware
        self.requests = Histogram("dealtrail_http_request_seconds", "HTTP request duration",
                                  ["method", "route", "status"], registry=self.registry,
                                  buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self._request_children: dict[tuple[str, str, int], Histogram] = {}

    def request_seconds(self, method: str, route: str, status: int) -> Histogram:
        """The request histogram's child for these labels, kept (labels() takes a lock and
        formats the labels on every call)."""
        key = (method, route, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(method, route, str(status))
        return child


class LagCollector:
    def __init__(self, app: FastAPI):
        self.app = app

    def collect(self):
        try:
            with self.app.state.engine.connect() as conn:
                lag = relay_lag(conn)
                projection = checkpoints.lag(conn, sales.NAME)
        except (SQLAlchemyError, AttributeError):
            return
        for name, key, doc in (("dealtrail_log_head_position", "head_position", "Highest position"),
                               ("dealtrail_relay_position", "position", "Relay checkpoint"),
                               ("dealtrail_relay_events_behind", "events_behind", "Events not yet relayed"),
                               ("dealtrail_relay_seconds_behind", "seconds_behind", "Age of oldest unrelayed")):
            yield GaugeMetricFamily(name, doc, value=lag[key])
        for name, key, doc in (("dealtrail_projection_position", "position", "Projection watermark"),
                               ("dealtrail_projection_events_behind", "events_behind", "Events not yet applied"),
                               ("dealtrail_projection_errors", "errors", "Events a projection left out")):
            gauge = GaugeMetricFamily(name, doc, labels=["projection"])
            gauge.add_metric([projection["name"]], projection[key])
            yield gauge


class GroupCommitCollector:
    """How many transactions the single-event posts of this process took (group commit)."""

    def __init__(self, app: FastAPI):
        self.app = app

    def collect(self):
        appender = getattr(self.app.state, "appender", None)
        if appender is None:
            return
        stats = appender.stats
        yield CounterMetricFamily("dealtrail_append_groups", "Group-commit transactions", value=stats.groups)
        yield CounterMetricFamily("dealtrail_append_group_posts", "Single-event posts committed in groups",
                                  value=stats.requests)


def install(app: FastAPI) -> Metrics:
    metrics = Metrics()
    metrics.registry.register(LagCollector(app))
    metrics.registry.register(GroupCommitCollector(app))

    @app.get("/metrics", include_in_schema=False)
    def scrape() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
    return metrics
