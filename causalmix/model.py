"""Model loading: one function from a model spec to a ready ``TabPFNClassifier``.

A *model spec* is one of

- ``"causalmix-wide"`` (the offline default), ``"causalmix-tiny"`` (its smaller, faster predecessor)
  or any name of a checkpoint shipped in ``causalmix/weights/``: the project's own small
  prior-fitted TabPFN-v2-architecture models;
- ``"tabpfn-v2"``: the real TabPFN v2 classifier weights, through the tabpfn package's own
  download and cache (``TABPFN_MODEL_CACHE_DIR``); never its gated v2.5+/v3 defaults;
- a path to a checkpoint file in the tabpfn format.

>>> clf = load_classifier("causalmix-wide", device="cpu")   # doctest: +SKIP
>>> clf.fit(X_train, y_train).predict_proba(X_test)          # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Literal

from causalmix.provenance import file_sha256

WEIGHTS_DIR = Path(__file__).parent / "weights"
DEFAULT_MODEL = "causalmix-wide"
TABPFN_V2 = "tabpfn-v2"
# The v2 classifier checkpoint tabpfn downloads for version "v2" (tabpfn.model_loading).
TABPFN_V2_FILENAME = "tabpfn-v2-classifier-finetuned-zk73skhh.ckpt"
# tabpfn guesses the model version from the file name; these must never appear in ours.
_VERSION_MARKERS = ("v2.5", "v2.6", "v3")

Device = Literal["auto", "cpu", "cuda"]


class ModelNotAvailableError(FileNotFoundError):
    """A model spec that names weights which are not on this machine."""


def resolve_device(device: Device | str = "auto") -> str:
    """``"auto"`` becomes ``"cuda"`` when a GPU is visible, else ``"cpu"``; ValueError for a device
    that is not ``auto``, ``cpu``, ``cuda`` or ``cuda:N``, or for CUDA on a machine without it."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    text = str(device)
    if text != "cpu" and not (text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit())):
        raise ValueError(f"Unknown device {device!r}; use auto, cpu, cuda or cuda:N.")
    if text.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {text!r}: this machine has no CUDA GPU visible to torch; use device auto or cpu.")
        if ":" in text and int(text[5:]) >= torch.cuda.device_count():
            raise ValueError(f"device {text!r}: only {torch.cuda.device_count()} CUDA GPU(s) visible.")
    return text


def check_checkpoint(model: str | os.PathLike = DEFAULT_MODEL) -> Path:
    """The checkpoint's path, after proving it is one: a ``torch.save`` dict with ``state_dict`` and
    ``config``, read with ``weights_only=True`` (nothing in it executes). ValueError naming the file
    for a text, empty, JSON or otherwise foreign file, before any run starts."""
    import torch

    path = resolve_model_path(model)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # noqa: BLE001 - any reason a file is not a checkpoint gets the same message
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
        raise ValueError(f"The model file {path} is not a TabPFN checkpoint (a torch.save dict of tensors) or is "
                         f"truncated: {first}") from None
    if not isinstance(state, dict) or "state_dict" not in state or not isinstance(state.get("config"), dict):
        raise ValueError(f"The model file {path} is not a TabPFN checkpoint: it lacks state_dict and config.")
    return path


