"""deploy/grafana/nomic-serve.json read as data: its panels (rows' nested panels included),
the PromQL of every panel target and templating query, and the metric names an expression
selects. Used by tests/integration/test_dashboard.py (names against the server's own
registry) and tests/e2e/test_prometheus.py (every expression through a real Prometheus)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DASHBOARD",
    "Expression",
    "Selector",
    "expressions",
    "for_prometheus",
    "load",
    "metric_names",
    "panels",
    "selectors",
]

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "nomic-serve.json"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# PromQL's functions (Prometheus 2.x and 3.x); a name followed by "(" must be one of them.
FUNCTIONS = _words(
    """
    abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes
    clamp clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year
    days_in_month deg delta deriv double_exponential_smoothing end exp floor histogram_avg
    histogram_count histogram_fraction histogram_quantile histogram_stddev histogram_stdvar
    histogram_sum holt_winters hour idelta increase info irate label_join label_replace
    last_over_time ln log10 log2 mad_over_time max_over_time min_over_time minute month pi
    predict_linear present_over_time quantile_over_time rad rate resets round scalar sgn sin
    sinh sort sort_by_label sort_by_label_desc sort_desc sqrt start stddev_over_time
    stdvar_over_time sum_over_time tan tanh time timestamp vector year
    """
)
# Aggregation operators and keywords: reserved words, case-insensitive in PromQL.
AGGREGATIONS = _words(
    """
    sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk
    limit_ratio
    """
)
# Keywords followed by a parenthesised list of label names (optional for the group_ ones).
LABEL_LISTS = _words("by without on ignoring group_left group_right")
KEYWORDS = LABEL_LISTS | _words("bool and or unless offset atan2 inf nan")

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
    | (?P<variable>\$\{[^}]*\}|\$\w+|\[\[\w+(?::\w+)?\]\])
    | (?P<number>(?:\d+(?:ms|[smhdwy]))+(?![\w:])
                |0[xX][0-9a-fA-F]+
                |(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_CLOSING = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Selector:
    """A vector selector: its metric name and the text between its braces ("" if none)."""

    metric: str
    matchers: str


@dataclass(frozen=True)
class Expression:
    """One PromQL expression of the dashboard, and where it came from."""

    where: str  # a panel's title and target refId, or a templating variable's name
    expr: str
    in_panel: bool  # False: a templating query


def load(path: Path = DASHBOARD) -> dict:
    return json.loads(path.read_text())


def panels(dashboard: dict) -> Iterator[dict]:
    """Every panel, rows included, with the panels nested in (collapsed) rows."""

    def walk(items: list[dict]) -> Iterator[dict]:
        for panel in items:
            yield panel
            yield from walk(panel.get("panels", []))

    yield from walk(dashboard.get("panels", []))


_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<expr>.*),\s*)?(?P<label>\w+)\s*\)\s*$")


def expressions(dashboard: dict) -> list[Expression]:
    """The PromQL of every panel target and of every templating query. A query variable's
    `label_values(selector, label)` contributes its selector (the part Prometheus runs)."""
    found = []
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            if "expr" in target:
                where = f"panel {panel.get('title')!r} target {target.get('refId')}"
                found.append(Expression(where, target["expr"], in_panel=True))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else query or ""
        where = f"variable ${variable.get('name')}"
        values = _LABEL_VALUES.match(text)
        if values is None:
            found.append(Expression(where, text, in_panel=False))
        elif values["expr"]:
            found.append(Expression(where, values["expr"], in_panel=False))
    return found


def _tokens(expr: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(expr):
        kind = match.lastgroup
        assert kind is not None
        if kind == "space":
            continue
        if kind == "other" and match.group() in "\"'`":
            raise ValueError(f"unterminated string at {match.start()} in {expr!r}")
        tokens.append(_Token(kind, match.group(), match.start(), match.end()))
    open_brackets: list[_Token] = []
    for token in tokens:
        if token.kind != "other":
            continue
        if token.text in _CLOSING:
            open_brackets.append(token)
            continue
        if token.text in _CLOSING.values():
            opened = open_brackets.pop() if open_brackets else None
            if opened is None or _CLOSING[opened.text] != token.text:
                raise ValueError(f"unbalanced {token.text!r} at {token.start} in {expr!r}")
    if open_brackets:
        raise ValueError(f"unbalanced {open_brackets[-1].text!r} in {expr!r}")
    return tokens


def _close(tokens: list[_Token], at: int, expr: str) -> int:
    """The index of the bracket closing the one at `at` (strings never count)."""
    opening = tokens[at].text
    depth = 0
    for index in range(at, len(tokens)):
        text = tokens[index].text if tokens[index].kind == "other" else ""
        if text == opening:
            depth += 1
        elif text == _CLOSING[opening]:
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced {opening!r} at {tokens[at].start} in {expr!r}")


def selectors(expr: str) -> list[Selector]:
    """The vector selectors `expr` names, in order. Skipped: strings, Grafana variables,
    numbers and durations, functions, aggregation operators and keywords, label matchers
    inside {...}, range and subquery brackets [...], and the label lists of by / without /
    on / ignoring / group_left / group_right. A call of an unknown function is an error."""
    tokens = _tokens(expr)
    found = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        opens = following.text if following is not None and following.kind == "other" else ""
        if token.kind == "other" and token.text in ("{", "["):
            # A selector without a metric name ({__name__=...}), or a range / subquery.
            index = _close(tokens, index, expr) + 1
            continue
        if token.kind != "name":
            index += 1
            continue
        word = token.text.lower()
        if word in LABEL_LISTS and opens == "(":
            index = _close(tokens, index + 1, expr) + 1
        elif word in KEYWORDS or word in AGGREGATIONS:
            index += 1
        elif opens == "(":
            if token.text not in FUNCTIONS:
                raise ValueError(f"unknown function {token.text!r} in {expr!r}")
            index += 1
        elif opens == "{":
            assert following is not None
            end = _close(tokens, index + 1, expr)
            matchers = expr[following.end : tokens[end].start].strip()
            found.append(Selector(token.text, matchers))
            index = end + 1
        else:
            found.append(Selector(token.text, ""))
            index += 1
    return found


def metric_names(expr: str) -> set[str]:
    return {selector.metric for selector in selectors(expr)}


# What Grafana substitutes, for an expression sent to Prometheus directly.
GRAFANA_VARIABLES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "instance": ".*",
    "datasource": "prometheus",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]")


def for_prometheus(expr: str) -> str:
    """`expr` with the Grafana variables replaced as Grafana would (all instances); an
    unknown variable is an error. `$1` and the like (label_replace's) are left alone."""

    def value(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group is not None)
        if name.isdigit():
            return match.group()
        if name not in GRAFANA_VARIABLES:
            raise ValueError(f"unknown Grafana variable {match.group()!r} in {expr!r}")
        return GRAFANA_VARIABLES[name]

    return _VARIABLE.sub(value, expr)
