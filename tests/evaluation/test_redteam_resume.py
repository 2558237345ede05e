"""A run killed with SIGKILL resumes without re-sending any request it had finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aisec.cli import main
from aisec.evaluation import DEMO_SYSTEM_PROMPT, DemoServer, DemoState

RUNNER = (
    "import sys\n"
    "from aisec.cli import cli, main\n"
    "from aisec.cli.redteam import redteam_group\n"
    "cli.add_command(redteam_group)\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _args(url: str, prompt: Path, out: Path) -> list[str]:
    return [
        "redteam",
        "run",
        "--target",
        "openai",
        "--base-url",
        url,
        "--model",
        "m",
        "--system-prompt-file",
        str(prompt),
        "--samples",
        "30",
        "--concurrency",
        "4",
        "--seed",
        "5",
        "--no-record",
        "-f",
        "json",
        "-o",
        str(out),
    ]


@pytest.mark.slow
@pytest.mark.usefixtures("redteam_cli")
def test_kill_9_then_resume_sends_no_finished_request_again(tmp_path: Path) -> None:
    prompt = tmp_path / "system.txt"
    prompt.write_text(DEMO_SYSTEM_PROMPT)
    state = DemoState(seed=1, delay=0.01)
    runs = Path(os.environ["AISEC_HOME"]) / "redteam" / "runs"
    with DemoServer(state) as url:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                RUNNER,
                *_args(url, prompt, tmp_path / "first.json"),
                "--run-id",
                "killme",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=os.environ.copy(),
        )
        deadline = time.monotonic() + 30
        while state.requests < 150 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert not (tmp_path / "first.json").exists()
        lines = (runs / "killme.jsonl").read_text().splitlines()
        finished = set()
        for line in lines[1:]:
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a line cut short by the kill
            if rec["outcome"] != "error":
                finished.add(rec["trial"])
        assert len(finished) >= 100
        before = dict(state.trials)
        state.delay = 0.0

        assert main([*_args(url, prompt, tmp_path / "resumed.json"), "--resume", "killme"]) in (
            0,
            1,
        )
        resent = [t for t in finished if state.trials[t] != before[t]]
        assert resent == []
        report = json.loads((tmp_path / "resumed.json").read_text())
        assert report["run"]["resumed_trials"] == len(finished)
        assert report["run"]["requests"] == state.requests - sum(before.values())

    # the resumed run equals an uninterrupted one with the same seeds
    with DemoServer(DemoState(seed=1)) as url:
        assert main([*_args(url, prompt, tmp_path / "whole.json"), "--run-id", "whole"]) in (0, 1)
    whole = json.loads((tmp_path / "whole.json").read_text())
    assert whole["transcripts_digest"] == report["transcripts_digest"]
    assert [c["verdict"] for c in whole["categories"]] == [
        c["verdict"] for c in report["categories"]
    ]


@pytest.mark.usefixtures("redteam_cli")
def test_resume_refuses_a_different_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with DemoServer(DemoState()) as url:
        args = [
            "redteam",
            "run",
            "--target",
            "openai",
            "--base-url",
            url,
            "--model",
            "m",
            "--samples",
            "2",
            "--no-record",
            "-f",
            "json",
            "-o",
            str(tmp_path / "a.json"),
        ]
        assert main([*args, "--run-id", "r1", "--seed", "1"]) in (0, 1)
        assert main([*args, "--resume", "r1", "--seed", "2"]) == 2
    assert "seed was 1, now 2" in capsys.readouterr().err