def shipped_models() -> list[str]:
    """Names of the checkpoints shipped inside the package."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.ckpt"))


def resolve_model_path(model: str | os.PathLike = DEFAULT_MODEL) -> Path:
    """Turn a model spec into the path of a checkpoint that exists on this machine.

    Raises:
        ModelNotAvailableError: the spec names nothing that is here, with what to do.
    """
    spec = str(model)
    if spec == TABPFN_V2:
        return _tabpfn_v2_path()
    shipped = WEIGHTS_DIR / f"{spec}.ckpt"
    if shipped.is_file():
        return shipped
    path = Path(spec).expanduser()
    if path.is_file():
        if any(m in path.name for m in _VERSION_MARKERS):
            raise ValueError(
                f"Checkpoint name {path.name!r} contains a tabpfn version marker "
                f"{_VERSION_MARKERS}; tabpfn would load it as that version. Rename the file."
            )
        return path
    raise ModelNotAvailableError(
        f"Unknown model {spec!r}: not a file, not {TABPFN_V2!r}, and not a shipped "
        f"checkpoint (shipped: {shipped_models() or 'none'}). Pass a checkpoint path, "
        f"{TABPFN_V2!r}, or one of the shipped names."
    )


def model_fingerprint(model: str | os.PathLike = DEFAULT_MODEL) -> str:
    """The sha256 of the checkpoint a model spec names, so results of different weights never mix.

    A spec whose weights are not on this machine (``"tabpfn-v2"`` before its download) gives the
    spec itself; nothing is downloaded.
    """
    spec = str(model)
    if spec == TABPFN_V2:
        from tabpfn import model_loading

        path = model_loading.get_cache_dir() / TABPFN_V2_FILENAME
    else:
        try:
            path = resolve_model_path(spec)
        except (ModelNotAvailableError, ValueError):
            return spec
    if not path.is_file():
        return spec
    return file_sha256(path)


#: Fine-tuning learning rate for checkpoints that carry no measured rate: the tabpfn package's
#: fine-tuning default, right for the real TabPFN v2 weights.
TABPFN_FINETUNE_LR = 1e-5


def recommended_learning_rate(model: str | os.PathLike = DEFAULT_MODEL) -> float:
    """The fine-tuning learning rate that belongs to a model (an explicit rate overrides it).

    A checkpoint's sidecar (``<name>.json`` beside it) carries its measured
    ``recommended_learning_rate``; ``"tabpfn-v2"`` and checkpoints without one use 1e-5.

    >>> recommended_learning_rate("tabpfn-v2")
    1e-05
    """
    import json

    spec = str(model)
    if spec == TABPFN_V2:
        return TABPFN_FINETUNE_LR
    try:
        sidecar = resolve_model_path(spec).with_suffix(".json")
    except (ModelNotAvailableError, ValueError):
        return TABPFN_FINETUNE_LR
    if sidecar.is_file():
        rate = json.loads(sidecar.read_text()).get("recommended_learning_rate")
        if rate is not None:
            return float(rate)
    return TABPFN_FINETUNE_LR


def _tabpfn_v2_path() -> Path:
    """The real v2 classifier weights: from tabpfn's cache, downloading them once if allowed."""
    from tabpfn import model_loading

    path = model_loading.get_cache_dir() / TABPFN_V2_FILENAME
    if path.is_file():
        return path
    hint = (
        f"Download {TABPFN_V2_FILENAME} from the Hugging Face repository Prior-Labs/TabPFN-v2-clf "
        f"and place it at {path} (or set TABPFN_MODEL_CACHE_DIR to the folder that holds it)."
    )
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise ModelNotAvailableError(f"The TabPFN v2 weights are not cached and HF_HUB_OFFLINE=1. {hint}")
    path.parent.mkdir(parents=True, exist_ok=True)
    result = model_loading.download_model(
        path, version=model_loading.ModelVersion.V2, which="classifier", model_name=TABPFN_V2_FILENAME
    )
    if result != "ok" or not path.is_file():
        raise ModelNotAvailableError(f"Could not download the TabPFN v2 weights. {hint}")
    return path


def load_classifier(
    model: str | os.PathLike = DEFAULT_MODEL,
    *,
    device: Device | str = "auto",
    n_estimators: int = 4,
    random_state: int = 0,
    fit_mode: Literal["fit_preprocessors", "fit_with_cache", "batched", "low_memory"] = "fit_preprocessors",
    **kwargs: Any,
):
    """A ``TabPFNClassifier`` for a model spec (see the module docstring).

    Args:
        model: shipped checkpoint name, ``"tabpfn-v2"`` or a checkpoint path.
        device: ``"auto"`` picks CUDA when available.
        n_estimators: ensemble size; 4 keeps CPU inference quick (tabpfn's own default is 8).
        random_state: seed of tabpfn's preprocessing ensemble.
        fit_mode: ``"batched"`` for fine-tuning, the default otherwise.
        **kwargs: passed to ``TabPFNClassifier``.
    """
    from tabpfn import TabPFNClassifier

    kwargs.setdefault("ignore_pretraining_limits", True)
    import torch

    kwargs.setdefault("inference_precision", torch.float32)
    return TabPFNClassifier(
        model_path=str(resolve_model_path(model)),
        device=resolve_device(device),
        n_estimators=n_estimators,
        random_state=random_state,
        fit_mode=fit_mode,
        **kwargs,
    )


# --- building and saving v2-architecture checkpoints (used by pretraining and tests) ---


def build_architecture(config: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """A freshly initialised TabPFN-v2-architecture model and its full config dict.

    >>> model, cfg = build_architecture({"emsize": 64, "nlayers": 2, "nhead": 2})
    >>> cfg["max_num_classes"]
    10
    """
    from tabpfn.architectures import tabpfn_v2

    config = {"max_num_classes": 10, "features_per_group": 2, **config}
    parsed, unused = tabpfn_v2.parse_config(config)
    if unused:
        raise ValueError(f"Unknown TabPFN v2 architecture keys: {sorted(unused)}")
    return tabpfn_v2.get_architecture(parsed), dataclasses.asdict(parsed)


def save_checkpoint(
    model: Any,
    config: dict[str, Any],
    path: str | os.PathLike,
    *,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` in the tabpfn checkpoint format, atomically (write, then rename).

    The inference config is left out so tabpfn applies its v2 defaults.
    """
    path = Path(path)
    if any(m in path.name for m in _VERSION_MARKERS):
        raise ValueError(f"Checkpoint name {path.name!r} must not contain {_VERSION_MARKERS}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    state_dict = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
    checkpoint = {"state_dict": state_dict, "config": config, "architecture_name": "tabpfn_v2", **(extra or {})}
    tmp = path.with_name(path.name + ".tmp")
    import torch

    torch.save(checkpoint, tmp)
    tmp.replace(path)
    return path
