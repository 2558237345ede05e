"""A realistic day of API traffic, generated: benign populations and extraction campaigns.

Not the dev set's company: a travel-insurance and airline-support business ("Skyline Cover")
with a chat route, an embeddings route and a toxicity classifier. Every population is written
here from scratch, with its own wording, slots, typos, casing and language mix:

Benign: ordinary travellers (dozens of intents, rephrasing after unhelpful answers, follow-ups
with history, some asking the attackers' questions in passing), support widgets forwarding
many end users, a claims-extraction batch job over long documents, a localisation job (each
string into several languages), an evaluation harness re-running a fixed prompt set with long
outputs and logprobs, a multiple-choice benchmark (short answers with logprobs), a yes/no
grader with a fixed ``logit_bias``, a ban-list app with a fixed ``logit_bias``, a document
indexer on the embeddings route, a semantic-search app, forum moderation on the classifier, a
copywriter testing headline variants, a developer poking the classifier by hand.

Attackers (classes): P paraphrase flood without logprobs; M top-1-label boundary walk on the
classifier; S slow and low under cover traffic; K one question spread over six keys, each key
below any single-key threshold; L single-token logit_bias binary searches; H distillation
harvest; T embedding-model theft.

``generate_day(seed)`` returns the rows (``t``, ``api_key``, ``route``, ``body``) in time
order and a truth mapping in the shape :func:`aisec.inference.tune.load_truth` reads.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from typing import Any

__all__ = ["CHAT", "CLASSIFY", "DAY_SECONDS", "EMBED", "ROUTES", "generate_day"]

CHAT = "/v1/chat/completions"
EMBED = "/v1/embeddings"
CLASSIFY = "/classify"
ROUTES: list[dict[str, Any]] = [
    {"path": CHAT, "kind": "openai-chat"},
    {"path": EMBED, "kind": "openai-embeddings"},
    {"path": CLASSIFY, "kind": "classifier", "scores": "scores", "labels": "labels"},
]
DAY_SECONDS = 6 * 3600.0

_OPEN = (
    "",
    "",
    "",
    "hi, ",
    "Hello! ",
    "hey there, ",
    "Good evening. ",
    "Hola, ",
    "Hallo, ",
    "Bonjour, ",
    "quick one: ",
    "Sorry if this is obvious, ",
    "URGENT: ",
    "Dear Skyline, ",
)
_CLOSE = ("", "", "", " thanks", " Thank you!", " cheers", " gracias", " danke!", " merci",
          " pls answer asap", " many thanks in advance.", " :)")  # fmt: skip
_INTENTS: tuple[tuple[str, ...], ...] = (
    ("my flight to {city} was delayed {n} hours, can I claim compensation?",
     "flight {city} delayed by {n}h - what compensation do I get",
     "is a {n} hour delay on my {city} flight covered"),
    ("how do I add my partner to my policy?", "can I put my wife on my travel cover",
     "adding a second traveller to the policy, how?"),
    ("what is the excess on a lost-luggage claim?", "how much do I pay myself if my bag is lost",
     "luggage lost: what's my deductible"),
    ("does the basic plan include winter sports?", "am I insured for skiing in {city}",
     "snowboarding covered on basic cover?"),
    ("how do I download my policy certificate?", "where can I get my insurance certificate pdf",
     "need proof of insurance for my visa to {city}"),
    ("can I change the dates of my trip after buying?", "my trip moved by {n} days, update policy?",
     "change travel dates on existing policy"),
    ("my card was charged twice for policy {code}", "double charge on my account",
     "why did you bill me two times"),
    ("is covid quarantine covered abroad?", "what if I test positive in {city}",
     "quarantine costs in {city} reimbursed?"),
    ("how long does a claim take to be paid?", "claim {code} still pending after {n} days",
     "when will I get my claim money"),
    ("can I cancel my policy within 14 days?", "cooling off period for cancellation",
     "I bought the wrong plan, can I cancel"),
    ("do you cover rental car damage in {city}?", "car hire excess insurance included?",
     "scratched my rental car, covered?"),
    ("what number do I call for a medical emergency abroad?", "emergency hotline number please",
     "I'm in hospital in {city}, who do I call"),
    ("is my laptop covered if stolen from the hotel?", "stolen phone at hotel in {city}",
     "electronics theft cover limit"),
    ("can I get a receipt for my premium?", "invoice for policy {code}",
     "need VAT receipt for company expenses"),
    ("does the policy cover pre-existing conditions like asthma?",
     "I have diabetes, am I covered", "declare a medical condition on my policy"),
    ("how do I reset my password?", "can't log in to my account",
     "password reset email never arrived"),
    ("what counts as a missed connection?", "missed my connecting flight in {city}",
     "connection missed because first leg was late"),
    ("are cruise holidays included?", "cruise cover add-on price",
     "going on a cruise from {city}, covered?"),
    ("is there an age limit for annual multi-trip?", "my dad is {n}0, can he get annual cover",
     "over 70s annual policy"),
    ("how do I upload documents for my claim?", "where do I send receipts for claim {code}",
     "upload photos of damaged bag"),
)  # fmt: skip
_CITIES = ("Lisbon", "Osaka", "Denver", "Cape Town", "Reykjavik", "Hanoi", "Lima", "Oslo",
           "Marrakesh", "Auckland", "Prague", "Bogota", "Seoul", "Nairobi",
           "Vancouver")  # fmt: skip

# attacker P: one coverage decision, reworded by recombining slots
_P_SUBJ = (
    "does my policy",
    "will Skyline",
    "would the insurance",
    "is it true my cover will",
    "can I expect you to",
    "will my plan",
    "does the premium plan",
    "would you",
)
_P_VERB = (
    "pay out",
    "reimburse me",
    "cover the costs",
    "refund the trip",
    "compensate me",
    "pay back the booking",
    "cover it",
)
_P_WHY = (
    "if I cancel because my dog gets sick",
    "when I call off the trip since my pet is ill",
    "if my cat needs surgery and I cancel",
    "for cancelling due to my dog's illness",
    "should I cancel as my pet has to go to the vet",
    "if a sick animal forces cancellation",
    "when the trip is cancelled because of my dog being unwell",
)
_P_TAIL = (
    "",
    "?",
    " - yes or no?",
    ", only answer covered or not covered",
    " (policy {code})",
    " just need a straight answer",
    ", one word",
    " in the basic tier?",
    " on annual cover?",
)

# attacker S: three related questions, slowly
_S_QS = (
    ("is a volcanic ash cancellation covered", "if an ash cloud grounds my flight do you pay",
     "eruption closes the airport: reimbursed?", "ash cloud cancellation cover yes/no"),
    ("do you pay for a strike by airport staff", "is industrial action at the airport covered",
     "ground staff strike cancels flight, covered?", "airport workers walk out, do I get money"),
    ("is a hurricane warning a valid reason to cancel", "cancel because of a storm forecast ok?",
     "tropical storm at destination, can I claim", "hurricane alert, will you refund"),
)  # fmt: skip
# attacker K: one question from six keys
_K_Q = ("what documents do I need for a baggage delay claim",
        "which papers are required to claim for delayed luggage",
        "list the proof needed when my suitcase arrives late", "delayed bag claim: what evidence",
        "my luggage came {n} days late, what do I have to send you",
        "baggage delay claim requirements", "what receipts prove a delayed bag",
        "do I need a PIR report for a late suitcase claim")  # fmt: skip
_TOPICS = (
    "volcanoes",
    "sourdough",
    "tax law",
    "jazz harmony",
    "orbital mechanics",
    "tea",
    "medieval trade",
    "knitting",
    "quantum dots",
    "coral reefs",
    "chess endgames",
    "urban planning",
    "bird migration",
    "espresso",
    "glaciers",
    "typography",
    "beekeeping",
    "ancient Rome",
    "compilers",
    "opera",
    "wind turbines",
    "fermentation",
    "origami",
    "desert ecology",
    "cryptography",
    "marathon pacing",
    "impressionism",
    "soil science",
)
_TASKS = (
    "Write a detailed essay on {t} for {a}.",
    "Explain {t} step by step to {a}.",
    "Give a long, thorough overview of {t} and {u}.",
    "Compare {t} with {u} in depth.",
    "Draft a complete lesson plan about {t} for {a}.",
    "Describe the history of {t}.",
    "List twenty facts about {t} with explanations.",
    "Write a story involving {t}.",
)
_AUDIENCE = ("beginners", "a ten year old", "engineers", "retirees", "students", "a chef",
             "investors", "nurses")  # fmt: skip
_TOXIC = (
    "you are a complete idiot and everyone hates your stupid posts",
    "shut up you worthless clown nobody asked for your garbage opinion",
    "people like you are pathetic losers who should leave this forum",
)
_SOFT = ("friend", "please", "maybe", "kindly", "honestly", "respectfully", "sir", "buddy",
         "perhaps", "sorry", "dear", "lovely", "thanks")  # fmt: skip


def _typo(rng: random.Random, text: str, p: float = 0.15) -> str:
    if rng.random() > p or len(text) < 8:
        return text
    i = rng.randrange(1, len(text) - 2)
    op = rng.random()
    if op < 0.4:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if op < 0.7:
        return text[:i] + text[i + 1 :]
    return text[:i] + rng.choice(string.ascii_lowercase) + text[i:]


def _case(rng: random.Random, text: str) -> str:
    r = rng.random()
    if r < 0.15:
        return text.lower()
    if r < 0.2:
        return text.upper()
    return text[:1].upper() + text[1:]


def _fill(rng: random.Random, text: str) -> str:
    return text.format(city=rng.choice(_CITIES), n=rng.randint(2, 9),
                       code=f"SK-{rng.randint(10000, 99999)}")  # fmt: skip


def _wrap(rng: random.Random, core: str) -> str:
    return _case(rng, _typo(rng, rng.choice(_OPEN) + _fill(rng, core) + rng.choice(_CLOSE)))


def _chat(text: str, system: str | None = None, **extra: Any) -> dict[str, Any]:
    msgs: list[dict[str, str]] = []
    if system:
        msgs.append({"role": "system", "content": system})
    msgs.append({"role": "user", "content": text})
    return {"model": "skyline-chat-1", "messages": msgs, **extra}


class _Day:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 -- reproducible traffic, not secrets
        self.rows: list[dict[str, Any]] = []
        self.truth: dict[str, dict[str, Any]] = {}
        self.classes: dict[str, dict[str, Any]] = {}

    def key(self, label: str, kind: str, klass: str | None = None, tricky: bool = False) -> str:
        k = "sk-" + "".join(self.rng.choices(string.ascii_lowercase + string.digits, k=30))
        self.truth[k] = {"label": label, "class": klass, "kind": kind, "tricky": tricky}
        if klass:
            self.classes.setdefault(klass, {"keys": []})["keys"].append(k)
        return k

    def send(self, key: str, t: float, route: str, body: dict[str, Any]) -> None:
        self.rows.append({"t": round(min(max(t, 0.0), DAY_SECONDS), 3), "api_key": key,
                          "route": route, "body": body})  # fmt: skip

    def times(self, n: int, start: float, end: float) -> list[float]:
        return sorted(self.rng.uniform(start, end) for _ in range(n))

    def spread(self, key: str, route: str, bodies: list[dict[str, Any]], start: float = 0.0,
               end: float = DAY_SECONDS) -> None:  # fmt: skip
        for t, body in zip(self.times(len(bodies), start, end), bodies, strict=True):
            self.send(key, t, route, body)


def _intent(rng: random.Random) -> str:
    return _wrap(rng, rng.choice(rng.choice(_INTENTS)))


def _individuals(day: _Day, n: int) -> None:
    rng = day.rng
    for _ in range(n):
        key = day.key("benign", "traveller")
        t = rng.uniform(0, DAY_SECONDS - 1800)
        for _session in range(rng.randint(1, 4)):
            history: list[dict[str, str]] = []
            for _turn in range(rng.randint(1, 4)):
                r = rng.random()
                if r < 0.06:
                    core = " ".join((rng.choice(_P_SUBJ), rng.choice(_P_VERB), rng.choice(_P_WHY)))
                    text = _wrap(rng, core)
                elif r < 0.1:
                    text = _wrap(rng, rng.choice(_K_Q))
                else:
                    text = _intent(rng)
                msgs = [*history, {"role": "user", "content": text}]
                day.send(key, t, CHAT, {"model": "skyline-chat-1", "messages": msgs,
                                        "temperature": 0.7})  # fmt: skip
                history = [*msgs, {"role": "assistant", "content": "Let me check that for you."}]
                t += rng.uniform(20, 240)
                if rng.random() < 0.3:  # unhelpful answer: ask again in other words
                    again = _wrap(rng, rng.choice(rng.choice(_INTENTS)))
                    day.send(key, t, CHAT, _chat(again, temperature=0.7))
                    t += rng.uniform(20, 120)
            t += rng.uniform(600, 5000)


def _widgets(day: _Day) -> None:
    rng = day.rng
    for brand, n in (("Skyline app", 700), ("partner airline portal", 380)):
        key = day.key("benign", "support_widget", tricky=True)
        system = f"You are the {brand} assistant. Be brief and cite the policy wording."
        bodies = []
        for _ in range(n):
            popular = rng.random() < 0.35
            core = rng.choice(_INTENTS[rng.randrange(3)] if popular else rng.choice(_INTENTS))
            bodies.append(_chat(_wrap(rng, core), system, user=f"end-{rng.randrange(10**6):06d}",
                                temperature=0.3))  # fmt: skip
        day.spread(key, CHAT, bodies)


def _doc(rng: random.Random, words: int) -> str:
    vocab = [w for t in _TOPICS for w in t.split()] + list(_CITIES) + list(_SOFT)
    sents: list[str] = []
    while sum(len(s.split()) for s in sents) < words:
        sents.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(6, 14))).capitalize()
                     + f" ({rng.randint(1, 900)}).")  # fmt: skip
    return " ".join(sents)


def _jobs(day: _Day) -> None:
    rng = day.rng
    key = day.key("benign", "claims_extraction_batch", tricky=True)
    instr = "Extract claimant, incident date, amount and currency as JSON from this claim form:"
    bodies = [_chat(f"{instr}\n\n{_doc(rng, rng.randint(80, 220))}", temperature=0.0,
                    max_tokens=200) for _ in range(1200)]  # fmt: skip
    day.spread(key, CHAT, bodies, 3600, 3 * 3600)
    key = day.key("benign", "localisation_job", tricky=True)
    langs = ("German", "Polish", "Korean", "Brazilian Portuguese", "Turkish", "Swedish")
    strings = [_intent(rng) for _ in range(150)]
    bodies = [_chat(f"Localise this UI string into {lang}. Output the string only.\n{s}",
                    temperature=0.0) for s in strings for lang in langs]  # fmt: skip
    t = 600.0
    for body in bodies:
        t += rng.uniform(2, 14)
        day.send(key, t, CHAT, body)
    key = day.key("benign", "eval_harness_long", tricky=True)
    suite = [rng.choice(_TASKS).format(t=rng.choice(_TOPICS), u=rng.choice(_TOPICS),
                                       a=rng.choice(_AUDIENCE)) for _ in range(140)]  # fmt: skip
    for run_start in (1200.0, 9000.0, 16000.0):
        t = run_start
        for prompt in suite:
            t += rng.uniform(3, 9)
            day.send(key, t, CHAT, _chat(prompt, temperature=0.0, max_tokens=600, logprobs=True,
                                         top_logprobs=3, seed=7))  # fmt: skip
    key = day.key("benign", "mc_benchmark", tricky=True)
    bodies = []
    for i in range(600):
        q = f"Question {i}: which of these relates to {rng.choice(_TOPICS)}?"
        opts = " ".join(f"({c}) {rng.choice(_TOPICS)}" for c in "ABCD")
        bodies.append(_chat(f"{q} {opts} Answer with one letter.", temperature=0.0,
                            max_tokens=1, logprobs=True, top_logprobs=4))  # fmt: skip
    day.spread(key, CHAT, bodies, 4000, 8000)


def _bias_users(day: _Day) -> None:
    rng = day.rng
    key = day.key("benign", "yes_no_grader", tricky=True)
    bodies = [_chat(f"Claim note: {_intent(rng)}\nDoes the note mention a date? Yes or No.",
                    max_tokens=1, logprobs=True, top_logprobs=2,
                    logit_bias={"3363": 100, "1400": 100}) for _ in range(700)]  # fmt: skip
    day.spread(key, CHAT, bodies)
    key = day.key("benign", "ban_list_app", tricky=True)
    ban = {str(tok): -100 for tok in (1234, 5678, 9012, 3456, 7890, 2345)}
    bodies = [_chat(_intent(rng), "Family-friendly travel tips only.", logit_bias=ban,
                    temperature=0.9) for _ in range(250)]  # fmt: skip
    day.spread(key, CHAT, bodies)
    key = day.key("benign", "two_feature_bias_app", tricky=True)
    maps = ({"50256": -100}, {"50256": -100, "198": -5})
    bodies = [_chat(_intent(rng), logit_bias=rng.choice(maps), logprobs=True, top_logprobs=1)
              for _ in range(300)]  # fmt: skip
    day.spread(key, CHAT, bodies)


def _embedders(day: _Day) -> None:
    rng = day.rng
    key = day.key("benign", "document_indexer", tricky=True)
    t = 2000.0
    for _ in range(260):
        words = _doc(rng, 600).split()
        for c in range(0, len(words), 110):
            t += rng.uniform(0.5, 3)
            day.send(
                key, t, EMBED, {"model": "skyline-embed", "input": " ".join(words[c : c + 120])}
            )
    key = day.key("benign", "semantic_search", tricky=True)
    bodies = [{"model": "skyline-embed", "input": _fill(rng, rng.choice(rng.choice(_INTENTS)))}
              for _ in range(300)]  # fmt: skip
    day.spread(key, EMBED, bodies)


def _classifier_users(day: _Day) -> None:
    rng = day.rng
    key = day.key("benign", "forum_moderation", tricky=True)
    notices = ("User {u} joined the group {g}.", "{u} replied to your thread in {g}.",
               "Reminder: {g} meetup on day {n}.")  # fmt: skip
    bodies = []
    for _ in range(900):
        if rng.random() < 0.45:
            text = rng.choice(notices).format(
                u=f"user{rng.randint(1, 9999)}", g=rng.choice(_TOPICS), n=rng.randint(1, 28)
            )
        else:
            text = _intent(rng)
        bodies.append({"text": text})
    day.spread(key, CLASSIFY, bodies)
    key = day.key("benign", "headline_copywriter", tricky=True)
    head = ["Fly", "worry", "free", "this", "summer", "with", "Skyline", "cover", "from",
            "just", "3", "euros", "a", "day"]  # fmt: skip
    bodies = []
    for _ in range(15):
        i = rng.randrange(len(head))
        head = [*head[:i], rng.choice(_SOFT), *head[i + 1 :]]
        bodies.append({"text": " ".join(head)})
    day.spread(key, CLASSIFY, bodies, 5000, 8000)
    key = day.key("benign", "classifier_developer", tricky=True)
    words = _TOXIC[0].split()
    bodies = []
    for _ in range(9):
        words = words[:-1] if len(words) > 3 else words
        bodies.append({"text": " ".join(words)})
    day.spread(key, CLASSIFY, bodies, 12000, 12600)


def _attackers(day: _Day) -> None:
    rng = day.rng
    # P: paraphrase flood, no logprobs, mixed languages and typos
    key = day.key("attacker", "paraphrase_flood", "P")
    bodies = []
    for _ in range(420):
        core = " ".join((rng.choice(_P_SUBJ), rng.choice(_P_VERB), rng.choice(_P_WHY)))
        bodies.append(_chat(_wrap(rng, core + rng.choice(_P_TAIL)), temperature=0.2,
                            max_tokens=40))  # fmt: skip
    day.spread(key, CHAT, bodies, 5400, 5400 + 5400)
    # M: top-1-label boundary walk on the classifier
    key = day.key("attacker", "label_only_boundary_walk", "M")
    bodies = []
    for seed_text in _TOXIC:
        words = seed_text.split()
        for _ in range(130):
            op = rng.random()
            i = rng.randrange(len(words))
            if op < 0.4:
                words = [*words[:i], rng.choice(_SOFT), *words[i:]]
            elif op < 0.7 and len(words) > 4:
                words = [*words[:i], *words[i + 1 :]]
            else:
                words = [*words[:i], _typo(rng, words[i], 1.0), *words[i + 1 :]]
            bodies.append({"text": " ".join(words)})
    t = 7000.0
    for body in bodies:
        t += rng.uniform(4, 15)
        day.send(key, t, CLASSIFY, body)
    # S: slow and low with cover questions
    key = day.key("attacker", "slow_low_with_cover", "S")
    t = rng.uniform(0, 300)
    while t < DAY_SECONDS:
        cover = rng.random() < 0.3
        text = _intent(rng) if cover else _wrap(rng, rng.choice(rng.choice(_S_QS)))
        day.send(key, t, CHAT, _chat(text, temperature=0.0, max_tokens=80))
        t += rng.uniform(90, 240)
    # K: one question from six keys, each under any per-key threshold
    k_start = 3600.0
    for _ in range(6):
        key = day.key("attacker", "multi_key_campaign", "K")
        bodies = [_chat(_wrap(rng, rng.choice(_K_Q)), max_tokens=150) for _ in range(14)]
        bodies += [_chat(_intent(rng), max_tokens=150) for _ in range(9)]
        rng.shuffle(bodies)
        day.spread(key, CHAT, bodies, k_start, k_start + 5 * 3600)
    # L: single-token logit_bias binary searches with top_logprobs
    key = day.key("attacker", "logit_bias_binary_search", "L")
    bodies = []
    for tok in rng.sample(range(1000, 90000), 40):
        lo, hi = 0.0, 100.0
        for _ in range(7):
            mid = round((lo + hi) / 2, 3)
            bodies.append(_chat("Continue:", max_tokens=1, top_logprobs=5,
                                logit_bias={str(tok): mid}))  # fmt: skip
            lo, hi = (mid, hi) if rng.random() < 0.5 else (lo, mid)
    day.spread(key, CHAT, bodies, 9000, 12000)
    # H: distillation harvest
    key = day.key("attacker", "distillation_harvest", "H")
    bodies = [_chat(rng.choice(_TASKS).format(t=rng.choice(_TOPICS), u=rng.choice(_TOPICS),
                                              a=rng.choice(_AUDIENCE)) + f" Variant {i}.",
                    max_tokens=900, logprobs=True, top_logprobs=5, temperature=1.0)
              for i in range(700)]  # fmt: skip
    day.spread(key, CHAT, bodies, 3000, 3000 + 3 * 3600)
    # T: embedding theft: short unrelated sentences
    key = day.key("attacker", "embedding_theft", "T")
    vocab = [w for t in _TOPICS for w in t.split()] + list(_CITIES) + list(_SOFT) + list(_AUDIENCE)
    bodies = [{"model": "skyline-embed", "input": " ".join(rng.sample(vocab, rng.randint(4, 9)))}
              for _ in range(1300)]  # fmt: skip
    day.spread(key, EMBED, bodies, 10000, 10000 + 2 * 3600)


GOALS = {"P": 100, "M": 100, "L": 100, "S": None, "K": None, "H": None, "T": None}
_STEPS: tuple[Callable[[_Day], None], ...] = (
    _widgets, _jobs, _bias_users, _embedders, _classifier_users, _attackers,
)  # fmt: skip


def generate_day(
    seed: int = 11, individuals: int = 120
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The day's rows in time order and its truth (``accounts``, ``attack_classes``)."""
    day = _Day(seed)
    _individuals(day, individuals)
    for step in _STEPS:
        step(day)
    day.rows.sort(key=lambda r: r["t"])
    for c, info in day.classes.items():
        info["goal_max_queries"] = GOALS.get(c)
    truth = {"fixture": "aisec generated day (Skyline Cover)", "seed": seed,
             "n_requests": len(day.rows), "accounts": day.truth,
             "attack_classes": dict(sorted(day.classes.items()))}  # fmt: skip
    return day.rows, truth
