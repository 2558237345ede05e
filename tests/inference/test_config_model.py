"""A gateway config that names its model ties the gateway's evidence into the model's chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from aisec.core.digest import digest_path
from aisec.core.errors import InputError
from aisec.core.evidence import EvidenceStore, SigningKey
from aisec.core.evidence.chain import walk_chain
from aisec.core.evidence.recorder import StoreRecorder
from aisec.inference import load_config
from aisec.inference.alerts import attest_config
from aisec.inference.config import model_digest

from .conftest import config_dict, write_config


def test_the_served_model_is_an_input_of_the_gateway_config(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    model = tmp_path / "release"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    cfg, digest = load_config(
        write_config(tmp_path / "guard.yaml", config_dict("http://127.0.0.1:1", model="release"))
    )
    served = digest_path(model).digest
    assert model_digest(cfg) == served
    url = f"sqlite:///{tmp_path / 'evidence.db'}"
    with StoreRecorder(url, signing_key) as recorder:
        attest_config(cfg, digest, recorder)
    with EvidenceStore.open(url) as store:
        chain = walk_chain(store, [served])
    assert [link.stage for link in chain.links] == ["inference"]
    assert chain.links[0].control == "inference/gateway-config"


def test_a_model_that_does_not_exist_is_a_config_error(tmp_path: Path) -> None:
    path = write_config(tmp_path / "guard.yaml", config_dict("http://127.0.0.1:1", model="nope"))
    with pytest.raises(InputError, match="does not exist"):
        load_config(path)
