"""Compact output schemas: parsing 1,000 records against ``json.loads`` on the same data, same run.

Run: pytest benchmarks/bench_schema.py --benchmark-enable. Compare within each group:

* ``parse-1000``: ``CompactSchema.parse(validate=False)`` (delimited, toon) against ``json.loads`` of
  the same records as minified JSON. Target: delimited within 3x of ``json.loads``.
* ``parse-1000-quoted``: the same with most notes holding the delimiter (JSON-quoted in the answer).
* ``parse-validate-1000``: ``parse`` with jsonschema validation against ``json.loads`` + the same
  jsonschema validation (what a JSON pipeline pays for validated output).
* ``encode-1000``: ``encode(validate=False)`` against ``json.dumps`` (encode also decodes its output
  again to prove the round trip, so it costs about a parse more).
* ``compile``: ``compact_schema(format="auto")`` (renders, measures three formats on generated
  instances) against ``json.dumps(schema)`` plus counting its tokens.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from promptslim import compact_schema, get_tokenizer
from promptslim.schema_formats import JsonMinFormat

SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "score": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "status": {"enum": ["open", "closed", "pending"]},
            "note": {"type": ["string", "null"]},
        },
        "required": ["id", "name", "score", "tags", "status"],
    },
}
WORDS = ["alpha", "river", "green", "market", "delivery", "quality", "north", "review"]


def _records(n: int = 1000, escapes: bool = False) -> list[dict[str, Any]]:
    """Six-field records; with ``escapes`` most notes hold the delimiter, so they must be quoted."""
    out = []
    for i in range(n):
        row: dict[str, Any] = {"id": i, "name": f"{WORDS[i % 8]} {WORDS[(i * 3) % 8]}", "score": round(i / 7, 3),
                               "tags": [WORDS[(i + k) % 8] for k in range(i % 3)],
                               "status": ("open", "closed", "pending")[i % 3]}
        if i % 4:
            sep = ", see | " if escapes else " about "
            row["note"] = None if i % 5 == 0 else f"note {i}{sep}{WORDS[i % 8]}"
        out.append(row)
    return out


RECORDS = _records()
JSON_TEXT = JsonMinFormat().encode(RECORDS)
QUOTED = _records(escapes=True)
QUOTED_JSON = JsonMinFormat().encode(QUOTED)


@pytest.fixture(scope="module")
def delimited():
    cs = compact_schema(SCHEMA, "delimited")
    return cs, cs.encode(RECORDS)


@pytest.fixture(scope="module")
def toon():
    cs = compact_schema(SCHEMA, "toon")
    return cs, cs.encode(RECORDS)


@pytest.mark.benchmark(group="parse-1000")
def test_json_loads_baseline(benchmark) -> None:
    assert benchmark(json.loads, JSON_TEXT) == RECORDS


@pytest.mark.benchmark(group="parse-1000")
def test_parse_delimited(benchmark, delimited) -> None:
    cs, text = delimited
    assert benchmark(cs.parse, text, validate=False) == RECORDS


@pytest.mark.benchmark(group="parse-1000-quoted")
def test_json_loads_quoted_baseline(benchmark) -> None:
    assert benchmark(json.loads, QUOTED_JSON) == QUOTED


@pytest.mark.benchmark(group="parse-1000-quoted")
def test_parse_delimited_quoted(benchmark) -> None:
    cs = compact_schema(SCHEMA, "delimited")
    text = cs.encode(QUOTED)
    assert text.count('"') > 1000  # most notes are JSON-quoted: the slow scanner path
    assert benchmark(cs.parse, text, validate=False) == QUOTED


@pytest.mark.benchmark(group="parse-1000")
def test_parse_toon(benchmark, toon) -> None:
    cs, text = toon
    assert benchmark(cs.parse, text, validate=False) == RECORDS


@pytest.mark.benchmark(group="parse-validate-1000")
def test_json_loads_validate_baseline(benchmark) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(SCHEMA)

    def run() -> Any:
        data = json.loads(JSON_TEXT)
        validator.validate(data)
        return data

    assert benchmark(run) == RECORDS


@pytest.mark.benchmark(group="parse-validate-1000")
def test_parse_delimited_validate(benchmark, delimited) -> None:
    cs, text = delimited
    assert benchmark(cs.parse, text) == RECORDS


@pytest.mark.benchmark(group="encode-1000")
def test_json_dumps_baseline(benchmark) -> None:
    assert benchmark(JsonMinFormat().encode, RECORDS) == JSON_TEXT


@pytest.mark.benchmark(group="encode-1000")
def test_encode_delimited(benchmark, delimited) -> None:
    cs, text = delimited
    assert benchmark(cs.encode, RECORDS, validate=False) == text


@pytest.mark.benchmark(group="compile")
def test_schema_json_count_baseline(benchmark) -> None:
    tok = get_tokenizer()
    assert benchmark(lambda: tok.count(json.dumps(SCHEMA))) > 50


@pytest.mark.benchmark(group="compile")
def test_compact_schema_auto(benchmark) -> None:
    assert benchmark(compact_schema, SCHEMA).format == "delimited"
