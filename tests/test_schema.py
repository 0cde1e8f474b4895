"""Compact output schemas: formats, round trips (hypothesis), tolerant parsing, errors, auto, fallbacks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import promptslim
from promptslim import CompactSchema, InputError, ParseError, PromptslimError, compact_schema
from promptslim.eval.metrics import roundtrip_exact
from promptslim.schema_formats import ToonFormat, extract_answer, same_value
from promptslim.schema_gen import generate_instance, representative_instances
from promptslim.schema_layout import Unsupported, analyze_layout
from promptslim.schema_render import render_type

FORMATS = ("delimited", "toon", "json-min")

REVIEW = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "aspect": {"type": "string", "description": "what the sentence is about"},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "tags": {"type": "array", "items": {"type": "string"}},
            "polarity": {"enum": ["pos", "neg", "neutral"]},
            "note": {"type": ["string", "null"]},
        },
        "required": ["aspect", "score", "tags", "polarity"],
    },
}
ROWS = [
    {"aspect": "price", "score": 0.87, "tags": ["quality", "delivery"], "polarity": "pos"},
    {"aspect": "a|b, \"c\"\nd", "score": 1.0, "tags": [], "polarity": "neg", "note": None},
    {"aspect": "null", "score": 0, "tags": ["x,y", ""], "polarity": "neutral", "note": "true"},
]


# --------------------------------------------------------------------------------------------
# basic API
# --------------------------------------------------------------------------------------------

def test_public_names_exported() -> None:
    assert promptslim.compact_schema is compact_schema and "compact_schema" in promptslim.__all__
    assert "CompactSchema" in promptslim.__all__


def test_delimited_example_matches_issue_style() -> None:
    cs = compact_schema(REVIEW, "delimited")
    assert isinstance(cs, CompactSchema) and cs.format == "delimited"
    assert cs.encode([ROWS[0]]) == "price|0.87|quality,delivery|pos|"
    lines = cs.instructions.splitlines()
    assert "separated by |" in lines[0]
    assert lines[1:6] == ["aspect: string // what the sentence is about", "score: number (>=0, <=1)",
                          "tags: string[]", 'polarity: "pos"|"neg"|"neutral"', "note?: string|null"]
    assert 'polarity: "pos"|"neg"|"neutral"' in cs.instructions
    assert "note?: string|null" in cs.instructions


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_round_trips_tricky_rows(fmt: str) -> None:
    cs = compact_schema(REVIEW, fmt)
    text = cs.encode(ROWS)
    back = cs.parse(text)
    assert roundtrip_exact(ROWS, back) == 1.0
    assert type(back[1]["score"]) is float and type(back[2]["score"]) is int


def test_delimited_escaping_is_json_quoting_only_where_needed() -> None:
    cs = compact_schema(REVIEW, "delimited")
    line = cs.encode([ROWS[1]])
    assert line == '"a|b, \\"c\\"\\nd"|1.0|[]|neg|null'
    assert "\n" not in line
    assert cs.encode([ROWS[2]]) == 'null|0|["x,y",""]|neutral|true'  # note is string|null: true is text


def test_auto_picks_delimited_for_flat_records_and_says_why() -> None:
    cs = compact_schema(REVIEW)
    assert cs.format == "delimited"
    [change] = [c for c in cs.changes if c.rule == "auto"]
    assert change.after == "delimited" and "json-min" in change.reason
    assert cs.measured["delimited"] < min(cs.measured["toon"], cs.measured["json-min"])


def test_output_is_deterministic() -> None:
    a, b = compact_schema(REVIEW), compact_schema(json.loads(json.dumps(REVIEW)))
    assert a.instructions == b.instructions and a.encode(ROWS) == b.encode(ROWS)
    assert generate_instance(REVIEW, 3) == generate_instance(REVIEW, 3)
    assert representative_instances(REVIEW) == representative_instances(REVIEW)


def test_savings_against_pretty_and_minified() -> None:
    rows = [generate_instance(REVIEW["items"], i) for i in range(20)]
    s = compact_schema(REVIEW).savings(rows)
    assert s.vs_pretty.before > s.vs_minified.before > s.vs_pretty.after == s.vs_minified.after
    tok = promptslim.get_tokenizer()
    assert s.vs_pretty.before == tok.count(json.dumps(rows, indent=2, ensure_ascii=False))
    assert s.vs_pretty.percent >= 40 and s.vs_minified.percent >= 10


def test_max_tokens_covers_a_typical_answer_and_grows_with_items() -> None:
    cs = compact_schema(REVIEW)
    small, big = cs.max_tokens(n_items=5), cs.max_tokens(n_items=50)
    assert big > small * 5
    rows = [generate_instance(REVIEW["items"], i) for i in range(50)]
    assert big >= cs.tokenizer.count(cs.encode(rows))
    with pytest.raises(InputError):
        cs.max_tokens(n_items=-1)


def test_result_reports_instruction_size_against_schema_json() -> None:
    cs = compact_schema(REVIEW)
    res = cs.result
    assert res.value == cs.instructions
    assert res.savings.before == cs.tokenizer.count(json.dumps(cs.schema))
    assert res.savings.after == cs.tokenizer.count(cs.instructions)


# --------------------------------------------------------------------------------------------
# tolerant parsing and errors
# --------------------------------------------------------------------------------------------

def test_parse_tolerates_fences_prose_header_spaces_and_crlf() -> None:
    cs = compact_schema(REVIEW, "delimited")
    text = ("Here are the results:\r\n```text\r\naspect|score|tags|polarity|note\r\n"
            " price | 0.87 | quality,delivery | pos |\r\nspeed|1|[]|neg|null|\r\n```\r\nHope this helps!")
    assert cs.parse(text) == [ROWS[0], {"aspect": "speed", "score": 1, "tags": [], "polarity": "neg",
                                        "note": None}]
    assert cs.parse("Sure.\nprice|0.5|a|pos|\nThanks") == [
        {"aspect": "price", "score": 0.5, "tags": ["a"], "polarity": "pos"}]


def test_parse_error_names_line_row_and_field() -> None:
    cs = compact_schema(REVIEW, "delimited")
    with pytest.raises(ParseError) as err:
        cs.parse("price|0.5|a|pos|\nspeed|fast|a|pos|")
    assert (err.value.line, err.value.row, err.value.field) == (2, 2, "score")
    with pytest.raises(ParseError) as err:
        cs.parse("```\nprice|0.5|a|pos|\nspeed|0.5\n```")
    assert (err.value.line, err.value.row) == (3, 2) and "expected 5 fields" in str(err.value)
    with pytest.raises(ParseError) as err:  # schema violation: enum
        cs.parse("price|0.5|a|pos|\nspeed|0.5|a|great|")
    assert (err.value.line, err.value.row, err.value.field) == (2, 2, "polarity")
    with pytest.raises(ParseError) as err:  # schema violation: maximum
        cs.parse("price|1.5|a|pos|")
    assert (err.value.row, err.value.field) == (1, "score") and "line 1" in str(err.value)


def test_toon_and_json_errors_name_the_line() -> None:
    with pytest.raises(ParseError) as err:
        compact_schema(REVIEW, "toon").parse('[2]{aspect,score,tags,polarity}:\n  a,1,x\n  b,2,"x')
    assert err.value.line is not None and err.value.line >= 2
    with pytest.raises(ParseError) as err:
        compact_schema(REVIEW, "json-min").parse('Answer:\n[{"aspect": "a",}]')
    assert err.value.line == 2
    with pytest.raises(ParseError) as err:
        compact_schema(REVIEW, "json-min").parse('[{"aspect":"a","score":2,"tags":[],"polarity":"pos"}]')
    assert (err.value.row, err.value.field) == (1, "score")


def test_json_min_parse_skips_prose_and_takes_the_longest_value() -> None:
    cs = compact_schema(REVIEW, "json-min")
    text = 'See [1] below:\n```json\n' + json.dumps(ROWS[:1], indent=2) + '\n```\nDone [2].'
    assert cs.parse(text) == ROWS[:1]
    assert cs.parse('As noted [1], the answer is ' + json.dumps(ROWS[:1]) + ' ok') == ROWS[:1]


def test_toon_parse_skips_prose_lines() -> None:
    cs = compact_schema(REVIEW, "toon")
    text = "Here you go:\n" + cs.encode(ROWS) + "\nLet me know if you need more."
    assert same_value(cs.parse(text), ROWS)


def test_extract_answer_uses_first_fence_and_its_line() -> None:
    assert extract_answer("a\n```json\n{}\n```\nb") == ("{}\n", 3)
    assert extract_answer("no fence") == ("no fence", 1)
    assert extract_answer("x\n~~~\n1|2") == ("1|2", 3)


def test_encode_rejects_invalid_data_and_undeclared_keys() -> None:
    cs = compact_schema(REVIEW, "delimited")
    with pytest.raises(InputError, match="score"):
        cs.encode([{"aspect": "a", "score": "high", "tags": [], "polarity": "pos"}])
    with pytest.raises(InputError, match="extra"):
        cs.encode([{**ROWS[0], "extra": 1}], validate=False)


def test_bad_arguments_raise_clear_errors() -> None:
    with pytest.raises(InputError, match="unknown format"):
        compact_schema(REVIEW, "yaml")
    with pytest.raises(InputError, match="delimiter"):
        compact_schema(REVIEW, delimiter=";")
    with pytest.raises(InputError, match="invalid JSON Schema at #/properties/a"):
        compact_schema({"type": "object", "properties": {"a": {"type": "strin"}}})
    with pytest.raises(InputError, match="not JSON"):
        compact_schema("{nope")
    with pytest.raises(InputError):
        compact_schema(42)


# --------------------------------------------------------------------------------------------
# fallbacks, normalization, pydantic, rendering
# --------------------------------------------------------------------------------------------

RECURSIVE = {"type": "object", "properties": {"name": {"type": "string"},
                                              "children": {"type": "array", "items": {"$ref": "#"}}},
             "required": ["name"]}
NESTED_LISTS = {"type": "array", "items": {"$ref": "#"}}  # recursion at the record level
PATTERN = {"type": "object", "patternProperties": {"^x-": {"type": "string"}}}
FREEFORM = {"type": "array", "items": {"type": "object"}}
FREEFORM_FIELD = {"type": "array", "items": {"type": "object", "properties": {
    "id": {"type": "integer"}, "meta": {"type": "object"}, "any": {},
    "pts": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "number"}}}}}}}


@pytest.mark.parametrize("schema,why", [(NESTED_LISTS, "recursive"), (PATTERN, "patternProperties"),
                                        (FREEFORM, "free-form object")])
def test_unsupported_constructs_fall_back_to_json_min_with_a_change(schema: dict[str, Any], why: str) -> None:
    cs = compact_schema(schema, "delimited")
    assert cs.format == "json-min"
    [change] = [c for c in cs.changes if c.kind == "fallback"]
    assert why in change.reason and change.after == "json-min"
    data = generate_instance(cs.schema, 1)
    assert same_value(cs.parse(cs.encode(data)), data)
    auto = compact_schema(schema)
    assert auto.format in ("toon", "json-min") and any(why in c.reason for c in auto.changes)


@pytest.mark.parametrize("schema,fields", [(RECURSIVE, {"children"}), (FREEFORM_FIELD, {"meta", "any", "pts"})])
def test_fields_without_fixed_shape_are_held_as_json_and_noted(schema: dict[str, Any], fields: set[str]) -> None:
    cs = compact_schema(schema, "delimited")
    assert cs.format == "delimited"
    assert {c.before for c in cs.changes if c.rule == "json-field"} == fields
    assert "minified JSON" in cs.instructions
    if schema is RECURSIVE:  # a field refers to a named type: its definition is listed too
        assert "children?: Answer[]" in cs.instructions and "type Answer = {" in cs.instructions
    for seed in range(4):
        data = generate_instance(cs.schema, seed)
        assert same_value(cs.parse(cs.encode(data)), data)
    if schema is FREEFORM_FIELD:
        row = {"id": 1, "meta": {"a|b": [1, {"c": None}]}, "any": "{x", "pts": [{"x": 1.0}]}
        text = cs.encode([row])
        assert text == '1|{"a|b":[1,{"c":null}]}|"{x"|[{"x":1.0}]' and cs.parse(text) == [row]


CALLS = {"type": "object", "properties": {"calls": {"type": "array", "items": {"oneOf": [
    {"type": "object", "properties": {"name": {"const": "get_weather"}, "arguments": {
        "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"]}}, "required": ["name", "arguments"]},
    {"type": "object", "properties": {"name": {"const": "now"}}, "required": ["name"]}]}}},
    "required": ["calls"]}


def test_tagged_union_lines_start_with_the_tag() -> None:
    cs = compact_schema(CALLS)
    assert cs.format == "delimited"
    data = {"calls": [{"name": "get_weather", "arguments": {"city": "Lisbon", "days": 3}}, {"name": "now"},
                      {"name": "get_weather", "arguments": {"city": "a|b"}}]}
    text = cs.encode(data)
    assert text == 'get_weather|Lisbon|3\nnow\nget_weather|"a|b"|'
    assert cs.parse("Calls:\n" + text + "\nDone.") == data
    assert "name get_weather:\n  arguments.city: string\n  arguments.days?: integer" in cs.instructions
    with pytest.raises(ParseError) as err:
        cs.parse("now\nget_wether|Rome|")
    assert (err.value.line, err.value.row, err.value.field) == (2, 2, "name")
    assert "get_weather" in str(err.value)


def test_recursive_schema_renders_a_named_type() -> None:
    listing, _ = render_type(RECURSIVE)
    assert listing.startswith("type Answer = {") and "children?: Answer[]" in listing


def test_bfcl_style_type_names_are_normalized_with_changes() -> None:
    schema = {"type": "dict", "properties": {"radius": {"type": "float"}, "opts": {"type": "any"}},
              "required": ["radius"]}
    cs = compact_schema(schema, "json-min")
    assert cs.schema["type"] == "object" and cs.schema["properties"]["radius"]["type"] == "number"
    rules = {(c.before, c.after) for c in cs.changes if c.rule == "type-alias"}
    assert rules == {("dict", "object"), ("float", "number"), ("any", "(any)")}


def test_pydantic_model_class_is_accepted() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Item(pydantic.BaseModel):
        name: str
        price: float
        tags: list[str] = []
        note: str | None = None

    class Order(pydantic.BaseModel):
        items: list[Item]

    cs = compact_schema(Order)
    assert cs.format == "delimited" and any(c.rule == "pydantic" for c in cs.changes)
    assert "name: string\n" in cs.instructions  # pydantic's "title": "Name" only repeats the name
    data = {"items": [{"name": "tea", "price": 2.5, "tags": ["hot"], "note": None}]}
    assert cs.parse(cs.encode(data)) == data
    Order.model_validate(cs.parse(cs.encode(data)))
    with pytest.raises(InputError, match="class"):
        compact_schema(Order(items=[]))


def test_listing_keeps_constraints_and_is_much_smaller_than_schema() -> None:
    schema = {"type": "object", "title": "Ticket", "properties": {
        "id": {"type": "string", "format": "uuid", "description": "Ticket id"},
        "priority": {"type": "integer", "minimum": 1, "maximum": 5, "default": 3},
        "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
        "labels": {"type": "array", "items": {"type": "string"}, "maxItems": 4, "uniqueItems": True}},
        "required": ["id"], "additionalProperties": False}
    listing, changes = render_type(schema)
    for part in ("id: string (uuid) // Ticket id", "priority?: integer (>=1, <=5) = 3",
                 "email?: string (/^[^@]+@[^@]+$/)", "labels?: string[] (<=4 items, unique)"):
        assert part in listing
    assert changes == ()
    tok = promptslim.get_tokenizer()
    assert tok.count(listing) <= 0.6 * tok.count(json.dumps(schema))


def test_skipped_keywords_are_reported() -> None:
    _, changes = render_type({"type": "string", "x-vendor": 1})
    assert [c.before for c in changes] == ["x-vendor"]


def test_layout_analysis_reasons() -> None:
    assert analyze_layout(REVIEW).kind == "rows"
    assert analyze_layout({"type": "object", "properties": {"rows": REVIEW}, "required": ["rows"]}).kind == "wrapped"
    flat = analyze_layout({"type": "object", "properties": {
        "a": {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]}, "z": {"type": "string"}}})
    assert [s.name for s in flat.slots] == ["a.b", "z"] and flat.notes == ()
    for sub, why in (({"type": "object", "properties": {"b": {"type": "string"}}}, "optional object without a "
                      "required field"),
                     ({"type": ["object", "null"], "properties": {"b": {"type": "string"}}}, "nullable object")):
        lay = analyze_layout({"type": "object", "properties": {"a": sub, "z": {"type": "string"}}})
        assert [s.name for s in lay.slots] == ["a", "z"] and lay.slots[0].json
        assert lay.notes[0][1].startswith(why)
    with pytest.raises(Unsupported, match="free-form object"):
        analyze_layout({"type": "object"})
    with pytest.raises(Unsupported, match="blank line"):
        analyze_layout({"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}})


def test_toon_keeps_integral_floats_and_refuses_lossy_values() -> None:
    fmt = ToonFormat()
    data = {"a": 1.0, "b": -0.0, "c": 1e22, "d": [2.0, 3], "e": "1.0"}
    text = fmt.encode(data)
    assert "1.0" in text and same_value(fmt.decode(text), data)
    with pytest.raises(PromptslimError):
        fmt.encode({"a": float("nan")})


def test_tab_delimiter() -> None:
    cs = compact_schema(REVIEW, "delimited", delimiter="\t")
    assert cs.encode([ROWS[0]]) == "price\t0.87\tquality,delivery\tpos\t"
    assert "separated by tabs" in cs.instructions
    assert roundtrip_exact(ROWS, cs.parse(cs.encode(ROWS))) == 1.0


# --------------------------------------------------------------------------------------------
# hypothesis: parse(encode(x)) == x for every valid instance, in every format
# --------------------------------------------------------------------------------------------

TRICKY = ["", "null", "true", "false", "1", "1.0", "-0", "1e5", "[]", "[1]", '"q"', " lead", "trail ",
          "a|b", "a,b", "x\ny", "\r", "\t", "\\", "```", "~~~x", "é€😀", "\u2028", "\x85", "- x", "a: b", "#"]
TEXT = st.one_of(st.sampled_from(TRICKY),
                 st.text(alphabet=st.sampled_from(list('ab |,"\\\n\r\t[]{}:-#`~é😀\u2028\x00')), max_size=12))
LITERALS = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), TEXT,
                     st.floats(allow_nan=False, allow_infinity=False, width=32))
SCALAR_TYPES = [["string"], ["integer"], ["number"], ["boolean"], ["string", "null"], ["integer", "string"],
                ["number", "boolean", "null", "string"], ["null"]]


@st.composite
def scalar_schema(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["type", "type", "enum", "const", "anyof"]))
    if kind == "enum":
        values = draw(st.lists(LITERALS, min_size=1, max_size=4, unique_by=lambda v: json.dumps(v)))
        return {"enum": values}
    if kind == "const":
        return {"const": draw(LITERALS)}
    types = draw(st.sampled_from(SCALAR_TYPES))
    if kind == "anyof":
        return {"anyOf": [{"type": t} for t in types]}
    return {"type": types[0] if len(types) == 1 else types}


@st.composite
def field_schema(draw: st.DrawFn, depth: int) -> dict[str, Any]:
    choice = draw(st.sampled_from(["scalar", "scalar", "array", "free"] + (["object"] if depth < 2 else [])))
    if choice == "scalar":
        return draw(scalar_schema())
    if choice == "free":  # no fixed shape: delimited holds these as one JSON value
        return draw(st.sampled_from([{}, {"type": "object"}, {"type": ["object", "null"]},
                                     {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}]))
    if choice == "array":
        items = draw(scalar_schema())
        return {"type": ["array", "null"] if draw(st.booleans()) else "array", "items": items}
    return draw(object_schema(depth + 1))


@st.composite
def object_schema(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e", "x y", "ü"]), min_size=1, max_size=4,
                          unique=True))
    props = {n: draw(field_schema(depth)) for n in names}
    required = [n for n in names if draw(st.booleans())]
    return {"type": "object", "properties": props, "required": required}


@st.composite
def root_schema(draw: st.DrawFn) -> dict[str, Any]:
    obj = draw(object_schema())
    shape = draw(st.sampled_from(["rows", "wrapped", "record", "scalars", "union"]))
    if shape == "rows":
        return {"type": "array", "items": obj}
    if shape == "union":  # tagged items: each member has a constant "kind"
        members = [obj] + draw(st.lists(object_schema(), min_size=1, max_size=2))
        tags = draw(st.lists(st.sampled_from(["a", "b|c", "null", "", " x", "é"]), min_size=len(members),
                             max_size=len(members), unique=True))
        return {"type": "array", "items": {"anyOf": [
            {**m, "properties": {"kind": {"const": t}, **m["properties"]}, "required": ["kind", *m["required"]]}
            for m, t in zip(members, tags)]}}
    if shape == "wrapped":
        return {"type": "object", "properties": {"items": {"type": "array", "items": obj}}, "required": ["items"]}
    if shape == "scalars":
        return {"type": "array", "items": draw(scalar_schema())}
    return obj


JSON_VALUES = st.recursive(LITERALS, lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                            st.dictionaries(TEXT, kids, max_size=3)), max_leaves=8)


def instance(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A valid instance of the generated schema, with tricky strings and numbers."""
    if schema == {}:
        return draw(JSON_VALUES)
    if schema.get("type") in ("object", ["object", "null"]) and "properties" not in schema:
        return draw(st.one_of(st.dictionaries(TEXT, JSON_VALUES, max_size=3),
                              st.none() if "null" in schema["type"] else st.nothing()))
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    if "anyOf" in schema:
        return instance(draw, draw(st.sampled_from(schema["anyOf"])))
    t = schema.get("type")
    t = draw(st.sampled_from(t)) if isinstance(t, list) else t
    if t == "object":
        out = {}
        for name, sub in schema["properties"].items():
            if name in schema.get("required", []) or draw(st.booleans()):
                out[name] = instance(draw, sub)
        return out
    if t == "array":
        n = draw(st.integers(0, 3))
        return [instance(draw, schema["items"]) for _ in range(n)]
    return draw({"string": TEXT, "integer": st.integers(-10**12, 10**12), "boolean": st.booleans(),
                 "null": st.none(),
                 "number": st.one_of(st.integers(-99, 99), st.floats(allow_nan=False, allow_infinity=False),
                                     st.sampled_from([1.0, -0.0, 0.0, 1e16, 2.5e-8, 100.0]))}[t])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_round_trip_every_format_on_generated_schemas(data: st.DataObject) -> None:
    schema = data.draw(root_schema())
    value = instance(data.draw, schema)
    for fmt in FORMATS:
        cs = compact_schema(schema, fmt)
        assert cs.format == fmt or (fmt == "delimited" and cs.format == "json-min"
                                    and any(c.kind == "fallback" for c in cs.changes))
        text = cs.encode(value)
        back = cs.parse(text)
        assert roundtrip_exact(value, back) == 1.0, (fmt, text, value, back)
        assert roundtrip_exact(value, cs.parse(f"Answer:\n```\n{text}\n```\n")) == 1.0


