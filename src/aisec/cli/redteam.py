"""``aisec redteam run`` and ``aisec redteam demo-target``: parse, call, print."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from aisec.cli._common import (
    EXIT_FINDINGS,
    db_option,
    fail_on_option,
    key_option,
    open_output,
    output_option,
    stderr_console,
    write_json,
)
from aisec.core.errors import FormatError, InputError
from aisec.core.findings import Severity, exceeds, finding_from_json, findings_to_sarif

__all__ = ["redteam_group"]

_FORMATS = ("text", "json", "markdown", "html", "sarif")


@click.group("redteam")
def redteam_group() -> None:
    """Red-team an LLM application: attack success rates with confidence and coverage."""


def _require_extra(*modules: str) -> None:
    import importlib.util

    from aisec.core.errors import MissingExtraError

    if any(importlib.util.find_spec(m) is None for m in modules):
        raise MissingExtraError("aisec redteam", "redteam")


_NEEDS = ("aiohttp", "scipy", "starlette", "uvicorn", "jinja2")


def _read_text(path: Path | None, what: str) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what}: {exc}", path=path) from exc


@contextlib.contextmanager
def _progress(total_hint: int) -> Iterator[Any]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from aisec.evaluation import Progress as RunProgress

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "hits {task.fields[hits]} errors {task.fields[errors]} requests {task.fields[requests]}"
        ),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=(console := stderr_console()),
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("red-team", total=total_hint, hits=0, errors=0, requests=0)

        def update(p: RunProgress) -> None:
            bar.update(
                task,
                completed=p.done,
                total=p.planned or None,
                hits=p.successes,
                errors=p.errors,
                requests=p.requests,
            )

        yield update


def _render(report: dict[str, Any], fmt: str) -> str:
    from aisec.evaluation import render_html, render_markdown, render_text

    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    if fmt == "sarif":
        findings = [finding_from_json(f) for f in report["findings"]]
        return json.dumps(findings_to_sarif(findings), indent=2) + "\n"
    return render_text(report)


@redteam_group.command("run")
@click.option(
    "--target",
    "target_kind",
    type=click.Choice(["openai", "http", "demo"]),
    required=True,
    help="openai: chat-completions API; http: JSON endpoint; demo: "
    "the built-in vulnerable service, started in-process.",
)
@click.option("--base-url", help="openai: API base URL (…/v1); http: the endpoint URL.")
@click.option("--model", help="Model name sent to an OpenAI-compatible API.")
@click.option(
    "--api-key-env",
    default="OPENAI_API_KEY",
    show_default=True,
    help="Environment variable holding the API key (never a flag).",
)
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="HTTP header sent with every request (repeatable); VALUE env:VAR reads it from "
    "the environment, e.g. --header 'X-Api-Key: env:MY_KEY'.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 3600),
    default=60.0,
    show_default=True,
    help="Seconds before one request is abandoned (then retried).",
)
@click.option(
    "--rate",
    type=click.FloatRange(0.01, 10000),
    default=None,
    help="Most requests per second sent to the target (default: no limit).",
)
@click.option(
    "--system-prompt-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="System prompt of the application (sent with openai, used by detectors).",
)
@click.option(
    "--request-template",
    type=click.Path(dir_okay=False, path_type=Path),
    help="http: JSON request body with a {{prompt}} placeholder.",
)
@click.option(
    "--reply-path",
    default="reply",
    show_default=True,
    help="http: dotted path to the reply text in the response JSON.",
)
@click.option(
    "--canary",
    "canaries",
    multiple=True,
    help="A secret planted in the application (repeatable); enables LLM02 tests.",
)
@click.option("--suite", default="default", show_default=True, help="default or a suite YAML.")
@click.option(
    "--samples",
    type=click.IntRange(1, 100000),
    default=60,
    show_default=True,
    help="Most samples per attack variant.",
)
@click.option("--concurrency", type=click.IntRange(1, 1024), default=16, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--budget-requests",
    type=click.IntRange(1),
    default=None,
    help="Stop after this many HTTP requests (retries count).",
)
@click.option(
    "--budget-tokens",
    type=click.IntRange(1),
    default=None,
    help="Stop after this many prompt+completion tokens reported by the target.",
)
@click.option(
    "--price-prompt",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Price per 1,000 prompt tokens, for the report's cost line.",
)
@click.option(
    "--price-completion",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Price per 1,000 completion tokens.",
)
@click.option(
    "--mutation-budget",
    type=click.IntRange(0, 100000),
    default=48,
    show_default=True,
    help="Requests per category not found vulnerable for the mutation search over "
    "framings and converters (0: off). Successes are findings, not rates.",
)
@click.option(
    "--no-sequential",
    is_flag=True,
    help="Send every planned sample (fixed design) instead of stopping early.",
)
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Continue a killed run.")
@click.option("--run-id", metavar="RUN_ID", help="Name a new run (default: generated).")
@click.option(
    "--model-dir",
    type=click.Path(exists=True, path_type=Path),
    help="Model folder under test: its digest becomes the model digest.",
)
@click.option(
    "--tools-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Tool definitions of the application (digest recorded).",
)
@click.option(
    "--rag-dir",
    type=click.Path(exists=True, path_type=Path),
    help="RAG corpus of the application (digest recorded).",
)
@click.option(
    "--demo-seed", type=int, default=0, show_default=True, help="demo: the demo service's seed."
)
@click.option(
    "-f", "--format", "fmt", type=click.Choice(_FORMATS), default="text", show_default=True
)
@output_option()
@fail_on_option()
@click.option(
    "--record/--no-record",
    default=True,
    show_default=True,
    help="Sign an evaluation/redteam attestation into the evidence store.",
)
@db_option()
@key_option()
def run_command(**kw: Any) -> None:
    """Attack a target with the suite and report success rates with intervals."""
    _require_extra(*_NEEDS)
    from aisec.core.digest import digest_file, digest_path
    from aisec.evaluation import (
        DEMO_CANARY,
        DEMO_MODEL,
        DEMO_SYSTEM_PROMPT,
        DemoServer,
        DemoState,
        HttpJsonTarget,
        OpenAIChatTarget,
        RetryPolicy,
        RunOptions,
        TargetContext,
        load_suite,
        run_campaign,
    )
    from aisec.evaluation._targets import parse_headers

    key = None
    if kw["record"]:
        from aisec.core.evidence import default_key_path, load_signing_key

        key = load_signing_key(kw["key_path"] or default_key_path())
    suite = load_suite(kw["suite"])
    system_prompt = _read_text(kw["system_prompt_file"], "system prompt")
    canaries = tuple(kw["canaries"])
    options = RunOptions(
        samples=kw["samples"],
        concurrency=kw["concurrency"],
        seed=kw["seed"],
        sequential=not kw["no_sequential"],
        mutation_budget=kw["mutation_budget"],
        budget_requests=kw["budget_requests"],
        budget_tokens=kw["budget_tokens"],
        price_prompt_per_1k=kw["price_prompt"],
        price_completion_per_1k=kw["price_completion"],
    )
    console = stderr_console()
    extra_headers = parse_headers(kw["headers"], os.environ)
    policy = RetryPolicy(timeout=kw["timeout"], rate=kw["rate"])
    with contextlib.ExitStack() as stack:
        kind = kw["target_kind"]
        api_key = os.environ.get(kw["api_key_env"]) or None
        if kind == "demo":
            url = stack.enter_context(DemoServer(DemoState(seed=kw["demo_seed"])))
            target: Any = OpenAIChatTarget(
                base_url=url,
                model=kw["model"] or DEMO_MODEL,
                seed=kw["seed"],
                policy=policy,
                headers=extra_headers,
            )
            system_prompt = system_prompt or DEMO_SYSTEM_PROMPT
            canaries = canaries or (DEMO_CANARY,)
        elif kind == "openai":
            if not kw["base_url"] or not kw["model"]:
                raise InputError("--target openai needs --base-url and --model")
            target = OpenAIChatTarget(
                base_url=kw["base_url"],
                model=kw["model"],
                api_key=api_key,
                system_prompt=system_prompt,
                seed=kw["seed"],
                policy=policy,
                headers=extra_headers,
            )
        else:
            if not kw["base_url"] or kw["request_template"] is None:
                raise InputError("--target http needs --base-url and --request-template")
            raw = _read_text(kw["request_template"], "request template") or ""
            try:
                template = json.loads(raw)
            except ValueError as exc:
                raise FormatError(
                    f"request template is not JSON: {exc}", path=kw["request_template"]
                ) from exc
            if not isinstance(template, dict):
                raise FormatError(
                    "request template must be a JSON object", path=kw["request_template"]
                )
            headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
            headers.update(extra_headers)
            target = HttpJsonTarget(
                url=kw["base_url"],
                template=template,
                reply_path=kw["reply_path"],
                system_prompt=system_prompt,
                headers=headers,
                seed=kw["seed"],
                policy=policy,
            )
        model_digest = digest_path(kw["model_dir"]).digest if kw["model_dir"] else None
        tools_digest = digest_file(kw["tools_file"]) if kw["tools_file"] else None
        rag_digest = digest_path(kw["rag_dir"]).digest if kw["rag_dir"] else None
        with _progress(0) as progress:
            report = run_campaign(
                target,
                suite,
                options=options,
                context=TargetContext(system_prompt=system_prompt, canaries=canaries),
                run_id=kw["resume_id"] or kw["run_id"],
                resume=bool(kw["resume_id"]),
                model_digest=model_digest,
                tools_digest=tools_digest,
                rag_digest=rag_digest,
                progress=progress,
                on_start=lambda rid: console.print(
                    f"run {rid} (resume with --resume {rid})", markup=False
                ),
            )
    with open_output(kw["output"]) as out:
        if kw["fmt"] == "json":
            write_json(report, out)
        else:
            out.write(_render(report, kw["fmt"]))
    s = report["summary"]
    console.print(
        f"{report['run']['requests']} requests; vulnerable: {', '.join(s['vulnerable']) or '-'}; "
        f"inconclusive: {', '.join(s['inconclusive']) or '-'}; saved by sequential testing: "
        f"{report['sequential']['saved']} trials",
        markup=False,
    )
    if key is not None:
        from aisec.core.evidence import EvidenceStore
        from aisec.evaluation import redteam_statement

        with EvidenceStore.open(kw["db"]) as store:
            entry = store.record(redteam_statement(report), key)
        console.print(f"recorded entry #{entry.index} in {store.url}", markup=False)
    findings = [finding_from_json(f) for f in report["findings"]]
    threshold: Severity = kw["fail_on"]
    confirmed = any(c["verdict"] == "vulnerable" for c in report["categories"]) or any(
        e["found_in"] for e in report["exploration"]
    )
    if confirmed and exceeds(findings, threshold):
        raise click.exceptions.Exit(EXIT_FINDINGS)


@redteam_group.command("demo-target")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@click.option("--seed", type=int, default=0, show_default=True)
def demo_target_command(port: int, seed: int) -> None:
    """Serve the deliberately vulnerable demo chat API on 127.0.0.1 until interrupted."""
    _require_extra(*_NEEDS)
    from aisec.evaluation import DEMO_MODEL, serve_demo

    def ready(url: str) -> None:
        click.echo(url)  # results on stdout: the base URL to point a run at
        stderr_console().print(
            f"demo target (model {DEMO_MODEL}) listening; Ctrl-C to stop", markup=False
        )

    serve_demo(port=port, seed=seed, on_ready=ready)
