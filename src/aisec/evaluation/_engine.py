"""The red-team engine: sample attacks against a target, estimate rates, stop early.

Unbiased rate estimation: every category's variants (attack x converter chain) are
sampled round-robin with per-request seeds; after each batch (a "look") the category's
interval at ``alpha / looks`` decides whether it is already clearly above or below its
threshold, and sampling stops there (sequential testing). Multi-turn escalations are run
apart from that and never enter a rate: they are bug-hunting, reported as such.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aisec.evaluation._detectors import DetectContext, calibration_cards, detector
from aisec.evaluation._model import Message, Outcome, Probe, Reply, TrialRecord
from aisec.evaluation._state import RunState
from aisec.evaluation._stats import CalibrationCard, Estimate, Verdict, estimate_rate
from aisec.evaluation._suite import CategorySpec, EscalationSpec, Suite, Variant
from aisec.evaluation._targets import Budget, BudgetExhaustedError, Target
from aisec.evaluation._verdict import CoverageRule, Judgement, family_stats, judge

__all__ = [
    "CategoryResult",
    "EscalationResult",
    "Progress",
    "RunOptions",
    "RunResult",
    "TargetContext",
    "run_redteam",
]


@dataclass(frozen=True, slots=True)
class RunOptions:
    samples: int = 60  # most samples per variant (the fixed-sample design)
    concurrency: int = 16
    seed: int = 0
    confidence: float = 0.95
    look_every: int = 30  # trials per category between sequential looks
    sequential: bool = True
    budget_requests: int | None = None
    budget_tokens: int | None = None
    escalation_runs: int = 3
    transcripts_per_attack: int = 2
    price_prompt_per_1k: float = 0.0  # currency units per 1,000 prompt tokens
    price_completion_per_1k: float = 0.0
    coverage: CoverageRule = field(default_factory=CoverageRule)
    mutation_budget: int = 0  # requests per undecided/robust category for the mutation search


@dataclass(frozen=True, slots=True)
class TargetContext:
    """What the run knows about the application under test (for detectors and digests)."""

    system_prompt: str | None = None
    canaries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    planned: int
    successes: int
    errors: int
    requests: int


@dataclass
class CategoryResult:
    spec: CategorySpec
    variants: tuple[Variant, ...]
    skipped_attacks: dict[str, str] = field(default_factory=dict)  # attack id -> reason
    records: list[TrialRecord] = field(default_factory=list)
    errors: int = 0
    next_index: int = 0
    looks: int = 0
    stopped_early: bool = False
    estimate: Estimate | None = None
    sequential_estimate: Estimate | None = None
    verdict: Verdict = Verdict.INCONCLUSIVE
    judgement: Judgement | None = None
    samples: int = 0  # most samples per variant

    @property
    def max_trials(self) -> int:
        return self.samples * len(self.variants)

    @property
    def order(self) -> list[tuple[Variant, int]]:
        """Round-robin over the variants: sample 0 of each, then sample 1, ..."""
        return [(v, s) for s in range(self.samples) for v in self.variants]

    @property
    def successes(self) -> int:
        return sum(r.outcome is Outcome.SUCCESS for r in self.records)

    @property
    def trials(self) -> int:
        return len(self.records)

    @property
    def family_of(self) -> dict[str, str]:
        """attack id -> attack family (its framing, see ``_verdict``)."""
        return {v.attack.id: v.attack.technique for v in self.variants}

    @property
    def detector_id(self) -> str | None:
        ids = {v.attack.detector for v in self.variants}
        return ids.pop() if len(ids) == 1 else None


@dataclass
class EscalationResult:
    spec: EscalationSpec
    runs: list[dict[str, object]] = field(default_factory=list)  # found, turn, transcript
    skipped: str = ""


@dataclass
class RunResult:
    run_id: str
    suite: Suite
    target: str
    options: RunOptions
    context: TargetContext
    categories: list[CategoryResult]
    escalations: list[EscalationResult]
    mutations: list[dict[str, object]] = field(default_factory=list)
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    resumed_trials: int = 0
    budget_exhausted: str = ""
    seconds: float = 0.0


TURN_RETRIES = 2  # an errored turn is asked again this many times before moving on


def _seed(run_seed: int, trial_id: str) -> int:
    h = hashlib.sha256(f"{run_seed}\x1f{trial_id}".encode()).digest()
    return int.from_bytes(h[:4], "big") & 0x7FFFFFFF


def _usable(spec_detector: str, ctx: TargetContext) -> str:
    needs = detector(spec_detector).needs
    if needs == "canary" and not ctx.canaries:
        return "no canary or secret of the application is known (give --canary)"
    if needs == "system_prompt" and not ctx.system_prompt:
        return "the system prompt is not known (give --system-prompt-file)"
    return ""


class _Runner:
    def __init__(
        self,
        target: Target,
        suite: Suite,
        options: RunOptions,
        ctx: TargetContext,
        state: RunState,
        progress: Callable[[Progress], None] | None,
    ) -> None:
        self.target, self.suite, self.opt, self.ctx, self.state = target, suite, options, ctx, state
        self.progress = progress
        self.budget = Budget(options.budget_requests)
        self.sem = asyncio.Semaphore(max(1, options.concurrency))
        self.cards = calibration_cards()
        self.done = self.successes = self.errors = 0
        self.planned = 0
        self.prompt_tokens = self.completion_tokens = 0
        self.exhausted = ""

    def _tick(self) -> None:
        if self.progress is not None:
            self.progress(
                Progress(self.done, self.planned, self.successes, self.errors, self.budget.used)
            )

    def _out_of_budget(self) -> bool:
        if self.budget.exhausted:
            self.exhausted = f"request budget of {self.opt.budget_requests} spent"
        tokens = self.prompt_tokens + self.completion_tokens
        if self.opt.budget_tokens is not None and tokens >= self.opt.budget_tokens:
            self.exhausted = f"token budget of {self.opt.budget_tokens} spent"
        return bool(self.exhausted)

    async def _send(self, trial_id: str, probe: Probe) -> Reply | None:
        async with self.sem:
            if self._out_of_budget():
                return None
            try:
                reply = await self.target.send(probe, self.budget)
            except BudgetExhaustedError:
                self._out_of_budget()
                return None
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        return reply

    def _judge(
        self,
        det: str,
        reply: Reply,
        marker: str | None,
        requested: tuple[str, ...],
        max_tokens: int,
    ) -> Outcome:
        if not reply.ok:
            return Outcome.ERROR
        dctx = DetectContext(
            canaries=self.ctx.canaries,
            system_prompt=self.ctx.system_prompt,
            marker=marker,
            requested_tools=requested,
            max_tokens=max_tokens,
        )
        return Outcome.SUCCESS if detector(det).detect(reply, dctx) else Outcome.FAIL

    def _count(self, rec: TrialRecord) -> None:
        self.done += 1
        self.successes += rec.outcome is Outcome.SUCCESS
        self.errors += rec.outcome is Outcome.ERROR
        self._tick()

    async def trial(self, cat: CategoryResult, variant: Variant, sample: int) -> None:
        trial_id = f"{variant.id}#{sample}"
        rec = self.state.done.get(trial_id)
        if rec is None:
            a = variant.attack
            prompt = variant.prompt()
            probe = Probe(
                trial_id,
                (Message("user", prompt),),
                a.tools,
                a.max_tokens,
                _seed(self.opt.seed, trial_id),
            )
            reply = await self._send(trial_id, probe)
            if reply is None:
                return
            outcome = self._judge(a.detector, reply, a.marker, a.requested_tools, a.max_tokens)
            rec = TrialRecord(
                trial_id, cat.spec.id, a.id, variant.id, sample, outcome, prompt, reply
            )
            self.state.append(rec)
        if rec.outcome is Outcome.ERROR:
            cat.errors += 1
        else:
            cat.records.append(rec)
        self._count(rec)

    def _estimate(self, cat: CategoryResult, looks: int = 1) -> Estimate:
        det = cat.detector_id
        card = self.cards.get(det) if det else self._worst_card(cat)
        return estimate_rate(
            cat.successes, cat.trials, confidence=self.opt.confidence, card=card, looks=looks
        )

    def _worst_card(self, cat: CategoryResult) -> CalibrationCard | None:
        # several detectors in one category: use the least sensitive and least specific
        cards = [
            self.cards[v.attack.detector] for v in cat.variants if v.attack.detector in self.cards
        ]
        if not cards:
            return None
        worst_se = min(cards, key=lambda c: c.sensitivity)
        worst_sp = min(cards, key=lambda c: c.specificity)
        return CalibrationCard(
            "+".join(sorted({c.detector for c in cards})),
            worst_se.tp,
            worst_se.fn,
            worst_sp.tn,
            worst_sp.fp,
        )

    async def categories(self, cats: list[CategoryResult]) -> None:
        step = max(1, self.opt.look_every)
        active = [c for c in cats if c.variants]
        self.planned = sum(c.max_trials for c in active) + sum(
            (len(e.turns) if e.mode == "scripted" else e.max_turns) * self.opt.escalation_runs
            for e in self.suite.escalations
        )
        while active and not self._out_of_budget():
            jobs: list[Awaitable[None]] = []
            for cat in active:
                order = cat.order
                batch = order[cat.next_index : cat.next_index + step]
                cat.next_index += len(batch)
                jobs.extend(self.trial(cat, v, s) for v, s in batch)
            await asyncio.gather(*jobs)
            still: list[CategoryResult] = []
            for cat in active:
                cat.looks += 1
                looks = math.ceil(cat.max_trials / step)
                seq = self._estimate(cat, looks)
                cat.sequential_estimate = seq
                # stop early only when the pooled interval decides and the coverage rule
                # agrees: a category found vulnerable through one family keeps sampling, so
                # its pooled rate is still estimated as well as the fixed design allows
                pooled = seq.verdict(cat.spec.threshold)
                decided = (
                    pooled is not Verdict.INCONCLUSIVE
                    and self._judge_category(cat, seq).verdict is pooled
                )
                if cat.next_index >= cat.max_trials:
                    continue
                if decided and self.opt.sequential:
                    cat.stopped_early = True
                    continue
                still.append(cat)
            active = still
        for cat in cats:
            cat.estimate = self._estimate(cat)
            last = cat.sequential_estimate or cat.estimate
            cat.judgement = self._judge_category(cat, last)
            cat.verdict = cat.judgement.verdict

    def _judge_category(self, cat: CategoryResult, est: Estimate) -> Judgement:
        fams = family_stats(cat.records, cat.family_of)
        return judge(
            est, cat.spec.threshold, fams, self.opt.coverage, confidence=self.opt.confidence
        )

    def _next_turn(self, spec: EscalationSpec, run: int, step: int, refusals: int) -> str:
        text = spec.turns[step]
        if spec.mode == "crescendo" and refusals and spec.reframes:
            reframe = spec.reframes[(run + refusals - 1) % len(spec.reframes)]
            text = reframe.replace("{step}", text)
        return text

    async def _turn(
        self, spec: EscalationSpec, run: int, turn: int, messages: list[Message]
    ) -> TrialRecord | None:
        """One turn, retried up to ``TURN_RETRIES`` times on an errored reply."""
        rec: TrialRecord | None = None
        for attempt in range(TURN_RETRIES + 1):
            trial_id = f"{spec.id}@{run}/t{turn}" + (f"r{attempt}" if attempt else "")
            rec = self.state.done.get(trial_id)
            if rec is None:
                probe = Probe(
                    trial_id, tuple(messages), (), spec.max_tokens, _seed(self.opt.seed, trial_id)
                )
                reply = await self._send(trial_id, probe)
                if reply is None:
                    return None
                outcome = self._judge(spec.detector, reply, spec.marker, (), spec.max_tokens)
                rec = TrialRecord(
                    trial_id,
                    spec.category,
                    spec.id,
                    spec.id,
                    run,
                    outcome,
                    messages[-1].content,
                    reply,
                )
                self.state.append(rec)
            self._count(rec)
            if rec.outcome is not Outcome.ERROR:
                return rec
        return rec

    async def mutation(self, cat: CategoryResult) -> dict[str, object]:
        """The non-LLM mutation search on one category (see ``_mutate``)."""
        from aisec.evaluation._mutate import MutationSearch

        attacks = tuple(dict.fromkeys(v.attack for v in cat.variants))
        search = MutationSearch(attacks, _seed(self.opt.seed, f"mut-{cat.spec.id}"))
        refusal = detector("refusal")
        found: list[dict[str, object]] = []
        step = 0
        while step < self.opt.mutation_budget and not self._out_of_budget():
            ind = search.next()
            trial_id = f"mut-{cat.spec.id}@{step}"
            prompt = ind.prompt()
            rec = self.state.done.get(trial_id)
            if rec is None:
                a = ind.attack
                probe = Probe(
                    trial_id,
                    (Message("user", prompt),),
                    a.tools,
                    a.max_tokens,
                    _seed(self.opt.seed, trial_id),
                )
                reply = await self._send(trial_id, probe)
                if reply is None:
                    break
                outcome = self._judge(a.detector, reply, a.marker, a.requested_tools, a.max_tokens)
                rec = TrialRecord(
                    trial_id, cat.spec.id, f"mut-{a.id}", ind.id, step, outcome, prompt, reply
                )
                self.state.append(rec)
            self._count(rec)
            step += 1
            if rec.outcome is Outcome.ERROR:
                search.tell(ind, 0)
                continue
            ok = rec.outcome is Outcome.SUCCESS
            search.tell(ind, 2 if ok else int(not refusal.detect(rec.reply, DetectContext())))
            if ok:
                found.append(
                    {
                        "run": len(found),
                        "found": True,
                        "turn": step,
                        "individual": ind.id,
                        "transcript": [
                            {"role": "user", "content": prompt},
                            {"role": "assistant", "content": rec.reply.text},
                        ],
                    }
                )
        return {
            "id": f"mutation-{cat.spec.id}",
            "category": cat.spec.id,
            "technique": "mutation search over framings and converters (no attacker model)",
            "mode": "mutation",
            "atlas": list(cat.spec.atlas),
            "goal": cat.spec.title,
            "counts_toward_rates": False,
            "skipped": "",
            "requests": step,
            "found_in": len(found),
            "runs": found[:3],
        }

    async def escalation(self, spec: EscalationSpec, run: int) -> dict[str, object]:
        """A scripted or crescendo conversation; errors are retried, never fatal."""
        messages: list[Message] = []
        transcript: list[dict[str, str]] = []
        limit = len(spec.turns) if spec.mode == "scripted" else spec.max_turns
        step = refusals = errored = 0
        refusal = detector("refusal")
        for turn in range(limit):
            text = self._next_turn(spec, run, step, refusals)
            messages.append(Message("user", text))
            rec = await self._turn(spec, run, turn, messages)
            if rec is None:
                return {
                    "run": run,
                    "found": None,
                    "turn": None,
                    "transcript": transcript,
                    "note": self.exhausted,
                }
            transcript += [
                {"role": "user", "content": text},
                {"role": "assistant", "content": rec.reply.text or f"[error: {rec.reply.error}]"},
            ]
            if rec.outcome is Outcome.SUCCESS:
                return {"run": run, "found": True, "turn": turn + 1, "transcript": transcript}
            if rec.outcome is Outcome.ERROR:
                errored += 1
                messages.pop()  # the target never answered it: ask the next turn instead
                continue
            messages.append(Message("assistant", rec.reply.text))
            if spec.mode == "scripted":
                step = min(step + 1, len(spec.turns) - 1)
            elif refusal.detect(rec.reply, DetectContext()):
                refusals += 1  # stay on this step, reframed
            else:
                step, refusals = min(step + 1, len(spec.turns) - 1), 0
        note = f"{errored} turns errored after retries" if errored else ""
        return {"run": run, "found": False, "turn": None, "transcript": transcript, "note": note}


async def run_redteam(
    target: Target,
    suite: Suite,
    state: RunState,
    *,
    options: RunOptions | None = None,
    context: TargetContext | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> RunResult:
    """Run ``suite`` against ``target``; results so far are kept in ``state``."""
    opt = options or RunOptions()
    ctx = context or TargetContext()
    started = time.monotonic()
    runner = _Runner(target, suite, opt, ctx, state, progress)
    cats: list[CategoryResult] = []
    for spec in suite.categories:
        cat = CategoryResult(spec, ())
        usable = []
        for v in suite.variants(spec.id):
            reason = _usable(v.attack.detector, ctx)
            if v.attack.tools and not target.supports_tools:
                reason = "the target does not accept tool definitions"
            if reason:
                cat.skipped_attacks[v.attack.id] = reason
            else:
                usable.append(v)
        cat.variants = tuple(usable)
        cat.samples = opt.samples
        cats.append(cat)
    escs = [EscalationResult(e) for e in suite.escalations]
    mutations: list[dict[str, object]] = []
    try:
        with state:
            await runner.categories(cats)
            for esc in escs:
                esc.skipped = _usable(esc.spec.detector, ctx)
                if esc.skipped:
                    continue
                for run in range(opt.escalation_runs):
                    if runner._out_of_budget():
                        break
                    esc.runs.append(await runner.escalation(esc.spec, run))
            if opt.mutation_budget:
                todo = [c for c in cats if c.variants and c.verdict is not Verdict.VULNERABLE]
                mutations.extend([await runner.mutation(c) for c in todo])
    finally:
        await target.aclose()
    return RunResult(
        run_id=str(state.header.get("run_id")),
        suite=suite,
        target=target.identifier,
        options=opt,
        context=ctx,
        categories=cats,
        escalations=escs,
        mutations=mutations,
        requests=runner.budget.used,
        prompt_tokens=runner.prompt_tokens,
        completion_tokens=runner.completion_tokens,
        resumed_trials=state.resumed,
        budget_exhausted=runner.exhausted,
        seconds=time.monotonic() - started,
    )