def test_generated_schemas_mostly_fit_delimited() -> None:
    """Guard against the hypothesis test silently testing only the json-min fallback."""
    schema = {"type": "array", "items": {"type": "object", "properties": {
        "a": {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
        "b": {"type": "object", "properties": {"c": {"const": "x|y"}, "d": {"type": "number"}},
              "required": ["c"]},
        "e": {"anyOf": [{"type": "integer"}, {"type": "string"}]}}, "required": ["e"]}}
    cs = compact_schema(schema, "delimited")
    assert cs.format == "delimited"
    rows = [{"a": [None, "null", ""], "b": {"c": "x|y", "d": 1.0}, "e": "7"}, {"e": 7}, {"a": None, "e": ""},
            {"a": [], "b": {"c": "x|y"}, "e": -0}]
    text = cs.encode(rows)
    assert text.splitlines()[1] == "|||7" and roundtrip_exact(rows, cs.parse(text)) == 1.0


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), TEXT,
                              st.floats(allow_nan=False, allow_infinity=False)),
                    lambda kids: st.one_of(st.lists(kids, max_size=4),
                                           st.dictionaries(TEXT, kids, max_size=4)), max_leaves=20))
def test_toon_round_trips_any_json_value_or_refuses(value: Any) -> None:
    fmt = ToonFormat()
    try:
        text = fmt.encode(value)
    except PromptslimError:
        return  # refused loudly; never lossy
    assert same_value(fmt.decode(text), value)


