"""PromQL, just enough to find the metric names of an expression and to strip an alert
rule's thresholds (see tests/integration/test_dashboards_prometheus.py)."""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_:][\w:]*)
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^<>=(){},])
""",
    re.VERBOSE,
)
Token = tuple[str, str]
AGGREGATIONS = set("sum min max avg group stddev stdvar count count_values bottomk topk".split())
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "quantile"}
KEYWORDS |= AGGREGATIONS | GROUPING
COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}


def lex(expr: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if match is None:
            raise ValueError(f"cannot read PromQL at {expr[pos : pos + 30]!r} in {expr!r}")
        tokens.append((str(match.lastgroup), match.group()))
        pos = match.end()
    return tokens


def _closing(tokens: list[Token], start: int) -> int:
    """The index of the parenthesis that closes the one at ``start``."""
    depth = 0
    for i in range(start, len(tokens)):
        depth += {"(": 1, ")": -1}.get(tokens[i][1], 0)
        if depth == 0:
            return i
    raise ValueError("unbalanced parentheses")


def _solid(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if t[0] != "space"]


def metric_names(expr: str) -> set[str]:
    tokens = _solid(lex(expr))
    names: set[str] = set()
    braces, i = 0, 0
    while i < len(tokens):
        kind, text = tokens[i]
        following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        braces += {"{": 1, "}": -1}.get(text, 0)
        if braces == 0 and kind == "name":
            if text in GROUPING and following == "(":
                i = _closing(tokens, i + 1)  # label names, not metrics
            elif text not in KEYWORDS and following != "(":
                names.add(text)
        i += 1
    return names


def _split_top(tokens: list[Token], words: set[str]) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(token[1], 0)
        if depth == 0 and token[0] == "name" and token[1] in words:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _strip_comparison(tokens: list[Token]) -> list[Token]:
    solid = _solid(tokens)
    if solid and solid[0][1] == "(" and _closing(solid, 0) == len(solid) - 1:
        first, last = tokens.index(solid[0]), len(tokens) - 1 - tokens[::-1].index(solid[-1])
        return _strip_comparison(tokens[first + 1 : last])
    depth, last_comparison = 0, None
    for i, (_, text) in enumerate(tokens):
        depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(text, 0)
        if depth == 0 and text in COMPARISONS:
            last_comparison = i
    if last_comparison is None:
        return tokens
    right = [t for t in _solid(tokens[last_comparison + 1 :]) if t[1] != "bool"]
    if [kind for kind, _ in right] not in (["number"], ["op", "number"]):
        return tokens  # compares two vectors: both sides are the data, keep it whole
    return _strip_comparison(tokens[:last_comparison])


def strip_thresholds(expr: str) -> list[str]:
    """The queries under an alert's conditions: one per and/or/unless operand, each without
    its comparison against a number."""
    queries = []
    for operand in _split_top(lex(expr), {"and", "or", "unless"}):
        solid = _solid(operand)
        if solid and solid[0][1] in ("on", "ignoring"):
            start = operand.index(solid[0])
            operand = operand[_closing(operand, operand.index(solid[1], start)) + 1 :]
        queries.append("".join(text for _, text in _strip_comparison(operand)).strip())
    return queries


# --- what the repository holds ----------------------------------------------------------------
