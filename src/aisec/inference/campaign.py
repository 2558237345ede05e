"""Extraction campaigns measured against each account's own baseline.

The detectors of :mod:`aisec.inference.detect` that look at *what* an account asks, rather than
how often. Each keeps a small profile per account, updated once per query off the request path
(the gateway's detection task, or an offline replay; both feed the same :class:`QueryEvent`\\ s
in the same order, so they raise the same alerts):

* ``paraphrase-concentration`` -- many *distinct* rewordings of one question from one key, and
  that question a large share of what the key asks. Queries are embedded locally
  (:mod:`aisec.inference.embed`) after the key's own repeated template sentences are removed
  (a batch job's fixed instruction, a widget's greeting), and clustered online; exact repeats
  (a QA suite, a prompt engineer's fixed test questions) are counted as repeats, not
  paraphrases. A person rephrases a question a handful of times; a helpdesk key serving many
  end users spreads over dozens of topics. Slow-and-low campaigns are caught because the
  profile spans hours, not a rate window.
* ``cross-account`` -- one question cluster that takes a large share of the traffic of several
  keys at once (a campaign spread over keys to stay under per-key limits); a popular question
  asked now and then by many ordinary users is not.
* ``boundary-probing`` -- on classifier routes, a walk of small word edits, each an edit of a
  recent query of the same key, drifting away from where it started (decision-boundary
  mapping; it needs only the top-1 label). Templated messages (notifications that differ in
  names and dates) are small edits of one template too, but they never drift. When the
  classifier's scores are known, a walk whose margins shrink towards 0 qualifies earlier.
* ``logit-probing`` -- ``logit_bias`` that changes from call to call (sweeps of token blocks,
  binary searches of one bias value); a grader's yes/no bias or a ban list is one fixed map.
* ``distillation-harvest`` -- many distinct prompts with long outputs *and* logprobs, almost
  never repeated; an evaluation harness repeats its fixed prompt set or asks for short answers.
* ``embedding-theft`` -- on embedding routes, a flood of short, mutually unrelated inputs; an
  indexer embeds documents in chunks (long, each like the one before).

Thresholds are statements about people and programs, not fitted constants: see
:class:`~aisec.inference.config.DetectorsConfig` and ``aisec guard tune`` to check them on your
own logs.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import extractOne

from aisec.inference.config import DetectorsConfig, RouteConfig, RouteKind
from aisec.inference.embed import DIM, Embedder, normalise, segments

__all__ = ["Campaigns", "Hit", "Shape", "request_shape"]

Hit = tuple[str, float, dict[str, Any]]  # detector, score, evidence
CrossHit = tuple[str, float, dict[str, Any]]  # account, score, evidence

QUESTION_CHARS = 300  # longer inputs are documents carrying their own facts, not one question
MIN_WORDS = 2
TEMPLATE_REPEATS = 1  # a sentence a key sent before is its template (or a repeat), not news
MAX_ACCOUNT_CLUSTERS = 256
MAX_GLOBAL_CLUSTERS = 1024
WALK_LOOKBACK = 50
WALK_STEP = 3  # word edits that make one step of a walk
LONG_OUTPUT = 256  # max_tokens from which an answer is long enough to distil


@dataclass(frozen=True, slots=True)
class Shape:
    """What a request asked for, read before hardening changes it."""

    kind: str  # a RouteKind value
    content: str  # the query itself: last user message, prompt, input or text
    user: str | None = None
    logprobs: bool = False
    top_logprobs: int = 0
    max_tokens: int | None = None
    inputs: int = 1


def _last_user(messages: Any) -> str:
    if not isinstance(messages, list):
        return ""
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):  # content parts
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def request_shape(body: dict[str, Any], route: RouteConfig) -> Shape:
    """The :class:`Shape` of a request body (a few dict reads: cheap on the request path)."""
    kind = route.kind
    inputs = 1
    if kind is RouteKind.OPENAI_CHAT:
        content = _last_user(body.get("messages"))
    elif kind is RouteKind.OPENAI_COMPLETIONS:
        prompt = body.get("prompt")
        content = prompt if isinstance(prompt, str) else str(prompt)[:2000]
    elif kind is RouteKind.OPENAI_EMBEDDINGS:
        raw = body.get("input")
        items = raw if isinstance(raw, list) else [raw]
        inputs = len(items)
        content = str(items[0]) if items else ""
    else:
        value = body.get(route.text_field)
        content = value if isinstance(value, str) else ""
    mt = body.get("max_tokens", body.get("max_completion_tokens"))
    user = body.get("user")
    return Shape(
        kind=kind.value,
        content=content,
        user=user if isinstance(user, str) else None,
        logprobs=bool(body.get("logprobs") or body.get("top_logprobs")),
        top_logprobs=top if isinstance(top := body.get("top_logprobs"), int) else 0,
        max_tokens=mt if isinstance(mt, int) and not isinstance(mt, bool) else None,
        inputs=inputs,
    )


class _Clusters:
    """Online leader clustering of unit vectors: join the nearest centroid at cosine >= tau.

    Centroids are stored transposed (one row per embedding bucket), so the similarity of a
    query to every centroid reads only the rows of the query's few non-zero buckets."""

    def __init__(self, cap: int, tau: float) -> None:
        self.cap = cap
        self.tau = tau
        self.cols = np.zeros((DIM, 4), dtype=np.float32)  # unit centroids, transposed
        self.sums = np.zeros((DIM, 4), dtype=np.float32)  # grown by doubling up to cap
        self.ids: list[int] = []
        self.used: list[float] = []
        self._next = 0

    def assign(self, vec: np.ndarray[Any, np.dtype[np.float32]], t: float) -> tuple[int, float]:
        n = len(self.ids)
        if n:
            nz = np.flatnonzero(vec)
            sims = vec[nz] @ self.cols[nz, :n]
            j = int(sims.argmax())
            best = float(sims[j])
            if best >= self.tau:
                self.sums[:, j] += vec
                self.cols[:, j] = self.sums[:, j] / float(np.linalg.norm(self.sums[:, j]))
                self.used[j] = t
                return self.ids[j], best
        if n >= self.cap:  # recycle the cluster unused for longest
            j = int(np.argmin(self.used))
            self.used[j] = t
            self.ids[j] = self._next
        else:
            j = n
            if j >= self.cols.shape[1]:
                width = min(self.cap, 2 * self.cols.shape[1])
                self.cols = np.pad(self.cols, ((0, 0), (0, width - self.cols.shape[1])))
                self.sums = np.pad(self.sums, ((0, 0), (0, width - self.sums.shape[1])))
            self.used.append(t)
            self.ids.append(self._next)
        self.cols[:, j] = vec
        self.sums[:, j] = vec
        self._next += 1
        return self._next - 1, 1.0