# --------------------------------------------------------------------------------------------
# shared data: every BFCL answer and a slice of SchemaStore
# --------------------------------------------------------------------------------------------

def test_bfcl_answers_round_trip_in_every_format(shared_data: Any) -> None:
    from promptslim.eval.tasks.schemas import load_bfcl

    cases = list(load_bfcl(shared_data, 120))
    assert len(cases) == 120
    for case in cases:
        for fmt in FORMATS:
            cs = compact_schema(case.data["schema"], fmt)
            value = case.data["instance"]
            assert roundtrip_exact(value, cs.parse(cs.encode(value))) == 1.0, (case.id, fmt)


def test_schemastore_instances_round_trip(shared_data: Any) -> None:
    from promptslim.eval.tasks.schemas import load_schemastore

    cases = list(load_schemastore(shared_data, 25))
    assert len(cases) >= 20
    for case in cases:
        cs = compact_schema(case.data["schema"])
        value = case.data["instance"]
        assert roundtrip_exact(value, cs.parse(cs.encode(value))) == 1.0, case.id


TOKENS = st.sampled_from(["", " ", "null", "true", "false", "0", "-0", "1.0", "1e5", "+5", "01", "NaN", "abc",
                          '"q"', '"a|b"', '"bad', "[]", "[1]", "x,y", '"5"', " 7 ", "Infinity"])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([REVIEW, {"type": "array", "items": {"type": "object", "properties": {
    "n": {"type": "integer"}, "m": {"type": ["number", "null"]}, "b": {"type": "boolean"},
    "s": {"type": "string"}, "u": {"type": ["integer", "string"]}}, "required": ["s"]}}]),
       st.lists(st.lists(TOKENS, min_size=5, max_size=5), min_size=1, max_size=6))
