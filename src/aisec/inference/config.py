"""The gateway configuration (``guard.yaml``), validated with pydantic v2 at the trust boundary.

Every mistake becomes one :class:`~aisec.core.errors.InputError` line naming the field.
"""

from __future__ import annotations

import csv
import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aisec.core.digest import digest_bytes
from aisec.core.errors import InputError
from aisec.inference.accounts import hash_api_key

__all__ = [
    "AccountConfig",
    "Action",
    "DetectorsConfig",
    "GuardConfig",
    "HardeningConfig",
    "LimitsConfig",
    "RouteConfig",
    "RouteKind",
    "load_config",
    "parse_rate",
]

_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)?\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\s*$")
_UNIT_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_UNIT_SECONDS |= {"h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(text: str) -> tuple[int, float]:
    """``"60/minute"`` or ``"10/5s"`` → (amount, period in seconds)."""
    m = _RATE_RE.match(text)
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"rate {text!r} is not like '60/minute' or '10/5s'")
    return int(m.group(1)), float(int(m.group(2) or 1) * _UNIT_SECONDS[m.group(3)])


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RouteKind(StrEnum):
    OPENAI_CHAT = "openai-chat"
    OPENAI_COMPLETIONS = "openai-completions"
    OPENAI_EMBEDDINGS = "openai-embeddings"
    CLASSIFIER = "classifier"


class Action(StrEnum):
    """What a detector's alert does to the account, in increasing order of force."""

    LOG = "log"
    ALERT = "alert"
    THROTTLE = "throttle"
    DEGRADE = "degrade"
    BLOCK = "block"


class LimitsConfig(_Model):
    requests: str | None = Field(default=None, description="e.g. '60/minute'")
    tokens: str | None = Field(
        default=None, description="estimated prompt + max_tokens, e.g. '10000/minute'"
    )

    @field_validator("requests", "tokens")
    @classmethod
    def _rate(cls, v: str | None) -> str | None:
        if v is not None:
            parse_rate(v)
        return v


class HardeningConfig(_Model):
    round_decimals: int | None = Field(default=None, alias="round-decimals", ge=0, le=8)
    top_k: int | None = Field(default=None, alias="top-k", ge=1)
    strip_logprobs: bool = Field(default=False, alias="strip-logprobs")
    refuse_logit_bias: bool = Field(default=False, alias="refuse-logit-bias")
    max_tokens: int | None = Field(default=None, alias="max-tokens", ge=1)
    # a safe default: a 4 MB prompt is no chat request, and filters and detectors read it all
    max_prompt_chars: int | None = Field(default=200_000, alias="max-prompt-chars", ge=1)
    deny_patterns: tuple[str, ...] = Field(default=(), alias="deny-patterns")
    redact_secrets: bool = Field(default=False, alias="redact-secrets")
    unknown_fields: Literal["pass", "strip", "refuse"] = Field(
        default="pass",
        alias="unknown-fields",
        description="request fields outside the route kind's API (OpenAI's parameters for chat, "
        "completions and embeddings; the text field and 'model' for a classifier) and "
        "allow-fields: passed on, stripped, or refused with a 400",
    )
    allow_fields: tuple[str, ...] = Field(
        default=(), alias="allow-fields", description="extra request fields the route accepts"
    )

    @field_validator("deny_patterns")
    @classmethod
    def _regex(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        import regex

        for p in v:
            try:  # Python's syntax (re), as the patterns are matched with regex's V0 mode
                re.compile(p)
                regex.compile(p, regex.V0)
            except (re.error, regex.error) as exc:
                raise ValueError(f"deny pattern {p!r} is not a regular expression: {exc}") from exc
        return v


class RouteConfig(_Model):
    path: str
    kind: RouteKind
    upstream: str | None = Field(default=None, description="base URL (default: top level)")
    upstream_path: str | None = Field(default=None, alias="upstream-path")
    scores: str | None = Field(default=None, description="classifier: dotted path to scores")
    labels: str | None = Field(default=None, description="classifier: dotted path to labels")
    score_fields: tuple[str, ...] = Field(
        default=("**",),
        alias="score-fields",
        description="classifier: every other place a score may be, as dotted paths where '*' is "
        "any one key or index and '**' any depth; rounding applies to every number there and "
        "top-k keeps the k largest of each list (the others become 0). The default rounds every "
        "number of the reply",
    )
    text_field: str = Field(default="text", alias="text-field")
    limits: LimitsConfig = LimitsConfig()
    hardening: HardeningConfig = HardeningConfig()

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/") or v.startswith(("/admin", "/metrics", "/healthz")):
            raise ValueError(f"route path {v!r} must start with '/' and not be a reserved path")
        return v

    @model_validator(mode="after")
    def _classifier(self) -> RouteConfig:
        if self.kind is RouteKind.CLASSIFIER and not self.scores:
            raise ValueError(f"classifier route {self.path} needs 'scores' (where scores are)")
        return self


class AccountConfig(_Model):
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@:+-]+$")
    api_key: str | None = Field(default=None, alias="api-key", min_length=16, repr=False)
    key_sha256: str | None = Field(default=None, alias="key-sha256", pattern=r"^[0-9a-f]{64}$")
    limits: LimitsConfig | None = None

    @model_validator(mode="after")
    def _one_key(self) -> AccountConfig:
        if (self.api_key is None) == (self.key_sha256 is None):
            raise ValueError(f"account {self.name!r} needs exactly one of api-key or key-sha256")
        return self

    def key_hash(self) -> str:
        return self.key_sha256 or hash_api_key(self.api_key or "")


