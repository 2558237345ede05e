"""``aisec model validate``: attack a classifier that is not an LLM and record what it costs.

Attached to the ``model`` group by one import line in :mod:`aisec.cli.model`; the heavy
libraries (ART, Fairlearn, onnxruntime) load only when the command runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from aisec.cli._common import ControlOptions, control_options, plural, require_extra
from aisec.cli.model import model_group
from aisec.core.errors import FormatError, InputError

__all__ = ["validate"]

_MAX_CSV = 512 * 1024 * 1024


@dataclass(frozen=True)
class _Table:
    columns: list[str]
    features: list[str]
    x: Any  # (rows, features) float array
    cols: dict[str, Any]  # every column as an array of strings


def _read_csv(path: Path, label: str, drop: tuple[str, ...], keep: tuple[str, ...]) -> _Table:
    import csv

    import numpy as np

    if not path.is_file():
        raise InputError(f"{path}: no such CSV file", path=path)
    if path.stat().st_size > _MAX_CSV:
        raise InputError(f"{path}: larger than {_MAX_CSV} bytes", path=path)
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FormatError(f"{path}: not a CSV file: {exc}") from None
    if len(rows) < 2:
        raise FormatError(f"{path}: the CSV file has no data rows")
    header, body = rows[0], rows[1:]
    for col in (label, *drop, *keep):
        if col not in header:
            raise FormatError(f"{path}: no column {col!r}")
    for n, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise FormatError(f"{path}:{n}: {len(row)} fields, the header has {len(header)}")
    cols = {h: np.array([r[i] for r in body]) for i, h in enumerate(header)}
    features = [h for h in header if h != label and h not in drop]
    try:
        x = np.column_stack([cols[h].astype(np.float64) for h in features])
    except ValueError:
        bad = next(h for h in features if not _numeric(cols[h]))
        raise FormatError(
            f"{path}: feature column {bad!r} is not numeric (drop it with --drop)"
        ) from None
    if not np.all(np.isfinite(x)):
        raise FormatError(f"{path}: the feature columns have missing or infinite values")
    return _Table(header, features, x, cols)


def _numeric(col: Any) -> bool:
    try:
        col.astype(float)
    except ValueError:
        return False
    return True


def _labels(col: Any) -> Any:
    """Labels as numbers when they all are (the target's classes sort the same way)."""
    return col.astype(float) if _numeric(col) else col


def _target(spec: str, kw: dict[str, Any]) -> Any:
    from aisec.evaluation.validate._targets import HttpTarget, OnnxTarget, SkopsTarget

    if spec.startswith(("http://", "https://")):
        if not kw["model_digest"]:
            raise InputError(
                "an HTTP target needs --model-digest sha256:… (the digest of the model it serves)"
            )
        return HttpTarget(
            spec,
            kw["model_digest"],
            protocol=kw["protocol"],
            input_path=kw["input_path"],
            output_path=kw["output_path"],
            model_name=kw["model_name"],
        )
    path = Path(spec)
    if not path.exists():
        raise InputError(f"{path}: no such model file", path=path)
    with path.open("rb") as fh:
        head = fh.read(4)
    if path.suffix == ".skops" or head == b"PK\x03\x04":
        return SkopsTarget(path, trusted=tuple(kw["trust_type"]))
    if path.suffix == ".onnx" or head[:1] == b"\x08":
        return OnnxTarget(path)
    raise FormatError(
        f"{path}: not an ONNX or skops file (pickle and joblib models are not loaded)"
    )


def _table(report: Any) -> Any:
    """The extraction-cost table: what each option costs an attacker and legitimate use."""
    from rich.table import Table

    t = Table(title="Extraction cost per hardening option", title_justify="left")
    for col in (
        "option",
        "queries to fidelity",
        "fidelity at max",
        "AUC",
        "ECE",
        "agreement",
        "gateway hardening",
    ):
        t.add_column(col)
    for o in report.extraction:
        q = o.queries_to_fidelity
        top_q, top = o.curve[-1]
        gw = o.option.gateway_hardening()
        t.add_row(
            o.option.name + (" *" if o.option.name == report.served else ""),
            str(q) if q is not None else f">{top_q}",
            f"{top.value:.3f}",
            f"{o.legit_auc:.3f}",
            f"{o.legit_ece:.3f}",
            f"{o.legit_agreement:.3f}",
            json.dumps(gw) if gw is not None else "not in aisec guard",
        )
    return t


def render_text(report: Any, con: Console) -> None:
    from aisec.core.findings import render_findings_text

    con.print(f"{report.target_kind} {report.target_name}  {report.model_digest}", markup=False)
    con.print(f"result: {report.result.value}", markup=False)
    if report.membership:
        con.print("\nMembership inference", markup=False)
        for a in report.membership.attacks:
            m = a.metrics
            con.print(
                f"  {a.name:<16} AUC {m['auc'].text()}  TPR@1%FPR {m['tpr_at_1pct_fpr'].text()}  "
                f"TPR@0.1%FPR {m['tpr_at_01pct_fpr'].text()}",
                markup=False,
            )
    if report.extraction:
        con.print()
        con.print(_table(report))
    if report.evasion:
        e = report.evasion
        con.print(
            f"\nEvasion ({e.attack}, {e.attacked} rows, {e.queries_per_row:.0f} queries/row)",
            markup=False,
        )
        for b, est in e.budgets:
            con.print(f"  budget {b:<5g} success {est.text()}", markup=False)
    for fr in report.fairness:
        con.print(
            f"\nFairness by {fr.feature}: DP difference "
            f"{fr.demographic_parity_difference.text()}, EO difference "
            f"{fr.equalized_odds_difference.text()}",
            markup=False,
        )
        for g in fr.groups:
            con.print(
                f"  {g.group:<12} n={g.count:<5} selection {g.selection_rate.text()}  "
                f"TPR {g.tpr.text()}  FPR {g.fpr.text()}  "
                f"calibration gap {g.calibration_gap:+.3f}",
                markup=False,
            )
    for check, why in report.skipped.items():
        con.print(f"\n{check}: not run ({why})", markup=False)
    if report.findings:
        con.print()
        render_findings_text(list(report.findings), con)


def _limits(items: tuple[str, ...]) -> dict[str, float]:
    from aisec.evaluation.validate._api import DEFAULT_LIMITS

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in DEFAULT_LIMITS:
            raise InputError(
                f"--limit {item!r}: use KEY=VALUE with KEY one of {', '.join(DEFAULT_LIMITS)}"
            )
        try:
            out[key] = float(value)
        except ValueError:
            raise InputError(f"--limit {item!r}: {value!r} is not a number") from None
    return out


@model_group.command(name="validate")
@click.argument("target")
@click.option(
    "--data",
    "data_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Labelled CSV the model was NOT trained on (non-members).",
)
@click.option("--label", required=True, help="The label column of the CSV files.")
@click.option(
    "--members",
    "members_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="CSV of training rows (membership inference needs it).",
)
@click.option("--sensitive", multiple=True, help="A sensitive column for fairness (repeatable).")
@click.option("--drop", multiple=True, help="A column that is not a model input (repeatable).")
@click.option(
    "--schema",
    "schema_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML: features: {name: {min, max, immutable, integer}} for evasion.",
)
@click.option(
    "--checks",
    default="membership,extraction,evasion,fairness",
    show_default=True,
    help="Comma-separated checks to run.",
)
@click.option(
    "--harden",
    "options",
    multiple=True,
    help="Hardening option to cost (repeatable): raw, round:K, top1, "
    "reverse-sigmoid:BETA:GAMMA. Default: raw, round:2, top1, reverse-sigmoid:1:0.1.",
)
@click.option(
    "--serve",
    default="raw",
    show_default=True,
    help="The option the deployment serves (judged by the extraction limit).",
)
@click.option("--fidelity", type=click.FloatRange(0.5, 1.0), default=0.95, show_default=True)
@click.option(
    "--attack",
    type=click.Choice(["hopskipjump", "boundary"]),
    default="hopskipjump",
    show_default=True,
)
@click.option("--evasion-rows", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option(
    "--evasion-budget",
    type=click.FloatRange(0, 1),
    default=0.1,
    show_default=True,
    help="RMS range-normalised perturbation the evasion limit is judged at.",
)
@click.option("--limit", "limits", multiple=True, help="KEY=VALUE, e.g. membership.auc=0.6.")
@click.option("--model-digest", help="sha256 digest of the model an HTTP endpoint serves.")
@click.option(
    "--protocol",
    type=click.Choice(["json", "kserve-v2", "mlflow"]),
    default="json",
    show_default=True,
)
@click.option(
    "--input-path",
    default="instances",
    show_default=True,
    help="JSON protocol: dotted path of the rows in the request.",
)
@click.option(
    "--output-path",
    default="predictions",
    show_default=True,
    help="JSON protocol: dotted path of the scores in the reply.",
)
@click.option("--model-name", default="model", show_default=True, help="KServe v2 model name.")
@click.option("--trust-type", multiple=True, help="skops: a further sklearn/numpy type to load.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write an HTML report with plots.",
)
@click.option(
    "--gateway-config",
    "gateway_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the served option as an aisec guard route `hardening` section (YAML).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@control_options()
def validate(target: str, opts: ControlOptions, **kw: Any) -> None:
    """Measure a classifier's membership leakage, extraction cost per hardening option,
    evasion robustness and group fairness, with intervals.

    TARGET is an ONNX file, a skops file (loaded only with allowed types) or an http(s)
    prediction endpoint; pickle and joblib models are never loaded. The result is bound to
    the model's digest.
    """
    require_extra("aisec model validate", "validate", "art", "fairlearn", "sklearn", "onnxruntime")

    from aisec.core.digest import digest_file
    from aisec.evaluation.validate._api import CHECKS, ValidationConfig, validate_model
    from aisec.evaluation.validate._evasion import load_schema
    from aisec.evaluation.validate._extraction import parse_option

    checks = tuple(c.strip() for c in kw["checks"].split(",") if c.strip())
    for c in checks:
        if c not in CHECKS:
            raise InputError(f"--checks: unknown check {c!r} (known: {', '.join(CHECKS)})")
    options = tuple(kw["options"]) or ("raw", "round:2", "top1", "reverse-sigmoid:1:0.1")
    for o in (*options, kw["serve"]):
        parse_option(o)
    limits = _limits(kw["limits"])
    opts.recorder()  # a bad key fails before any work
    label, drop, sens = kw["label"], tuple(kw["drop"]), tuple(kw["sensitive"])
    table = _read_csv(kw["data_path"], label, drop, sens)
    members = None
    if kw["members_path"] is not None:
        mtable = _read_csv(kw["members_path"], label, drop, ())
        if mtable.features != table.features:
            raise FormatError(f"{kw['members_path']}: its feature columns differ from --data")
        members = (mtable.x, _labels(mtable.cols[label]))
    x = table.x
    schema = None
    if kw["schema_path"] is not None:
        schema = load_schema(kw["schema_path"], table.features, x)
    tgt = _target(target, kw)
    cfg = ValidationConfig(
        checks=checks,
        options=options,
        served=kw["serve"],
        fidelity=kw["fidelity"],
        attack=kw["attack"],
        evasion_rows=kw["evasion_rows"],
        evasion_budget=kw["evasion_budget"],
        limits=limits,
        seed=kw["seed"],
    )
    try:
        report = validate_model(
            tgt,
            (x, _labels(table.cols[label])),
            members=members,
            sensitive={s: table.cols[s] for s in sens},
            schema=schema,
            config=cfg,
            data_digest=digest_file(kw["data_path"]),
        )
    finally:
        close = getattr(tgt, "close", None)
        if close is not None:
            close()
    if kw["html_path"] is not None:
        from aisec.evaluation.validate._html import render_html

        kw["html_path"].write_text(render_html(report), encoding="utf-8")
    if kw["gateway_path"] is not None:
        import yaml

        hardening = report.gateway_hardening()
        if hardening is None:
            raise InputError(
                f"--gateway-config: {report.served} is not an aisec guard hardening option "
                "(apply it in the model server)"
            )
        kw["gateway_path"].write_text(yaml.safe_dump({"hardening": hardening}), encoding="utf-8")

    opts.finish(
        report,
        text=lambda con: render_text(report, con),
        summary=f"{report.target_kind} {report.model_digest[:19]}…: "
        f"{plural(len(report.metrics), 'metric')}, "
        f"{plural(len(report.findings), 'finding')}: {report.result.value}",
    )
