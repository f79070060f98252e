"""deploy/grafana/nomic-serve.json against the server: every metric name its PromQL reads is
one the server exports (read from an in-process server's own registry after one request of
each kind), and the dashboard is well formed. Whether each expression is valid PromQL is
checked through a real Prometheus in tests/e2e/test_prometheus.py."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..support.dashboard import (
    Selector,
    expressions,
    for_prometheus,
    load,
    metric_names,
    panels,
    selectors,
)
from .conftest import ONE_SESSION, serving

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
INSTANCE = 'instance=~"$instance"'
# The sample names prometheus_client exposes for a family, by type (text format 0.0.4).
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "unknown": ("",),
}


# --- the extractor, on literal expressions -------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            "histogram_quantile(0.99, sum by (le, method) (rate("
            'nomic_serve_request_duration_seconds_bucket{instance=~"$instance", method!="a{b}"}'
            "[$__rate_interval])))",
            {"nomic_serve_request_duration_seconds_bucket"},
        ),
        (
            '(sum by (method) (rate(a_total{code!="OK"}[5m])) or sum without (code) '
            "(rate(a_total[1m30s])) * 0) / on (method) group_left (kind) "
            "sum(increase(b:c_total[$__rate_interval] offset 5m)) > bool 1e3 unless Inf",
            {"a_total", "b:c_total"},
        ),
        (
            'label_replace(up{job="x", instance=~"$instance"}, "host", "$1", "instance", '
            '"(.*):(by|sum)") and count_values("rate", my_metric) unless absent(other) '
            "or max_over_time(gauge_x[10m:1m]) or SUM BY (le) (last)",
            {"up", "my_metric", "other", "gauge_x", "last"},
        ),
    ],
)
def test_the_extractor_finds_the_metric_names_and_nothing_else(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_the_extractor_keeps_each_selectors_matchers_and_refuses_what_is_not_promql() -> None:
    assert selectors('rate(x_total{a="}", b=~"$instance"}[1m]) / y') == [
        Selector("x_total", 'a="}", b=~"$instance"'),
        Selector("y", ""),
    ]
    with pytest.raises(ValueError, match="unknown function 'rat'"):
        selectors("rat(x_total[5m])")
    with pytest.raises(ValueError, match="unterminated string"):
        selectors('x{a="b}')
    with pytest.raises(ValueError, match="unbalanced"):
        selectors("sum(rate(x[5m])")


def test_expressions_come_from_nested_panels_and_label_values_queries() -> None:
    dashboard = {
        "panels": [
            {"title": "open", "targets": [{"refId": "A", "expr": "a"}]},
            {
                "type": "row",
                "title": "collapsed",
                "panels": [{"title": "inner", "targets": [{"refId": "B", "expr": "b"}]}],
            },
        ],
        "templating": {
            "list": [
                {"type": "datasource", "name": "datasource", "query": "prometheus"},
                {"type": "query", "name": "i", "query": {"query": "label_values(c, instance)"}},
                {"type": "query", "name": "j", "query": "label_values(job)"},
                {"type": "query", "name": "k", "query": "query_result(d)"},
            ]
        },
    }
    assert [found.expr for found in expressions(dashboard)] == ["a", "b", "c", "query_result(d)"]
    assert for_prometheus('rate(x{i=~"$instance"}[$__rate_interval])') == 'rate(x{i=~".*"}[1m])'
    with pytest.raises(ValueError, match="unknown Grafana variable"):
        for_prometheus('x{a=~"$nope"}')


# --- the dashboard -------------------------------------------------------------------------


def test_the_dashboard_is_well_formed() -> None:
    dashboard = load()
    assert dashboard["schemaVersion"] == 39
    assert (dashboard["uid"], dashboard["title"]) == ("nomic-serve", "nomic-serve")
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == (
        "datasource",
        "prometheus",
    )
    instance = variables["instance"]
    assert instance["datasource"] == DATASOURCE
    assert instance["multi"] and instance["includeAll"]

    every = list(panels(dashboard))
    ids = [panel["id"] for panel in every]
    assert len(ids) == len(set(ids)), sorted(ids)
    assert all(panel.get("title") for panel in every), [p for p in every if not p.get("title")]
    for panel in every:
        if panel["type"] == "row":
            continue
        assert panel["fieldConfig"]["defaults"].get("unit"), panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]

    # Laid out without overlap on Grafana's 24-column grid.
    boxes = [(panel["title"], panel["gridPos"]) for panel in every]
    for title, box in boxes:
        assert box["x"] >= 0 and box["w"] > 0 and box["x"] + box["w"] <= 24, title
    for index, (title, a) in enumerate(boxes):
        for other, b in boxes[index + 1 :]:
            apart = (
                a["x"] + a["w"] <= b["x"]
                or b["x"] + b["w"] <= a["x"]
                or a["y"] + a["h"] <= b["y"]
                or b["y"] + b["h"] <= a["y"]
            )
            assert apart, (title, other)

    # Every panel's selectors filter on $instance; every range is Grafana's $__rate_interval.
    for found in expressions(dashboard):
        if not found.in_panel:
            continue
        for selector in selectors(found.expr):
            assert INSTANCE in selector.matchers, (found.where, selector)
        ranges = [part.split("]")[0] for part in found.expr.split("[")[1:]]
        assert all(part == "$__rate_interval" for part in ranges), (found.where, ranges)


# --- against the server --------------------------------------------------------------------


def _png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (24, 24, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


async def test_every_metric_the_dashboard_reads_is_exported(tiny_model, vision_model) -> None:
    async with serving(
        tiny_model.model, vision=vision_model.model, cache_bytes=1 << 20, **ONE_SESSION
    ) as served:
        stub = served.stub
        await stub.Embed(pb.EmbedRequest(input="one text"))
        await stub.EmbedList(pb.EmbedListRequest(inputs=["a list", "of texts"]))
        await stub.ImageEmbed(pb.ImageEmbedRequest(data=_png(1)))
        await stub.ImageEmbedList(pb.ImageEmbedListRequest(data=[_png(2), _png(3)]))
        text = generate_latest(served.app.metrics.registry).decode()

    families = list(text_string_to_metric_families(text))
    sampled = {sample.name for family in families for sample in family.samples}
    # A labelled series exists once observed; its family (and so its names) always does.
    assert {"nomic_serve_requests_total", "nomic_serve_images_total"} <= sampled
    assert "nomic_serve_request_phase_seconds_bucket" in sampled
    exported = sampled | {
        family.name + suffix for family in families for suffix in SUFFIXES[family.type]
    }

    referenced = {
        name: found.where for found in expressions(load()) for name in metric_names(found.expr)
    }
    assert len(referenced) > 20, sorted(referenced)
    unknown = {name: where for name, where in referenced.items() if name not in exported}
    assert not unknown, f"not exported by the server: {unknown}"