def _default_actions() -> dict[str, tuple[Action, ...]]:
    return {"*": (Action.LOG, Action.ALERT, Action.THROTTLE)}


class DetectorsConfig(_Model):
    window: int = Field(default=200, ge=20, le=2000, description="recent queries kept per account")
    min_queries: int = Field(default=30, alias="min-queries", ge=5)
    near_duplicate_jaccard: float = Field(default=0.6, alias="near-duplicate-jaccard", gt=0, lt=1)
    paraphrase_density: float = Field(default=0.7, alias="paraphrase-density", gt=0, le=1)
    prada_delta: float = Field(default=0.7, alias="prada-delta", gt=0, lt=1)
    boundary_margin: float = Field(default=0.15, alias="boundary-margin", gt=0, lt=1)
    boundary_fraction: float = Field(default=0.5, alias="boundary-fraction", gt=0, le=1)
    volume_factor: float = Field(default=5.0, alias="volume-factor", gt=1)
    volume_bucket_seconds: float = Field(default=60.0, alias="volume-bucket-seconds", gt=0)
    volume_min_buckets: int = Field(default=5, alias="volume-min-buckets", ge=2)
    cross_accounts: int = Field(default=3, alias="cross-accounts", ge=2)
    cross_share: float = Field(default=0.3, alias="cross-share", gt=0, le=1)
    cross_seconds: float = Field(default=21600.0, alias="cross-seconds", gt=0)
    cross_paraphrases: int = Field(
        default=5, alias="cross-paraphrases", ge=2,
        description="rewordings of the shared question each key must have sent",
    )  # fmt: skip
    logit_probes: int = Field(default=20, alias="logit-probes", ge=2)
    # paraphrase concentration: per-account topic profile (see aisec.inference.campaign)
    topic_similarity: float = Field(
        default=0.4, alias="topic-similarity", gt=0, lt=1,
        description="cosine of the n-gram embedding at which two queries are one question",
    )  # fmt: skip
    topic_window: int = Field(default=500, alias="topic-window", ge=20, le=20000)
    topic_seconds: float = Field(default=86400.0, alias="topic-seconds", gt=0)
    paraphrases: int = Field(
        default=20, ge=3, description="distinct rewordings of one question from one key"
    )
    topic_share: float = Field(
        default=0.15, alias="topic-share", gt=0, le=1,
        description="share of the key's distinct queries that question must take",
    )  # fmt: skip
    # classifier boundary walk
    walk_steps: int = Field(default=20, alias="walk-steps", ge=2)
    walk_drift: int = Field(default=8, alias="walk-drift", ge=1)
    # distillation harvesting and embedding theft
    harvest_prompts: int = Field(default=200, alias="harvest-prompts", ge=10)
    harvest_repeat_rate: float = Field(default=0.2, alias="harvest-repeat-rate", ge=0, le=1)
    embed_queries: int = Field(default=500, alias="embed-queries", ge=10)
    embed_chain_similarity: float = Field(default=0.3, alias="embed-chain-similarity", gt=0, lt=1)
    prada: bool = Field(default=False, description="also run PRADA (noisy on real traffic)")
    actions: dict[str, tuple[Action, ...]] = Field(default_factory=_default_actions)
    action_seconds: float = Field(default=3600.0, alias="action-seconds", gt=0)
    throttle: str = "1/10s"
    degrade_decimals: int = Field(default=1, alias="degrade-decimals", ge=0)

    @field_validator("throttle")
    @classmethod
    def _throttle(cls, v: str) -> str:
        parse_rate(v)
        return v


