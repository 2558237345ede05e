"""The common envelope of every aisec predicate, and how a model becomes a statement.

Every control's predicate is a pydantic model derived from :class:`Predicate`. The envelope
fields are the same for all controls:

* ``result``: a :class:`~aisec.core.controls.ControlResult` (pass, fail, unverified,
  inconclusive, recorded);
* ``findings``: the findings the run reported (the store indexes them);
* ``subjects``: the digests the control produced or judged. They are the in-toto statement's
  subjects, so they are not repeated inside the predicate JSON;
* ``inputs``: the digests the control read (a dataset's provenance records, the model a
  red-team tested, the policy a gate applied): the edges of the chain of evidence;
* ``run``: the run's id and status (the store indexes runs).

The model's class variables give its predicate type, ``urn:aisec:predicate:<STAGE>/<CONTROL>:
v<VERSION>``; older versions listed in ``LEGACY`` are still read, through :meth:`upgrade`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationError,
)

from aisec.core.controls import ControlResult
from aisec.core.errors import FormatError
from aisec.core.evidence.attestation import ArtifactRef, Statement, predicate_type
from aisec.core.findings import Finding, finding_from_json
from aisec.core.paths import portable_json, portable_path

__all__ = [
    "Digest",
    "FindingField",
    "InputRef",
    "Predicate",
    "RunInfo",
    "SubjectRef",
]

Digest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


def _finding_in(value: Any) -> Finding:
    if isinstance(value, Finding):
        return value
    if not isinstance(value, Mapping):
        raise ValueError("a finding must be an object")
    try:
        return finding_from_json(value)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed finding: {exc}") from exc


#: A :class:`~aisec.core.findings.Finding` inside a predicate, as its ``to_json`` shape.
FindingField = Annotated[
    Finding,
    BeforeValidator(_finding_in),
    PlainSerializer(lambda f: f.to_json(), return_type=dict),
]


class _Model(BaseModel):
    # schemas are built on first use, not at import: 17 models cost ~120 ms to build
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class SubjectRef(_Model):
    """An artifact the control produced or judged: a name and its digest."""

    name: str
    digest: Digest


class InputRef(_Model):
    """An artifact the control read, by digest, with the role it played.

    Roles in use: ``dataset``, ``provenance``, ``model``, ``model-file``, ``base-model``,
    ``system-prompt``, ``tools``, ``rag-corpus``, ``suite``, ``policy``, ``config``,
    ``evidence`` (another attestation, by the digest of its subject), ``source`` (what an
    artifact was derived from). A ``requires:<role>`` input is something a decision checked
    evidence for (the gate's policy names the training data): not lineage.
    """

    name: str
    digest: Digest
    role: str


class RunInfo(_Model):
    """The run an entry belongs to (several entries may share a run: a training run)."""

    id: str | None = None
    status: str | None = None


class Predicate(_Model):
    """Base of every typed predicate; subclasses set the class variables and add fields."""

    STAGE: ClassVar[str]
    CONTROL: ClassVar[str]
    VERSION: ClassVar[int] = 1
    #: Older versions of this predicate that :meth:`upgrade` still turns into this shape.
    LEGACY: ClassVar[tuple[int, ...]] = ()

    result: ControlResult
    findings: tuple[FindingField, ...] = ()
    subjects: tuple[SubjectRef, ...] = Field(default=(), exclude=True)
    inputs: tuple[InputRef, ...] = ()
    run: RunInfo | None = None

    # ------------------------------------------------------------------ types
    @classmethod
    def predicate_type(cls) -> str:
        return predicate_type(cls.STAGE, cls.CONTROL, cls.VERSION)

    @classmethod
    def legacy_types(cls) -> tuple[str, ...]:
        return tuple(predicate_type(cls.STAGE, cls.CONTROL, v) for v in cls.LEGACY)

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        """Turn a predicate of an older ``version`` (in ``LEGACY``) into this shape's fields.

        Subclasses with a ``LEGACY`` version override it; the result is validated as usual.
        """
        raise NotImplementedError(f"{cls.__name__} has no upgrade from v{version}")

    # ------------------------------------------------------------------ statements
    def to_predicate_json(self) -> dict[str, Any]:
        """The predicate as signed: every field but ``subjects`` (those are the statement's),
        with no local folder in it (paths relative to the evidence root; see
        :func:`aisec.core.paths.portable_path`)."""
        data = self.model_dump(mode="json", exclude={"subjects"})
        for item in data.get("inputs") or []:
            item["name"] = portable_path(item["name"])
        for finding in data.get("findings") or []:
            finding["subject"]["path"] = portable_path(finding["subject"]["path"])
        return dict(portable_json(data))

    def statement(self) -> Statement:
        """The in-toto statement of this predicate; it needs at least one subject."""
        if not self.subjects:
            raise ValueError(f"{type(self).__name__}: a statement needs at least one subject")
        return Statement(
            tuple(ArtifactRef(portable_path(s.name), s.digest) for s in self.subjects),
            self.predicate_type(),
            self.to_predicate_json(),
        )

    @classmethod
    def from_statement(cls, statement: Statement) -> Self:
        """The typed predicate of ``statement`` (of this type or a legacy one).

        Raises :class:`FormatError` naming the first field that does not fit.
        """
        data = dict(statement.predicate)
        ptype = statement.predicate_type
        if ptype != cls.predicate_type():
            versions = dict(zip(cls.legacy_types(), cls.LEGACY, strict=True))
            if ptype not in versions:
                raise FormatError(f"{ptype} is not a {cls.predicate_type()} predicate")
            try:
                data = cls.upgrade(versions[ptype], data)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise FormatError(f"cannot read the older {ptype} predicate: {exc}") from exc
        data["subjects"] = [{"name": s.name, "digest": s.digest} for s in statement.subjects]
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise FormatError(f"{ptype}: {_first_error(exc)}") from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "predicate"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {err.get('msg', 'invalid')}{more}"
