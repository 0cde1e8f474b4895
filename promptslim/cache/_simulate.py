"""Simulate a provider's prompt cache over a trace of requests: naive layout versus split_cacheable.

Each request is tokenized as the provider would see it (tools, then messages in order) and looked up
in a simulated cache keyed by prefix hashes, with entries that expire ``ttl`` seconds after their last
use. Prefix providers (OpenAI, Gemini implicit) serve the longest cached prefix in their increments
above the minimum and store every request's prefixes at no premium; breakpoint providers (Anthropic)
serve the longest cached prefix ending at a marker or an earlier message boundary, write the rest up
to the last marker at the write price, and refresh the TTL on a hit. Prices come from genai-prices
(:func:`promptslim.pricing.model_rates`); multipliers from ``providers.toml`` fill gaps.
Not modelled: OpenAI's per-prefix routing overflow (~15 requests/minute), Gemini explicit caches.
"""

from __future__ import annotations

import hashlib
import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import InputError
from ..pricing import model_rates
from ..tokens import Tokenizer, get_tokenizer, message_text
from ._layout import CacheLayout, split_cacheable
from ._providers import CacheRules, cache_rules, ttl_seconds
from ._render import anthropic_breakpoints

__all__ = ["TraceRequest", "RequestOutcome", "SimulationReport", "simulate_cache"]