class GuardConfig(_Model):
    upstream: str = Field(description="base URL of the OpenAI-compatible API")
    routes: tuple[RouteConfig, ...] = Field(min_length=1)
    accounts: tuple[AccountConfig, ...] = ()
    accounts_file: Path | None = Field(default=None, alias="accounts-file")
    limits: LimitsConfig = LimitsConfig()
    detectors: DetectorsConfig = DetectorsConfig()
    redis: str | None = Field(default=None, description="redis:// URL for state shared by replicas")
    redis_prefix: str = Field(default="aisec:guard", alias="redis-prefix")
    fail_open: bool = Field(default=False, alias="fail-open", description="when Redis is down")
    audit_log: Path | None = Field(default=None, alias="audit-log")
    hash_prompts: bool = Field(default=True, alias="hash-prompts")
    webhook: str | None = None
    admin_token: str | None = Field(default=None, alias="admin-token", min_length=16, repr=False)
    evidence: bool = False
    upstream_key_env: str | None = Field(
        default=None,
        alias="upstream-key-env",
        description="environment variable with the upstream key",
    )
    upstream_timeout: float = Field(default=60.0, alias="upstream-timeout", gt=0)
    model: str | None = Field(
        default=None,
        description="the model artifact the upstream serves: a file or folder (relative to the "
        "config file) or its sha256: digest; ties the gateway's evidence to the model's chain",
    )
    body_timeout: float = Field(
        default=30.0,
        alias="body-timeout",
        gt=0,
        description="seconds a client may take to send its whole request body (then 408)",
    )
    header_timeout: float = Field(
        default=10.0,
        alias="header-timeout",
        gt=0,
        description="seconds a client may take from connecting (or starting a request on a "
        "kept-alive connection) to the end of the request's headers (then 408 and close)",
    )
    redis_timeout: float = Field(
        default=0.25,
        alias="redis-timeout",
        gt=0,
        description="seconds per Redis connect or command before the Redis-down policy applies",
    )
    idle_timeout: int = Field(
        default=5, alias="idle-timeout", ge=1, description="seconds an idle connection stays open"
    )
    max_connections: int = Field(
        default=2048,
        alias="max-connections",
        ge=1,
        description="connections one replica serves at once; past it, 503 at once",
    )
    max_connections_per_client: int = Field(
        default=256,
        alias="max-connections-per-client",
        ge=1,
        description="connections one client address holds open at once on a replica; past it, "
        "a new connection gets 503 and is closed (one audit line)",
    )
    metrics_public: bool = Field(
        default=False,
        alias="metrics-public",
        description="serve /metrics without the admin token (e.g. to a scraper on a private net)",
    )

    @field_validator("upstream", "webhook")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v.rstrip("/") if v else v

    @field_validator("redis")
    @classmethod
    def _redis(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"{v!r} is not a redis:// URL")
        return v

    @model_validator(mode="after")
    def _unique(self) -> GuardConfig:
        paths = [r.path for r in self.routes]
        if len(set(paths)) != len(paths):
            raise ValueError("two routes share one path")
        names = [a.name for a in self.accounts]
        if len(set(names)) != len(names):
            raise ValueError("two accounts share one name")
        return self


def _read_accounts_csv(path: Path) -> tuple[AccountConfig, ...]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise InputError(f"cannot read accounts file: {exc.strerror}", path=path) from exc
    out = []
    for i, row in enumerate(rows, start=2):
        if not row.get("name") or not row.get("api_key"):
            raise InputError(f"line {i}: needs columns name,api_key", path=path)
        try:
            row_cfg = {"name": row["name"], "api-key": row["api_key"]}
            out.append(AccountConfig.model_validate(row_cfg))
        except ValidationError as exc:
            raise InputError(f"line {i}: {_first_error(exc)}", path=path) from None
    return tuple(out)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def load_config(path: str | os.PathLike[str]) -> tuple[GuardConfig, str]:
    """Read and validate ``guard.yaml``; returns the config and the file's digest."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read config: {exc.strerror}", path=path) from exc
    try:
        raw: Any = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {str(exc).splitlines()[0]}", path=path) from None
    if not isinstance(raw, dict):
        raise InputError("config must be a mapping", path=path)
    try:
        cfg = GuardConfig.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"invalid config: {_first_error(exc)}", path=path) from None
    if cfg.accounts_file is not None:
        extra = _read_accounts_csv(
            cfg.accounts_file
            if cfg.accounts_file.is_absolute()
            else path.parent / cfg.accounts_file
        )
        cfg = cfg.model_copy(update={"accounts": cfg.accounts + extra})
    if not cfg.accounts:
        raise InputError("invalid config: accounts: at least one account is needed", path=path)
    if cfg.model is not None and not _DIGEST.match(cfg.model):
        model = Path(cfg.model) if Path(cfg.model).is_absolute() else path.parent / cfg.model
        if not model.exists():
            raise InputError(f"invalid config: model: {model} does not exist", path=path)
        cfg = cfg.model_copy(update={"model": str(model)})
    return cfg, digest_bytes(data)


_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def model_digest(cfg: GuardConfig) -> str | None:
    """The digest of the model the config names (a folder's is its manifest digest)."""
    if cfg.model is None:
        return None
    if _DIGEST.match(cfg.model):
        return cfg.model
    from aisec.core.digest import digest_path

    return digest_path(Path(cfg.model)).digest