class _Recent:
    """The last ``size`` labelled items within ``horizon`` seconds, with label counts."""

    def __init__(self, size: int, horizon: float) -> None:
        self.size = size
        self.horizon = horizon
        self.items: deque[tuple[float, int]] = deque()
        self.counts: Counter[int] = Counter()

    def add(self, t: float, label: int) -> None:
        self.items.append((t, label))
        self.counts[label] += 1
        while len(self.items) > self.size or (self.items and self.items[0][0] < t - self.horizon):
            _, old = self.items.popleft()
            self.counts[old] -= 1
            if not self.counts[old]:
                del self.counts[old]

    def __len__(self) -> int:
        return len(self.items)

    def effective_topics(self) -> float:
        """exp(entropy) of the label mix: 1 for one topic, n for n equally used ones."""
        n = len(self.items)
        if not n:
            return 0.0
        h = -sum(c / n * math.log(c / n) for c in self.counts.values())
        return math.exp(h)


@dataclass
class _Walk:
    tokens: list[str]
    depth: int
    root: list[str]
    margin: float | None


@dataclass
class _Profile:
    """Everything one account's baseline needs, bounded in size."""

    cfg: DetectorsConfig
    name: str
    segs: Counter[str] = field(default_factory=Counter)
    seen: dict[str, int] = field(default_factory=dict)
    queries: int = 0
    repeats: int = 0
    logprob_queries: int = 0
    first_t: float | None = None
    clusters: _Clusters = field(init=False)
    recent: _Recent = field(init=False)
    samples: dict[int, list[str]] = field(default_factory=dict)
    walks: deque[_Walk] = field(default_factory=lambda: deque(maxlen=WALK_LOOKBACK))
    biases: deque[str] = field(default_factory=deque)
    bias_counts: Counter[str] = field(default_factory=Counter)
    harvest: deque[tuple[float, bool]] = field(default_factory=deque)
    harvest_distinct: int = 0
    embeds: deque[tuple[float, float, int]] = field(default_factory=deque)
    last_vec: np.ndarray[Any, np.dtype[np.float32]] | None = None
    users: set[str] = field(default_factory=set)
    cluster_users: dict[int, Counter[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.clusters = _Clusters(MAX_ACCOUNT_CLUSTERS, self.cfg.topic_similarity)
        self.recent = _Recent(self.cfg.topic_window, self.cfg.topic_seconds)

    def strip_template(self, text: str) -> str:
        """The query without the sentences this key keeps sending (its template)."""
        parts = segments(text)
        keep = [p for p in parts if self.segs[p] < TEMPLATE_REPEATS]
        for p in parts:
            self.segs[p] += 1
        if len(self.segs) > 50_000:  # bounded: keep the sentences seen most
            self.segs = Counter(dict(self.segs.most_common(10_000)))
        return " ".join(keep)

    def remember(self, key: str) -> bool:
        """True when this exact query was sent before by this key."""
        n = self.seen.get(key, 0)
        self.seen[key] = n + 1
        if len(self.seen) > 20_000:
            self.seen = dict(list(self.seen.items())[-10_000:])
        return n > 0


class Campaigns:
    """The per-account profiles and the cross-account question index."""

    def __init__(self, cfg: DetectorsConfig, sample: Callable[[str], str]) -> None:
        self.cfg = cfg
        self._sample = sample
        self.embedder = Embedder()
        self.profiles: dict[str, _Profile] = {}
        self.global_clusters = _Clusters(MAX_GLOBAL_CLUSTERS, cfg.topic_similarity)
        # global cluster -> recent (t, account, local cluster) of its members
        self.members: dict[int, deque[tuple[float, str, int]]] = {}
        self.by_cluster: dict[int, Counter[str]] = {}  # global cluster -> account -> queries
        self.by_account: dict[str, Counter[int]] = {}  # account -> global cluster -> queries
        # (account, detector) -> the highest min(value / threshold) seen: the account would be
        # flagged with every threshold of that detector scaled by up to this factor
        self.peaks: dict[tuple[str, str], float] = {}

    def _peak(self, p: _Profile, detector: str, ratio: float) -> None:
        key = (p.name, detector)
        if ratio > self.peaks.get(key, 0.0):
            self.peaks[key] = ratio

    def _profile(self, account: str) -> _Profile:
        p = self.profiles.get(account)
        if p is None:
            p = self.profiles[account] = _Profile(self.cfg, account)
        return p

    def observe(
        self,
        account: str,
        t: float,
        shape: Shape,
        margin: float | None,
        bias: tuple[str, ...] | None,
    ) -> tuple[list[Hit], list[CrossHit]]:
        """Update the account's profile with one query; the detectors that now fire."""
        p = self._profile(account)
        p.queries += 1
        p.first_t = t if p.first_t is None else p.first_t
        if shape.user and len(p.users) < 10_000:
            p.users.add(shape.user)
        if shape.logprobs:
            p.logprob_queries += 1
        hits: list[Hit] = []
        cross: list[CrossHit] = []
        kind = shape.kind
        if (hit := self._logit(p, t, bias, shape)) is not None:
            hits.append(hit)
        if kind == RouteKind.CLASSIFIER.value:
            if (hit := self._walk(p, shape.content, margin)) is not None:
                hits.append(hit)
            return hits, cross
        norm = normalise(shape.content)
        repeat = p.remember(norm)
        if repeat:
            p.repeats += 1
        if kind == RouteKind.OPENAI_EMBEDDINGS.value:
            if (hit := self._embedding(p, account, t, norm, shape, repeat)) is not None:
                hits.append(hit)
            return hits, cross
        if (hit := self._harvest(p, t, shape, repeat)) is not None:
            hits.append(hit)
        if repeat:
            return hits, cross
        content = p.strip_template(shape.content)
        if len(norm) > QUESTION_CHARS or len(content.split()) < MIN_WORDS:
            return hits, cross
        self.embedder.learn(account, content)
        vec = self.embedder.embed(content)
        if vec is None:
            return hits, cross
        label, _ = p.clusters.assign(vec, t)
        p.recent.add(t, label)
        if shape.user:
            p.cluster_users.setdefault(label, Counter())[shape.user] += 1
        samples = p.samples.setdefault(label, [])
        if len(samples) < 5:
            samples.append(self._sample(shape.content))
        if len(p.samples) > 2 * MAX_ACCOUNT_CLUSTERS:
            live = set(p.clusters.ids)
            p.samples = {k: v for k, v in p.samples.items() if k in live}
        if (hit := self._concentration(p, t, label)) is not None:
            hits.append(hit)
        cross = self._cross(account, p, t, vec, label, shape.user is not None)
        return hits, cross

    # -- paraphrase concentration ------------------------------------------------------------

    def _concentration(self, p: _Profile, t: float, label: int) -> Hit | None:
        cfg = self.cfg
        n = p.recent.counts[label]
        # a key forwarding many end users (the `user` field): one person's rewordings count,
        # a popular question asked once by each of many people does not
        per_user = p.cluster_users.get(label)
        if per_user:
            untagged = max(n - sum(per_user.values()), 0)
            n = untagged + min(n, max(per_user.values()))
        total = len(p.recent)
        share = n / total
        self._peak(p, "paraphrase-concentration",
                   min(n / cfg.paraphrases, share / cfg.topic_share))  # fmt: skip
        if n < cfg.paraphrases or share < cfg.topic_share:
            return None
        first = p.recent.items[0][0]
        hours = max((t - first) / 3600, 1 / 60)
        evidence = {
            "paraphrases": n,
            "distinct_queries": total,
            "share": round(share, 3),
            "baseline": {
                "effective_topics": round(p.recent.effective_topics(), 1),
                "topic_clusters": len(p.recent.counts),
                "end_users": len(p.users),
                "repeats": p.repeats,
                "queries": p.queries,
            },
            "thresholds": {"paraphrases": cfg.paraphrases, "share": cfg.topic_share},
            "logprobs_share": round(p.logprob_queries / p.queries, 3),
            "span_seconds": round(t - first, 1),
            "per_hour": round(total / hours, 1),
            "samples": p.samples.get(label, []),
        }
        score = min(1.0, share * n / (2 * cfg.paraphrases))
        return "paraphrase-concentration", score, evidence

    # -- cross-account ----------------------------------------------------------------------

    def _cross(
        self, account: str, p: _Profile, t: float, vec: np.ndarray[Any, np.dtype[np.float32]],
        label: int, tagged: bool,
    ) -> list[CrossHit]:  # fmt: skip
        """One query pattern across keys: the question clusters (over all accounts) that a key
        uses at least twice, shared in bulk with other keys, each for a large share of its
        traffic. One question in one wording is the one-cluster case; rewordings that fall
        into several lexical clusters still form one shared pattern."""
        cfg = self.cfg
        g, _ = self.global_clusters.assign(vec, t)
        if tagged:  # forwarded end users are many people, not one actor (see concentration)
            return []
        members = self.members.setdefault(g, deque())
        members.append((t, account, label))
        self.by_cluster.setdefault(g, Counter())[account] += 1
        self.by_account.setdefault(account, Counter())[g] += 1
        while members and (members[0][0] < t - cfg.cross_seconds or len(members) > 5000):
            _, old, _ = members.popleft()
            self._forget(g, old)
        if len(self.members) > 2 * MAX_GLOBAL_CLUSTERS:
            live = set(self.global_clusters.ids)
            for stale in [k for k in self.members if k not in live]:
                for _, old, _ in self.members.pop(stale):
                    self._forget(stale, old)
                self.by_cluster.pop(stale, None)
        # clusters this key uses at least twice, and that are not a popular question of the
        # population (asked once each by more accounts than those that keep asking it)
        # a question, not a catalogue: at most 1 / topic-share clusters make one pattern
        width = max(1, round(1 / cfg.topic_share))
        rare = [(c, h) for h, c in self.by_account[account].items() if c >= 2 and self._rare(h)]
        mine = {h: c for c, h in sorted(rare, reverse=True)[:width]}
        if g not in mine or sum(mine.values()) < cfg.cross_paraphrases:
            return []
        shared: Counter[str] = Counter()
        for h, c in mine.items():
            for other, n in self.by_cluster.get(h, Counter()).items():
                if other != account and n >= 2:
                    shared[other] += min(c, n)
        own_total = max(len(p.recent), 1)
        involved: dict[str, dict[str, Any]] = {}
        for other, n in shared.items():
            total = max(len(self.profiles[other].recent), 1)
            if n >= cfg.cross_paraphrases and min(n / own_total, n / total) >= cfg.cross_share:
                involved[other] = {"shared_paraphrases": n, "distinct_queries": total,
                                   "share": round(n / total, 3)}  # fmt: skip
        if len(involved) + 1 < cfg.cross_accounts:
            return []
        mass = sum(mine.values())
        involved[account] = {"shared_paraphrases": mass, "distinct_queries": len(p.recent),
                             "share": round(mass / own_total, 3)}  # fmt: skip
        evidence = {
            "accounts": sorted(involved),
            "per_account": involved,
            "question_clusters": len(mine),
            "accounts_asking": len(self.by_cluster.get(g, ())),
            "window_seconds": cfg.cross_seconds,
            "thresholds": {"accounts": cfg.cross_accounts, "paraphrases": cfg.cross_paraphrases,
                           "share": cfg.cross_share},
            "samples": p.samples.get(label, []),
        }  # fmt: skip
        score = min(1.0, len(involved) / (2 * cfg.cross_accounts))
        return [(a, score, evidence) for a in sorted(involved)]

    def _forget(self, cluster: int, account: str) -> None:
        """One query of ``account`` in ``cluster`` left the cross-account window."""
        accounts = self.by_cluster.get(cluster)
        if accounts is not None and accounts.get(account):
            accounts[account] -= 1
            if not accounts[account]:
                del accounts[account]
        clusters = self.by_account.get(account)
        if clusters is not None and clusters.get(cluster):
            clusters[cluster] -= 1
            if not clusters[cluster]:
                del clusters[cluster]

    def _rare(self, cluster: int) -> bool:
        users = self.by_cluster.get(cluster, Counter()).values()
        heavy = sum(1 for n in users if n >= 2)
        return heavy >= len(users) - heavy

    # -- classifier boundary walk --------------------------------------------------------------

    def _walk(self, p: _Profile, text: str, margin: float | None) -> Hit | None:
        cfg = self.cfg
        tokens = normalise(text).split()
        if not tokens:
            return None
        parent = None
        if p.walks:
            found = extractOne(
                tokens, [w.tokens for w in p.walks], scorer=Levenshtein.distance,
                score_cutoff=WALK_STEP,
            )  # fmt: skip
            if found is not None and found[1] >= 1:
                parent = p.walks[found[2]]
        if parent is None:
            walk = _Walk(tokens, 0, tokens, margin)
        else:
            walk = _Walk(tokens, parent.depth + 1, parent.root, margin)
        p.walks.append(walk)
        if walk.depth < cfg.walk_steps // 4:
            return None
        drift = Levenshtein.distance(walk.root, tokens)
        self._peak(p, "boundary-probing",
                   min(walk.depth / cfg.walk_steps, drift / cfg.walk_drift))  # fmt: skip
        margins = [w.margin for w in p.walks if w.margin is not None and w.root is walk.root]
        near = sum(1 for m in margins if m < cfg.boundary_margin)
        # with scores, a walk whose margins sit near the boundary needs half the drift
        scored = len(margins) >= cfg.walk_steps // 2 and near >= len(margins) / 2
        need = cfg.walk_drift // 2 if scored else cfg.walk_drift
        if walk.depth < cfg.walk_steps or drift < need:
            return None
        evidence: dict[str, Any] = {
            "walk_steps": walk.depth,
            "drift_words": drift,
            "step_words": WALK_STEP,
            "thresholds": {"steps": cfg.walk_steps, "drift": cfg.walk_drift},
            "queries": p.queries,
            "start": self._sample(" ".join(walk.root)),
            "now": self._sample(" ".join(tokens)),
        }
        if margins:
            evidence["scored_steps"] = len(margins)
            evidence["near_boundary"] = near
            evidence["boundary_margin"] = cfg.boundary_margin
        score = min(1.0, walk.depth / (2 * cfg.walk_steps))
        return "boundary-probing", score, evidence

    # -- logit_bias --------------------------------------------------------------------------

    def _logit(
        self, p: _Profile, t: float, bias: tuple[str, ...] | None, shape: Shape
    ) -> Hit | None:
        if bias is None:
            return None
        key = ",".join(bias)
        p.biases.append(key)
        p.bias_counts[key] += 1
        while len(p.biases) > self.cfg.window:
            old = p.biases.popleft()
            p.bias_counts[old] -= 1
            if not p.bias_counts[old]:
                del p.bias_counts[old]
        variations = len(p.bias_counts)
        self._peak(p, "logit-probing", variations / self.cfg.logit_probes)
        if variations < self.cfg.logit_probes:
            return None
        _, used = p.bias_counts.most_common(1)[0]
        evidence = {
            "queries": p.queries,
            "logit_bias_queries": len(p.biases),
            "distinct_variations": variations,
            "most_common_share": round(used / len(p.biases), 3),
            "with_logprobs": shape.logprobs,
            "threshold": self.cfg.logit_probes,
            "samples": list(p.bias_counts)[-3:],
        }
        return "logit-probing", min(1.0, variations / (2 * self.cfg.logit_probes)), evidence

    # -- distillation harvesting ------------------------------------------------------------------

    def _harvest(self, p: _Profile, t: float, shape: Shape, repeat: bool) -> Hit | None:
        cfg = self.cfg
        long = shape.max_tokens is None or shape.max_tokens >= LONG_OUTPUT
        # soft labels need a distribution: top_logprobs of at least 2 (or logprobs on a
        # completions route, which returns alternatives by default)
        if not (shape.logprobs and long and shape.top_logprobs >= 2):
            return None
        p.harvest.append((t, not repeat))
        p.harvest_distinct += not repeat
        while p.harvest and p.harvest[0][0] < t - cfg.topic_seconds:
            _, distinct = p.harvest.popleft()
            p.harvest_distinct -= distinct
        n = len(p.harvest)
        repeat_rate = 1 - p.harvest_distinct / n
        novel = (1 - repeat_rate) / max(1 - cfg.harvest_repeat_rate, 1e-9)
        self._peak(p, "distillation-harvest", min(p.harvest_distinct / cfg.harvest_prompts, novel))
        if p.harvest_distinct < cfg.harvest_prompts or repeat_rate > cfg.harvest_repeat_rate:
            return None
        evidence = {
            "long_logprob_queries": n,
            "distinct_prompts": p.harvest_distinct,
            "repeat_rate": round(repeat_rate, 3),
            "long_output_tokens": LONG_OUTPUT,
            "thresholds": {"prompts": cfg.harvest_prompts, "repeat_rate": cfg.harvest_repeat_rate},
            "effective_topics": round(p.recent.effective_topics(), 1),
        }
        score = min(1.0, p.harvest_distinct / (2 * cfg.harvest_prompts))
        return "distillation-harvest", score, evidence

    # -- embeddings ----------------------------------------------------------------------------

    def _embedding(
        self, p: _Profile, account: str, t: float, norm: str, shape: Shape, repeat: bool
    ) -> Hit | None:
        cfg = self.cfg
        if repeat or not norm:
            return None
        self.embedder.learn(account, norm)
        vec = self.embedder.embed(norm)
        if vec is None:
            return None
        sim = float(vec @ p.last_vec) if p.last_vec is not None else 0.0
        p.last_vec = vec
        p.embeds.append((t, sim, len(norm)))
        while p.embeds and (p.embeds[0][0] < t - cfg.topic_seconds or len(p.embeds) > 5000):
            p.embeds.popleft()
        n = len(p.embeds)
        if n < cfg.embed_queries // 4:
            return None
        sims = sorted(s for _, s, _ in p.embeds)
        lengths = sorted(ln for _, _, ln in p.embeds)
        chained = sims[n // 2]
        median_chars = lengths[n // 2]
        unchained = cfg.embed_chain_similarity / max(chained, 1e-3)
        short = QUESTION_CHARS / max(median_chars, 1)
        self._peak(p, "embedding-theft", min(n / cfg.embed_queries, unchained, short))
        if n < cfg.embed_queries:
            return None
        if chained >= cfg.embed_chain_similarity or median_chars > QUESTION_CHARS:
            return None
        evidence = {
            "distinct_inputs": n,
            "median_similarity_to_previous": round(chained, 3),
            "median_chars": median_chars,
            "inputs_per_request": shape.inputs,
            "thresholds": {"inputs": cfg.embed_queries,
                           "chain_similarity": cfg.embed_chain_similarity},
        }  # fmt: skip
        return "embedding-theft", min(1.0, n / (2 * cfg.embed_queries)), evidence
