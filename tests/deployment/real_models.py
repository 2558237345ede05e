"""Real model files made by the real libraries: the benign corpus and the allowlist's source.

``sweep_objects`` fits every estimator scikit-learn lists (``all_estimators``) plus boosted
trees, numpy, scipy, pandas and torch objects; ``scripts/gen_pickle_allowlist.py`` pickles
them and records the globals they reference. ``build_benign_corpus`` writes a different,
curated set of files (pipelines, other hyperparameters, other protocols, joblib compression,
torch checkpoints with optimizers, TorchScript) that the tests scan expecting 0 findings.
"""

from __future__ import annotations

import importlib.util
import pickle
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["build_benign_corpus", "sweep_objects"]

HAS = {m: importlib.util.find_spec(m) is not None for m in ("xgboost", "lightgbm", "torch")}


def _data(seed: int = 0, n: int = 60, d: int = 5) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y_cls = (x[:, 0] + x[:, 1] > 0).astype(int)
    y_reg = x @ rng.normal(size=d) + rng.normal(scale=0.1, size=n)
    return x, y_cls, y_reg


def _fit_all_estimators() -> Iterator[tuple[str, Any]]:
    """Every estimator scikit-learn ships, fitted on small data where it fits at all."""
    from sklearn.utils import all_estimators

    x, y_cls, y_reg = _data()
    xpos = np.abs(x)
    for name, cls in all_estimators():
        try:
            est = cls()
        except TypeError:
            continue  # meta-estimators that need an estimator argument: built below
        for args in ((x, y_cls), (x, y_reg), (x,), (xpos, y_cls), (xpos,)):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est.fit(*args)
            except Exception:  # noqa: S112 - estimators refuse data of the wrong kind
                continue
            yield f"sklearn:{name}", est
            break


def _meta_estimators() -> Iterator[tuple[str, Any]]:
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.ensemble import (
        AdaBoostClassifier,
        BaggingClassifier,
        StackingClassifier,
        VotingRegressor,
    )
    from sklearn.feature_selection import RFE, SelectFromModel
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    x, y_cls, y_reg = _data(1)
    yield "grid", GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2).fit(x, y_cls)
    yield (
        "random",
        RandomizedSearchCV(Ridge(), {"alpha": [0.1, 1.0, 3.0]}, n_iter=2, cv=2).fit(x, y_reg),
    )
    yield "ovr", OneVsRestClassifier(LogisticRegression()).fit(x, y_cls)
    yield "bag", BaggingClassifier(DecisionTreeClassifier(), n_estimators=3).fit(x, y_cls)
    yield "ada", AdaBoostClassifier(n_estimators=3).fit(x, y_cls)
    yield (
        "stack",
        StackingClassifier(
            [("lr", LogisticRegression()), ("dt", DecisionTreeClassifier())], cv=2
        ).fit(x, y_cls),
    )
    yield (
        "vote",
        VotingRegressor([("lr", LinearRegression()), ("r", Ridge())]).fit(x, y_reg),
    )
    yield "rfe", RFE(LogisticRegression(), n_features_to_select=2).fit(x, y_cls)
    yield "sfm", SelectFromModel(LogisticRegression()).fit(x, y_cls)
    yield (
        "ttr",
        TransformedTargetRegressor(regressor=Ridge(), func=np.log1p, inverse_func=np.expm1).fit(
            np.abs(x), np.abs(y_reg)
        ),
    )
    yield "ft", FunctionTransformer(np.log1p).fit(np.abs(x))
    yield (
        "union",
        make_pipeline(
            FeatureUnion([("s", StandardScaler()), ("p", FunctionTransformer())]),
            LogisticRegression(),
        ).fit(x, y_cls),
    )
    cats = np.array([["a", "x"], ["b", "y"], ["a", "y"], ["c", "x"]] * 15, dtype=object)
    frame = np.concatenate([x[:, :2], cats], axis=1)
    ct = ColumnTransformer(
        [("num", StandardScaler(), [0, 1]), ("cat", OneHotEncoder(handle_unknown="ignore"), [2, 3])]
    )
    yield "column", make_pipeline(ct, LogisticRegression()).fit(frame, y_cls)


