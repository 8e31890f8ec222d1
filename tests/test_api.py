import subprocess
import sys

import pytest

import causalmix


def test_every_public_name_resolves():
    for name in causalmix.__all__:
        assert getattr(causalmix, name) is not None, name


def test_unknown_attribute_raises():
    with pytest.raises(AttributeError, match="no_such_thing"):
        causalmix.no_such_thing


def test_import_is_light_and_done_when_readme_says(data_dir):
    # `python -c "import causalmix; print(causalmix.load_dataset('adult'))"` (the done-when line)
    out = subprocess.run(
        [sys.executable, "-c", "import sys, causalmix; heavy = {'tabpfn', 'dowhy', 'causallearn', 'torch'} & "
         "set(sys.modules); print(sorted(heavy)); print(causalmix.load_dataset('adult'))"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    assert out[0] == "[]"
    assert out[1].startswith("Dataset('adult', rows=48842, features=14")


def test_no_public_name_is_also_a_submodule():
    # `from causalmix.finetuning import FinetuneConfig` must not turn `cm.finetune` into a module.
    from pathlib import Path

    modules = {p.stem for p in Path(causalmix.__file__).parent.glob("*.py")}
    assert not modules & set(causalmix.__all__), modules & set(causalmix.__all__)
    from causalmix.finetuning import FinetuneConfig  # noqa: F401 - the import is the point
    from causalmix.pretraining import PretrainConfig  # noqa: F401

    assert callable(causalmix.finetune) and causalmix.finetune.__module__ == "causalmix.finetuning"
    assert callable(causalmix.pretrain) and causalmix.pretrain.__module__ == "causalmix.pretraining"
