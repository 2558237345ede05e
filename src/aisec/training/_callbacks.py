"""Adapters that record checkpoints from training frameworks; each imports its framework lazily.

* :func:`save_checkpoint` — custom loops: ``torch.save`` then record the closed file.
* :func:`hf_callback` — a Hugging Face ``TrainerCallback``; ``on_save`` fires after the
  Trainer wrote ``output_dir/checkpoint-<step>``, so the folder is complete when hashed.
* :func:`lightning_checkpoint_io` — PyTorch Lightning: ``on_save_checkpoint`` fires before
  the file exists, so the ledger wraps the ``CheckpointIO`` plugin and records after the
  inner plugin's ``save_checkpoint`` returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aisec.core.errors import MissingExtraError
from aisec.training._ledger import CheckpointLedger

__all__ = ["hf_callback", "lightning_checkpoint_io", "save_checkpoint"]


def save_checkpoint(
    ledger: CheckpointLedger,
    obj: Any,
    path: Path | str,
    *,
    step: int,
    metrics: Mapping[str, float] | None = None,
) -> Path:
    """``torch.save(obj, path)``, then queue the closed file for hashing and recording."""
    try:
        import torch
    except ImportError as exc:
        raise MissingExtraError("saving a torch checkpoint", "torch") from exc
    target = Path(path)
    torch.save(obj, target)
    ledger.record(target, step=step, metrics=metrics)
    return target


def _numbers(entry: Mapping[str, Any]) -> dict[str, float]:
    return {
        str(k): float(v)
        for k, v in entry.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def hf_callback(ledger: CheckpointLedger) -> Any:
    """A ``transformers.TrainerCallback`` recording each saved checkpoint folder."""
    try:
        from transformers import TrainerCallback  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise MissingExtraError("the Hugging Face Trainer callback", "transformers") from exc

    class AisecLedgerCallback(TrainerCallback):  # type: ignore[misc,unused-ignore]
        def __init__(self) -> None:
            self.ledger = ledger

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if getattr(state, "is_world_process_zero", True):
                folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
                history = list(getattr(state, "log_history", None) or [])
                metrics = _numbers(history[-1]) if history else {}
                self.ledger.record(folder, step=int(state.global_step), metrics=metrics)
            return control

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            self.ledger.flush()
            return control

    return AisecLedgerCallback()


def lightning_checkpoint_io(ledger: CheckpointLedger, inner: Any = None) -> Any:
    """A Lightning ``CheckpointIO`` that saves through ``inner`` (default
    ``TorchCheckpointIO``) and then records the written file. Pass it as
    ``Trainer(plugins=[lightning_checkpoint_io(ledger)])``."""
    try:
        from lightning.pytorch.plugins.io import (  # type: ignore[import-not-found,unused-ignore]
            CheckpointIO,
            TorchCheckpointIO,
        )
    except ImportError as exc:  # the 'lightning' extra installs the unified package
        raise MissingExtraError("the PyTorch Lightning plugin", "lightning") from exc

    class AisecLedgerCheckpointIO(CheckpointIO):  # type: ignore[misc,unused-ignore]
        def __init__(self) -> None:
            self.ledger = ledger
            self.inner = inner if inner is not None else TorchCheckpointIO()

        def save_checkpoint(
            self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None
        ) -> None:
            self.inner.save_checkpoint(checkpoint, path, storage_options=storage_options)
            step = int(checkpoint.get("global_step", 0))
            self.ledger.record(Path(path), step=step)

        def load_checkpoint(self, *args: Any, **kwargs: Any) -> Any:
            return self.inner.load_checkpoint(*args, **kwargs)

        def remove_checkpoint(self, path: Any) -> None:
            self.inner.remove_checkpoint(path)

        def teardown(self) -> None:
            self.ledger.flush()
            self.inner.teardown()

    return AisecLedgerCheckpointIO()