def _boosted() -> Iterator[tuple[str, Any]]:
    x, y_cls, y_reg = _data(2)
    if HAS["xgboost"]:
        import xgboost as xgb

        yield "xgb-cls", xgb.XGBClassifier(n_estimators=3, max_depth=2).fit(x, y_cls)
        yield "xgb-reg", xgb.XGBRegressor(n_estimators=3, max_depth=2).fit(x, y_reg)
        yield "xgb-rf", xgb.XGBRFClassifier(n_estimators=3, max_depth=2).fit(x, y_cls)
        yield "xgb-rank", xgb.XGBRanker(n_estimators=2).fit(x, y_cls, qid=np.repeat([0, 1], 30))
        yield "xgb-booster", xgb.train({"max_depth": 2}, xgb.DMatrix(x, y_reg), 3)
    if HAS["lightgbm"]:
        import lightgbm as lgb

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield "lgb-cls", lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(x, y_cls)
            yield "lgb-reg", lgb.LGBMRegressor(n_estimators=3, verbose=-1).fit(x, y_reg)
            yield (
                "lgb-rank",
                lgb.LGBMRanker(n_estimators=2, verbose=-1, min_child_samples=2).fit(
                    x, y_cls, group=[30, 30]
                ),
            )
            yield (
                "lgb-booster",
                lgb.train({"verbose": -1}, lgb.Dataset(x, y_reg), num_boost_round=3),
            )


def _data_objects() -> Iterator[tuple[str, Any]]:
    import pandas as pd
    import scipy.sparse as sp
    from scipy import stats

    rng = np.random.default_rng(3)
    yield (
        "np-arrays",
        {
            "f": rng.normal(size=(3, 4)),
            "i": np.arange(5, dtype=np.int16),
            "c": np.array([1 + 2j]),
            "u": np.array(["ab", "c"]),
            "s": np.array([b"x"]),
            "dt": np.array(["2020-01-01"], dtype="datetime64[D]"),
            "td": np.array([5], dtype="timedelta64[s]"),
            "rec": np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]),
            "scalar": np.float32(1.5),
            "masked": np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]),
        },
    )
    yield "np-generator", np.random.default_rng(4)
    yield "np-randomstate", np.random.RandomState(5)
    yield (
        "np-bitgen",
        {
            "pcg": np.random.PCG64(1),
            "mt": np.random.MT19937(1),
            "philox": np.random.Philox(1),
            "sfc": np.random.SFC64(1),
        },
    )
    dense = rng.normal(size=(4, 4))
    yield (
        "scipy-sparse",
        {
            "csr": sp.csr_matrix(dense),
            "csc": sp.csc_matrix(dense),
            "coo": sp.coo_matrix(dense),
            "lil": sp.lil_matrix(dense),
            "dok": sp.dok_matrix(dense),
            "bsr": sp.bsr_matrix(dense),
            "dia": sp.dia_matrix(dense),
            "csr_array": sp.csr_array(dense),
            "coo_array": sp.coo_array(dense),
        },
    )
    yield "scipy-dist", {"norm": stats.norm(0, 1), "gamma": stats.gamma(2.0)}
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=4),
            "n": np.arange(4),
            "s": ["a", "b", "c", "d"],
            "c": pd.Categorical(["a", "b", "a", "b"]),
            "t": pd.date_range("2024-01-01", periods=4),
            "tz": pd.date_range("2024-01-01", periods=4, tz="UTC"),
            "d": pd.to_timedelta([1, 2, 3, 4], unit="s"),
            "b": [True, False, True, False],
            "ni": pd.array([1, None, 3, 4], dtype="Int64"),
            "ns": pd.array(["a", None, "c", "d"], dtype="string"),
        }
    )
    yield "pandas-frame", frame
    yield "pandas-series", {"s": frame["x"], "idx": pd.MultiIndex.from_arrays([[1, 2], ["a", "b"]])}
    yield (
        "pandas-indexes",
        {
            "range": pd.RangeIndex(5),
            "period": pd.period_range("2024-01", periods=3, freq="M"),
            "interval": pd.interval_range(0, 3),
            "cat": pd.CategoricalIndex(["a", "b"]),
        },
    )