_MTOK = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class TraceRequest:
    """One request of a trace: arrival time in seconds, OpenAI-shaped messages and optional tools."""

    time: float
    messages: Sequence[Mapping[str, Any]]
    tools: Sequence[Mapping[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """What the simulated cache did for one request under one layout (tokens in the model's units).

    ``input_tokens = cached_tokens + written_tokens + uncached_tokens``; ``static_*`` count the
    template's static text and tools only. ``warmup`` marks the first request of each static prefix.
    """

    index: int
    time: float
    hit: bool
    warmup: bool
    input_tokens: int
    cached_tokens: int
    written_tokens: int
    uncached_tokens: int
    static_tokens: int
    static_cached_tokens: int
    cost: Decimal
    static_cost: Decimal


@dataclass(frozen=True)
class SimulationReport:
    """Per-request outcomes for the naive and the restructured layout, and their totals."""

    provider: str
    model: str
    ttl_seconds: float
    rules: CacheRules
    naive: tuple[RequestOutcome, ...]
    restructured: tuple[RequestOutcome, ...]
    nocache_cost: Decimal
    nocache_static_cost: Decimal
    notes: tuple[str, ...] = ()

    def _rows(self, layout: str, after_warmup: bool) -> list[RequestOutcome]:
        if layout not in ("naive", "restructured"):
            raise InputError(f"layout must be 'naive' or 'restructured', got {layout!r}")
        rows = self.naive if layout == "naive" else self.restructured
        return [r for r in rows if not (after_warmup and r.warmup)]

    def cost(self, layout: str = "restructured", *, static: bool = False, after_warmup: bool = False) -> Decimal:
        """Input cost in USD of all requests (``static=True``: of the static tokens only)."""
        return sum((r.static_cost if static else r.cost for r in self._rows(layout, after_warmup)), Decimal(0))

    def cached_share(self, layout: str = "restructured", *, after_warmup: bool = True, static: bool = True) -> float:
        """Share of (static) input tokens served from cache, 0..1."""
        rows = self._rows(layout, after_warmup)
        num = sum(r.static_cached_tokens if static else r.cached_tokens for r in rows)
        den = sum(r.static_tokens if static else r.input_tokens for r in rows)
        return num / den if den else 0.0

    def hit_rate(self, layout: str = "restructured", *, after_warmup: bool = True) -> float:
        """Share of requests with any cached tokens."""
        rows = self._rows(layout, after_warmup)
        return sum(r.hit for r in rows) / len(rows) if rows else 0.0

    def cost_reduction(self, *, static: bool = False, after_warmup: bool = False, baseline: str = "naive") -> float:
        """1 - restructured cost / baseline cost (``baseline``: ``naive`` layout or ``nocache``)."""
        new = self.cost("restructured", static=static, after_warmup=after_warmup)
        if baseline == "nocache":
            if after_warmup:
                raise InputError("the no-cache baseline has no warm-up split; use after_warmup=False")
            old = self.nocache_static_cost if static else self.nocache_cost
        else:
            old = self.cost(baseline, static=static, after_warmup=after_warmup)
        return float(1 - new / old) if old else 0.0

    def summary(self) -> dict[str, float | int | str]:
        """The headline figures as a flat dict (for reports and the eval suite)."""
        return {
            "provider": self.provider, "model": self.model, "requests": len(self.restructured),
            "warmup_requests": sum(r.warmup for r in self.restructured),
            "cached_share_static": self.cached_share("restructured"),
            "cached_share_static_naive": self.cached_share("naive"),
            "hit_rate": self.hit_rate("restructured"), "hit_rate_naive": self.hit_rate("naive"),
            "cost_naive": float(self.cost("naive")), "cost_restructured": float(self.cost("restructured")),
            "cost_nocache": float(self.nocache_cost),
            "cost_reduction": self.cost_reduction(),
            "cost_reduction_static": self.cost_reduction(static=True),
            "cost_reduction_static_after_warmup": self.cost_reduction(static=True, after_warmup=True),
            "cost_reduction_vs_nocache": self.cost_reduction(baseline="nocache"),
        }


@dataclass(frozen=True, slots=True, eq=False)
class _MemoTokenizer(Tokenizer):
    """The same tokenizer, remembering ids of texts seen before: a trace repeats its static parts."""

    memo: dict[str, list[int]] = field(default_factory=dict)

    def encode(self, text: str) -> list[int]:
        ids = self.memo.get(text)
        if ids is None:
            ids = self.encoding.encode_ordinary(text)
            if len(self.memo) > 20_000:
                self.memo.clear()
            self.memo[text] = ids
        return ids

    def count(self, text: str) -> int:
        if not text:
            return 0
        n = len(self.encode(text))
        return n if self.factor == 1.0 else math.ceil(n * self.factor)


@dataclass(frozen=True, slots=True)
class _Rendered:
    """A request as token ids, with static ranges, message boundaries and marker candidates."""

    ids: bytes  # array('I') bytes
    n: int
    static: tuple[tuple[int, int], ...]
    boundaries: tuple[int, ...]
    groups: tuple[int, ...]  # token sizes of [tools, system, history] for marker placement


def _msg_text(msg: Mapping[str, Any]) -> str:
    """Serialization of one message for hashing: role, then every other field as text."""
    parts = [str(msg.get("role", ""))]
    for key in sorted(k for k in msg if k != "role"):
        parts.append(message_text(msg[key]))
    return "\n".join(parts) + "\n"


def _render(tok: Tokenizer, tools: Sequence[Any], system: Sequence[list[tuple[str, bool]]],
            rest: Sequence[tuple[Mapping[str, Any], bool]]) -> _Rendered:
    """Token ids of tools + system messages (as static/dynamic pieces) + other messages."""
    ids: list[int] = []
    static: list[tuple[int, int]] = []
    bounds: list[int] = []

    def add(text: str, is_static: bool) -> None:
        start = len(ids)
        ids.extend(tok.encode(text))
        if is_static and len(ids) > start:
            static.append((start, len(ids)))

    add(message_text(list(tools)) if tools else "", True)
    tools_end = len(ids)
    bounds.append(tools_end)
    for pieces in system:
        add("system\n", True)
        for text, is_static in pieces:
            add(text, is_static)
        add("\n", True)
        bounds.append(len(ids))
    system_end = len(ids)
    history_end = system_end
    for msg, stable in rest:
        add(_msg_text(msg), False)
        bounds.append(len(ids))
        if stable:
            history_end = len(ids)
    return _Rendered(array("I", ids).tobytes(), len(ids), tuple(static), tuple(bounds),
                     (tools_end, system_end - tools_end, history_end - system_end))


def _pieces(text: str, ranges: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    cursor = 0
    for s, e in sorted(ranges):
        if s > cursor:
            out.append((text[cursor:s], True))
        out.append((text[max(s, cursor):e], False))
        cursor = max(cursor, e)
    if cursor < len(text):
        out.append((text[cursor:], True))
    return out


def _naive(tok: Tokenizer, req: TraceRequest, lay: CacheLayout) -> _Rendered:
    lead = 0
    while lead < len(req.messages) and req.messages[lead].get("role") in ("system", "developer"):
        lead += 1
    system = []
    for i in range(lead):
        content = req.messages[i].get("content")
        text = content if isinstance(content, str) else message_text(content)
        loc = f"messages[{i}].content"
        ranges = [c.span for c in lay.changes if c.kind == "move" and c.location == loc and c.span is not None]
        system.append(_pieces(text, ranges))
    n_stable = len(lay.prefix) - lay.system_count
    rest = [(m, j < n_stable) for j, m in enumerate(req.messages[lead:])]
    return _render(tok, req.tools or [], system, rest)


def _restructured(tok: Tokenizer, lay: CacheLayout) -> _Rendered:
    system = []
    for m in lay.prefix[:lay.system_count]:
        content = m.get("content")
        system.append([(content if isinstance(content, str) else message_text(content), True)])
    ctx = lay.context_message
    rest = [(m, True) for m in lay.prefix[lay.system_count:]] + [(m, False) for m in ([ctx] if ctx else [])]
    rest += [(m, False) for m in lay.suffix]
    return _render(tok, lay.tools, system, rest)


class _Cache:
    """Prefix-hash entries with expiry times; one instance per simulated layout."""

    def __init__(self, rules: CacheRules, ttl: float, factor: float) -> None:
        self.rules, self.ttl, self.factor = rules, ttl, factor
        self.expiry: dict[bytes, float] = {}

    def scale(self, n: int) -> int:
        return n if self.factor == 1.0 else math.ceil(n * self.factor)

    @staticmethod
    def _keys(r: _Rendered, lengths: Sequence[int]) -> dict[int, bytes]:
        """Prefix hashes for ascending ``lengths``, computed incrementally (linear in the request)."""
        h = hashlib.blake2b(digest_size=16)
        keys: dict[int, bytes] = {}
        done = 0
        for length in lengths:
            h.update(r.ids[4 * done: 4 * length])
            done = length
            keys[length] = h.copy().digest()
        return keys

    def _alive(self, key: bytes, now: float) -> bool:
        exp = self.expiry.get(key)
        return exp is not None and exp >= now

    def serve(self, r: _Rendered, now: float, use_markers: bool) -> tuple[int, int]:
        """(cached, written) token positions for one request; updates the cache."""
        rules = self.rules
        if rules.mechanism == "prefix":
            if rules.increment > 1:
                start = math.ceil(rules.min_tokens / self.factor)
                cands = list(range(start, r.n + 1, max(1, math.ceil(rules.increment / self.factor))))
            else:
                cands = [b for b in r.boundaries if self.scale(b) >= rules.min_tokens]
            keys = self._keys(r, cands)
            cached = next((n for n in reversed(cands) if self._alive(keys[n], now)), 0)
            for length in cands:
                self.expiry[keys[length]] = now + self.ttl
            stored = cands[-1] if cands else 0
            return cached, max(0, stored - cached)
        if not use_markers:
            return 0, 0
        sizes = [self.scale(g) for g in r.groups]
        picked = anthropic_breakpoints(sizes, rules.min_tokens, rules.max_breakpoints)
        ends = [sum(r.groups[: i + 1]) for i in picked]
        if not ends:
            return 0, 0
        last = ends[-1]
        cands = sorted({b for b in r.boundaries if 0 < b <= last} | set(ends))
        keys = self._keys(r, cands)
        cached = next((n for n in reversed(cands) if self._alive(keys[n], now)), 0)
        if cached:
            self.expiry[keys[cached]] = now + self.ttl  # a hit refreshes the entry
        for length in ends:
            if length > cached:
                self.expiry[keys[length]] = now + self.ttl
        return cached, max(0, last - cached)


def _as_request(i: int, req: Any) -> TraceRequest:
    if isinstance(req, TraceRequest):
        return req
    if isinstance(req, Mapping):
        if "messages" not in req:
            raise InputError(f"requests[{i}] has no 'messages'")
        t = req.get("time", req.get("t"))
        if t is None:
            raise InputError(f"requests[{i}] has no 'time' (arrival time in seconds)")
        return TraceRequest(float(t), req["messages"], req.get("tools"))
    if isinstance(req, (tuple, list)) and len(req) in (2, 3):
        return TraceRequest(float(req[0]), req[1], req[2] if len(req) == 3 else None)
    raise InputError(f"requests[{i}] must be a TraceRequest, a dict with time/messages/tools or a tuple")


def _intersect(ranges: Iterable[tuple[int, int]], lo: int, hi: int) -> int:
    return sum(max(0, min(e, hi) - max(s, lo)) for s, e in ranges)


def simulate_cache(
    requests: Iterable[TraceRequest | Mapping[str, Any] | tuple[Any, ...]],
    provider: str | None = None,
    model: str = "claude-sonnet-4-5",
    ttl: str | float = "5m",
    *,
    naive_caching: bool = True,
    **split_options: Any,
) -> SimulationReport:
    """Replay ``requests`` (arrival ``time`` in seconds, ``messages``, ``tools``) through a simulated cache.

    Both layouts are simulated on separate caches: the requests as given ("naive"; with Anthropic
    markers at the same places as the restructured one unless ``naive_caching=False``) and after
    :func:`split_cacheable` (``split_options`` are passed to it). ``ttl`` is a provider TTL name
    (``"5m"``, ``"1h"``) or seconds; on Anthropic it also picks the write price.
    """
    rules = cache_rules(model, provider)
    ttl_s = ttl_seconds(ttl, rules)
    rates = model_rates(model if "/" in model or provider is None else f"{rules.provider}/{model}")
    plain = get_tokenizer(model)
    tok = _MemoTokenizer(plain.engine, plain.name, plain.factor, plain.note)
    base_tok = _MemoTokenizer(plain.engine, plain.name)
    factor = tok.factor
    read = rates.cache_read if rates.cache_read is not None else rates.input * rules.read_multiplier
    if rules.mechanism == "prefix":
        write = rates.input * rules.write_multiplier
    elif ttl == "1h" or ttl_s > 300:
        write = rates.cache_write_1h if rates.cache_write_1h is not None else rates.input * rules.write_multiplier_1h
    else:
        write = rates.cache_write if rates.cache_write is not None else rates.input * rules.write_multiplier
    notes = []
    if rates.cache_read is None:
        notes.append(f"price data has no cache-read price for {rates.model}: {rules.read_multiplier}x input used")
    if not tok.exact:
        notes.append(f"token counts approximate ({tok.note})")
    caches = {"naive": _Cache(rules, ttl_s, factor), "restructured": _Cache(rules, ttl_s, factor)}
    out: dict[str, list[RequestOutcome]] = {"naive": [], "restructured": []}
    seen_static: set[bytes] = set()
    nocache = nocache_static = Decimal(0)
    last_time = -math.inf
    for i, raw in enumerate(requests):
        req = _as_request(i, raw)
        if req.time < last_time:
            raise InputError(f"requests[{i}] arrives at {req.time}s, before requests[{i - 1}] ({last_time}s)")
        last_time = req.time
        lay = split_cacheable(req.messages, req.tools, tok, **split_options)
        rendered = {"naive": _naive(base_tok, req, lay), "restructured": _restructured(base_tok, lay)}
        rs = rendered["restructured"]
        static_end = max((e for _, e in rs.static), default=0)
        key = hashlib.blake2b(rs.ids[: 4 * static_end], digest_size=16).digest()
        warmup = key not in seen_static
        seen_static.add(key)
        for name, r in rendered.items():
            cached, written = caches[name].serve(r, req.time, use_markers=naive_caching or name == "restructured")
            scale = caches[name].scale
            n_in, n_cached, n_written = scale(r.n), scale(cached), scale(written)
            n_static = scale(_intersect(r.static, 0, r.n))
            s_cached = scale(_intersect(r.static, 0, cached))
            s_written = scale(_intersect(r.static, cached, cached + written))
            cost = (n_cached * read + n_written * write + (n_in - n_cached - n_written) * rates.input) / _MTOK
            s_cost = (s_cached * read + s_written * write + (n_static - s_cached - s_written) * rates.input) / _MTOK
            out[name].append(RequestOutcome(i, req.time, cached > 0, warmup, n_in, n_cached, n_written,
                                            n_in - n_cached - n_written, n_static, s_cached, cost, s_cost))
            if name == "naive":
                nocache += n_in * rates.input / _MTOK
                nocache_static += n_static * rates.input / _MTOK
    return SimulationReport(rules.provider, rates.model, ttl_s, rules, tuple(out["naive"]),
                            tuple(out["restructured"]), nocache, nocache_static, tuple(notes))
