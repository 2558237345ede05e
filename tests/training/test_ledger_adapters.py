"""The Hugging Face Trainer callback and the Lightning CheckpointIO plugin, on real tiny
trainings (models built from configs, no downloads). Skipped where the extras are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from aisec.core.evidence import EvidenceStore, SigningKey
from aisec.training import (
    CheckpointLedger,
    hf_callback,
    lightning_checkpoint_io,
    load_records,
    verify_checkpoints,
)

torch = pytest.importorskip("torch")

# third-party trainers warn about CPU-only runs, data loader workers and the like; those
# warnings are theirs, not ours
pytestmark = pytest.mark.filterwarnings("ignore")


def _ids(folder: Path, url: str, run: str, pattern: str) -> tuple[list[str], set[str]]:
    with EvidenceStore.open(url) as store:
        result = verify_checkpoints(folder, run, store=store, pattern=pattern)
    return [c.status for c in result.checkpoints], {f.id for f in result.findings}


@pytest.mark.slow
def test_hugging_face_trainer_callback(
    tmp_path: Path, sqlite_url: str, signing_key: SigningKey
) -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=32,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
    )
    model = transformers.BertForSequenceClassification(config)
    g = torch.Generator().manual_seed(0)
    data = [
        {
            "input_ids": torch.randint(0, 32, (8,), generator=g),
            "attention_mask": torch.ones(8, dtype=torch.long),
            "labels": torch.tensor(i % 2),
        }
        for i in range(16)
    ]
    out = tmp_path / "hf"
    args = transformers.TrainingArguments(
        output_dir=str(out),
        max_steps=4,
        save_steps=2,
        per_device_train_batch_size=4,
        logging_steps=1,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
    )
    with CheckpointLedger("hf-run", store=sqlite_url, key=signing_key, root=out) as ledger:
        trainer = transformers.Trainer(
            model=model, args=args, train_dataset=data, callbacks=[hf_callback(ledger)]
        )
        trainer.train()
    with EvidenceStore.open(sqlite_url) as store:
        records = load_records(store, "hf-run")
    assert [(r.name, r.step, r.kind) for r in records] == [
        ("checkpoint-2", 2, "directory"),
        ("checkpoint-4", 4, "directory"),
    ]
    assert "loss" in records[0].metrics
    assert _ids(out, sqlite_url, "hf-run", "checkpoint-*") == (["ok", "ok"], set())
    weights = next((out / "checkpoint-2").glob("model.safetensors"))
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")
    assert _ids(out, sqlite_url, "hf-run", "checkpoint-*")[1] == {"AISEC-TRN-001"}


def test_lightning_checkpoint_io(tmp_path: Path, sqlite_url: str, signing_key: SigningKey) -> None:
    pl = pytest.importorskip("lightning.pytorch")

    class Tiny(pl.LightningModule):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)

        def training_step(self, batch: tuple[object, object], _i: int) -> object:
            x, y = batch
            return torch.nn.functional.mse_loss(self.layer(x), y)

        def configure_optimizers(self) -> object:
            return torch.optim.SGD(self.parameters(), lr=0.1)

    g = torch.Generator().manual_seed(0)
    ds = torch.utils.data.TensorDataset(torch.randn(32, 4, generator=g), torch.randn(32, 1))
    loader = torch.utils.data.DataLoader(ds, batch_size=4)
    out = tmp_path / "pl"
    with CheckpointLedger("pl-run", store=sqlite_url, key=signing_key, root=out) as ledger:
        trainer = pl.Trainer(
            max_steps=6,
            accelerator="cpu",
            logger=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            plugins=[lightning_checkpoint_io(ledger)],
            callbacks=[
                pl.callbacks.ModelCheckpoint(dirpath=out, every_n_train_steps=2, save_top_k=-1)
            ],
        )
        trainer.fit(Tiny(), loader)
    with EvidenceStore.open(sqlite_url) as store:
        records = load_records(store, "pl-run")
    assert [r.step for r in records] == [2, 4, 6]
    assert all(r.name.endswith(".ckpt") for r in records)
    statuses, ids = _ids(out, sqlite_url, "pl-run", "*.ckpt")
    assert statuses == ["ok"] * 3 and ids == set()


def test_missing_extras_name_the_pip_line(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, signing_key: SigningKey
) -> None:
    import sys

    from aisec.core.errors import MissingExtraError

    for mod in ("transformers", "lightning.pytorch.plugins.io", "pytorch_lightning.plugins.io"):
        monkeypatch.setitem(sys.modules, mod, None)
    with CheckpointLedger("x", store=sqlite_url, key=signing_key) as ledger:
        with pytest.raises(MissingExtraError, match=r"aisec\[transformers\]"):
            hf_callback(ledger)
        with pytest.raises(MissingExtraError, match=r"aisec\[lightning\]"):
            lightning_checkpoint_io(ledger)