def _torch_objects() -> Iterator[tuple[str, Any]]:
    if not HAS["torch"]:
        return
    import torch
    from torch import nn

    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 2))
    for opt_name, opt in (
        ("adam", torch.optim.Adam(mlp.parameters())),
        ("adamw", torch.optim.AdamW(mlp.parameters())),
        ("sgd", torch.optim.SGD(mlp.parameters(), lr=0.1, momentum=0.9)),
        ("rmsprop", torch.optim.RMSprop(mlp.parameters())),
    ):
        mlp(torch.randn(3, 4)).sum().backward()
        opt.step()
        sched = torch.optim.lr_scheduler.StepLR(opt, 1)
        sched.step()
        yield (
            f"torch-ckpt-{opt_name}",
            {
                "model": mlp.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "epoch": 3,
                "rng": torch.get_rng_state(),
            },
        )
    yield "torch-module", mlp
    yield "torch-conv", nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.MaxPool2d(2))
    yield "torch-lstm", nn.LSTM(4, 6, num_layers=2)
    yield "torch-transformer", nn.TransformerEncoderLayer(8, 2, 16)
    yield "torch-embedding", nn.Embedding(10, 4)


def sweep_objects() -> Iterator[tuple[str, Any]]:
    """Everything the allowlist generator pickles."""
    yield from _fit_all_estimators()
    yield from _meta_estimators()
    yield from _boosted()
    yield from _data_objects()
    yield from _torch_objects()


# ---------------------------------------------------------------- the benign corpus
def _pipelines() -> Iterator[tuple[str, Any]]:
    """Fitted pipelines of many estimator types, on other data than the sweep."""
    from sklearn import (
        cluster,
        decomposition,
        ensemble,
        impute,
        linear_model,
        naive_bayes,
        neighbors,
        neural_network,
        preprocessing,
        svm,
        tree,
    )
    from sklearn.pipeline import make_pipeline

    x, y_cls, y_reg = _data(7, n=80, d=6)
    cls_heads = {
        "logreg": linear_model.LogisticRegression(C=0.5),
        "svc": svm.SVC(probability=True),
        "linsvc": svm.LinearSVC(),
        "rf": ensemble.RandomForestClassifier(n_estimators=4, max_depth=3),
        "et": ensemble.ExtraTreesClassifier(n_estimators=4),
        "gb": ensemble.GradientBoostingClassifier(n_estimators=4),
        "hgb": ensemble.HistGradientBoostingClassifier(max_iter=4),
        "knn": neighbors.KNeighborsClassifier(3),
        "nb": naive_bayes.GaussianNB(),
        "mlp": neural_network.MLPClassifier(hidden_layer_sizes=(4,), max_iter=30),
        "tree": tree.DecisionTreeClassifier(max_depth=4),
        "sgd": linear_model.SGDClassifier(),
    }
    for name, head in cls_heads.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield (
                f"pipe-{name}",
                make_pipeline(impute.SimpleImputer(), preprocessing.StandardScaler(), head).fit(
                    x, y_cls
                ),
            )
    reg_heads = {
        "ridge": linear_model.Ridge(alpha=2.0),
        "lasso": linear_model.Lasso(alpha=0.01),
        "svr": svm.SVR(),
        "rfr": ensemble.RandomForestRegressor(n_estimators=3),
        "hgbr": ensemble.HistGradientBoostingRegressor(max_iter=3),
        "knnr": neighbors.KNeighborsRegressor(2),
    }
    for name, head in reg_heads.items():
        yield (
            f"pipe-{name}",
            make_pipeline(
                preprocessing.PolynomialFeatures(2), preprocessing.MinMaxScaler(), head
            ).fit(x, y_reg),
        )
    yield "pipe-pca-km", make_pipeline(decomposition.PCA(3), cluster.KMeans(3, n_init=2)).fit(x)
    yield "pipe-nmf", make_pipeline(preprocessing.MinMaxScaler(), decomposition.NMF(2)).fit(x)
    yield "dbscan", cluster.DBSCAN().fit(x)


