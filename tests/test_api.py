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
