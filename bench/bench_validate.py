"""Does `aisec model validate` add orchestration, not cost, over ART and Fairlearn run directly?

    python bench/bench_validate.py [--repeat 3] [--format text|json]

Same model, same rows, same machine, one check at a time:

* membership: ART's ``MembershipInferenceBlackBox`` (attack model ``rf``) fitted and run
  directly, vs aisec's membership check (which runs that attack *and* a reference-model
  attack and 200 bootstrap rounds) on the digits forest;
* fairness: Fairlearn's ``MetricFrame`` with its own ``n_boot=200`` bootstrap, vs aisec's
  fairness check (Fairlearn point values, Wilson group intervals, numpy bootstrap of
  DP/EO differences) on breast cancer with a synthetic group;
* evasion: ART's ``HopSkipJump`` on a ``BlackBoxClassifier`` directly, vs aisec's evasion
  check (the same attack plus the schema projection and re-query).

Printed: wall seconds (median of --repeat), queries to the model, and aisec / anchor.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sklearn.datasets import load_breast_cancer, load_digits  # type: ignore[import-untyped]
from sklearn.ensemble import RandomForestClassifier  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

from aisec.evaluation.validate._evasion import evasion
from aisec.evaluation.validate._fairness import fairness
from aisec.evaluation.validate._membership import membership_inference
from aisec.evaluation.validate._targets import CallableTarget

D = "sha256:" + "0" * 64


class Counting:
    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn, self.queries = fn, 0

    def __call__(self, x: Any) -> Any:
        self.queries += len(x)
        return self.fn(x)


def timed(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    times, queries = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        queries = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), queries


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--format", choices=["text", "json"], default="text")
    args = ap.parse_args()
    from art.attacks.evasion import HopSkipJump
    from art.attacks.inference.membership_inference import MembershipInferenceBlackBox
    from art.estimators.classification import BlackBoxClassifier
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    x, y = load_digits(return_X_y=True)
    x = x.astype(np.float64)
    p = np.random.default_rng(1).permutation(len(x))
    m, n = p[:900], p[900:]
    forest = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1).fit(x[m], y[m])

    def art_mia() -> int:
        c = Counting(forest.predict_proba)
        est = BlackBoxClassifier(c, input_shape=(64,), nb_classes=10)
        atk = MembershipInferenceBlackBox(est, input_type="prediction", attack_model_type="rf")
        half_m, half_n = m[:225], n[:225]
        atk.fit(x[half_m].astype(np.float32), y[half_m], x[half_n].astype(np.float32), y[half_n])
        atk.infer(
            x[np.r_[m[225:450], n[450:675]]].astype(np.float32),
            y[np.r_[m[225:450], n[450:675]]],
            probabilities=True,
        )
        return c.queries

    def aisec_mia() -> int:
        t = CallableTarget(forest.predict_proba, D)
        membership_inference(t, (x[m], y[m]), (x[n], y[n]))
        return t.queries

    xb, yb = load_breast_cancer(return_X_y=True)
    g = np.random.default_rng(3).integers(0, 2, len(xb)).astype(str)
    lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(xb[:300], yb[:300])

    def fl_direct() -> int:
        c = Counting(lr.predict_proba)
        pred = (c(xb[300:])[:, 1] >= 0.5).astype(int)
        mf = MetricFrame(
            metrics={"sel": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
            y_true=yb[300:],
            y_pred=pred,
            sensitive_features=g[300:],
            n_boot=200,
            ci_quantiles=[0.025, 0.975],
            random_state=0,
        )
        mf.difference_ci()
        return c.queries

    def aisec_fair() -> int:
        t = CallableTarget(lr.predict_proba, D)
        fairness(t, xb[300:], yb[300:], {"g": g[300:]}, rounds=200)
        return t.queries

    def art_hsj() -> int:
        c = Counting(lr.predict_proba)
        rows = xb[300:320]
        est = BlackBoxClassifier(
            c,
            input_shape=(30,),
            nb_classes=2,
            clip_values=(xb[300:].min(0).astype(np.float32), xb[300:].max(0).astype(np.float32)),
        )
        np.random.seed(0)
        HopSkipJump(est, max_iter=10, max_eval=200, init_eval=20, verbose=False).generate(
            rows.astype(np.float32)
        )
        return c.queries

    def aisec_hsj() -> int:
        t = CallableTarget(lr.predict_proba, D)
        evasion(t, xb[300:], yb[300:], rows=20, max_iter=10, max_eval=200)
        return t.queries

    rows = []
    for check, anchor, ours, note in (
        ("membership", art_mia, aisec_mia, "aisec adds a reference-model attack + bootstrap"),
        ("fairness", fl_direct, aisec_fair, "same bootstrap rounds"),
        ("evasion", art_hsj, aisec_hsj, "same attack settings, 20 rows"),
    ):
        at, aq = timed(anchor, args.repeat)
        ot, oq = timed(ours, args.repeat)
        rows.append(
            {
                "check": check,
                "anchor_s": round(at, 3),
                "aisec_s": round(ot, 3),
                "ratio": round(ot / at, 2),
                "anchor_queries": aq,
                "aisec_queries": oq,
                "note": note,
            }
        )
    if args.format == "json":
        print(json.dumps({"python": platform.python_version(), "rows": rows}, indent=2))
        return
    print(
        f"{'check':<11} {'anchor s':>9} {'aisec s':>8} {'ratio':>6} {'anchor q':>9} "
        f"{'aisec q':>8}  note"
    )
    for r in rows:
        print(
            f"{r['check']:<11} {r['anchor_s']:>9} {r['aisec_s']:>8} {r['ratio']:>6} "
            f"{r['anchor_queries']:>9} {r['aisec_queries']:>8}  {r['note']}"
        )


if __name__ == "__main__":
    main()