def _write_pickles(dest: Path, name: str, obj: Any, ways: tuple[str, ...]) -> list[Path]:
    import joblib

    out: list[Path] = []
    for way in ways:
        if way.startswith("p"):
            path = dest / f"{name}.{way}.pkl"
            path.write_bytes(pickle.dumps(obj, protocol=int(way[1:])))
        else:
            path = dest / f"{name}.{way}.joblib"
            joblib.dump(obj, path, compress=(way, 3) if way != "raw" else 0)
        out.append(path)
    return out


def _torch_files(dest: Path) -> list[Path]:
    import torch
    from torch import nn

    out: list[Path] = []
    for name, obj in _torch_objects():
        if name.startswith("torch-ckpt"):
            path = dest / f"{name}.pt"
            torch.save(obj, path)
            out.append(path)
    legacy = dest / "torch-ckpt-legacy.pt"
    torch.save(
        {"model": nn.Linear(3, 2).state_dict(), "step": 1},
        legacy,
        _use_new_zipfile_serialization=False,
    )
    out.append(legacy)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.norm = nn.LayerNorm(3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = torch.relu(self.fc(x))
            if h.sum() > 0:
                h = h * 2
            return self.norm(h).softmax(-1)

    scripted: list[tuple[str, Any]] = [
        ("net", torch.jit.script(Net())),
        ("traced", torch.jit.trace(nn.Sequential(nn.Linear(4, 4), nn.Tanh()), torch.randn(2, 4))),
        ("lstm", torch.jit.script(nn.LSTM(4, 4))),
        ("conv", torch.jit.trace(nn.Conv2d(1, 2, 3), torch.randn(1, 1, 5, 5))),
    ]
    for name, module in scripted:
        path = dest / f"torchscript-{name}.pt"
        torch.jit.save(module, str(path))
        out.append(path)
    return out


def _native_files(dest: Path) -> list[Path]:
    """Boosted trees in their own formats (JSON / text / UBJSON)."""
    out: list[Path] = []
    x, y_cls, _ = _data(9)
    if HAS["xgboost"]:
        import xgboost as xgb

        model = xgb.XGBClassifier(n_estimators=2).fit(x, y_cls)
        for ext in ("json", "ubj"):
            path = dest / f"xgb-native.{ext}"
            model.save_model(str(path))
            out.append(path)
    if HAS["lightgbm"]:
        import lightgbm as lgb

        booster = lgb.train({"verbose": -1}, lgb.Dataset(x, y_cls), num_boost_round=2)
        path = dest / "lgb-native.txt"
        booster.save_model(str(path))
        out.append(path)
    return out


def build_benign_corpus(dest: Path) -> list[Path]:
    """Write the benign corpus into ``dest``; returns the files (>= 60 with all libraries)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and deprecation notices of small fits
        return _build(dest)


def _build(dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    ways_cycle = ("p2", "p4", "p5", "zlib", "raw", "lzma", "p3", "gzip", "p0", "p1")
    for i, (name, obj) in enumerate(_pipelines()):
        files += _write_pickles(dest, name, obj, (ways_cycle[i % len(ways_cycle)],))
    for name, obj in _boosted():
        files += _write_pickles(dest, name, obj, ("p4", "zlib"))
    for name, obj in _data_objects():
        files += _write_pickles(dest, name, obj, ("p2", "p5"))
    for name, obj in _meta_estimators():
        files += _write_pickles(dest, name, obj, ("raw",))
    if HAS["torch"]:
        files += _torch_files(dest)
    files += _native_files(dest)
    return files


Builder = Callable[[Path], list[Path]]