def test_fast_column_decoding_agrees_with_row_decoding(schema: dict[str, Any], rows: list[list[str]]) -> None:
    """Model output of any shape: the bulk path returns exactly what the row path returns, or defers."""
    from promptslim.schema_rows import decode_flat_rows

    fmt = compact_schema(schema, "delimited")._codec
    lines = ["|".join(r) for r in rows]
    fast = decode_flat_rows(fmt.codec, lines)
    try:
        slow = [fmt.codec.decode_row(line) for line in lines]
    except ParseError:
        assert fast is None
        return
    assert fast is None or same_value(fast, slow)


def test_cli_prints_instructions_encodes_and_parses(tmp_path: Any, capsys: Any) -> None:
    from promptslim.cli import main

    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(REVIEW), encoding="utf-8")
    data = tmp_path / "d.json"
    data.write_text(json.dumps(ROWS), encoding="utf-8")
    assert main(["schema", str(schema)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Reply with one line per item") and "format delimited" in err
    assert main(["schema", str(schema), "--encode", str(data)]) == 0
    out, _ = capsys.readouterr()
    assert out.rstrip("\n") == compact_schema(REVIEW).encode(ROWS)
    answer = tmp_path / "a.txt"
    answer.write_text(out, encoding="utf-8")
    assert main(["schema", str(schema), "--parse", str(answer), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["parsed"] == ROWS
    answer.write_text("price|high|a|pos|", encoding="utf-8")
    assert main(["schema", str(schema), "--parse", str(answer)]) == 2
    assert "line 1, row 1, field 'score'" in capsys.readouterr().err
