"""The environment is what the README promises: torchvision works, and the pip and
conda set-ups cannot drift apart."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _makefile_install_args() -> list[str]:
    for line in (ROOT / "Makefile").read_text().splitlines():
        if "install -q -c" in line:
            return re.findall(r'(-c \S+|-e "?[^"\s]+"?)', line)
    raise AssertionError("the Makefile has no install line")


def test_torchvision_ops_import():
    import torch
    import torchvision.ops

    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0]])
    keep = torchvision.ops.nms(boxes, torch.tensor([0.9, 0.8]), iou_threshold=0.5)
    assert keep.tolist() == [0]


def test_package_metadata_does_not_pin_torch_exactly():
    deps = [Requirement(d) for d in _pyproject()["project"]["dependencies"]]
    for req in deps:
        if req.name in {"torch", "torchvision"}:
            assert not any(s.operator in {"==", "==="} for s in req.specifier), req


def test_constraints_pin_the_known_good_pair():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            pins[req.name] = str(req.specifier)
    assert set(pins) == {"torch", "torchvision"}
    assert all(spec.startswith("==") for spec in pins.values())
    import torch
    import torchvision

    assert torch.__version__.split("+")[0] == pins["torch"][2:]
    assert torchvision.__version__.split("+")[0] == pins["torchvision"][2:]


def test_conda_environment_matches_pip_setup():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert python.split("=", 1)[1] + ".0" in requires
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert "pip" in deps
    makefile = [a.replace('"', "") for a in _makefile_install_args()]
    assert sorted(pip_section) == sorted(makefile), (pip_section, makefile)


def test_dev_extra_covers_every_other_extra():
    extras = _pyproject()["project"]["optional-dependencies"]
    self_refs = [Requirement(d) for d in extras["dev"] if d.startswith("cnncourse[")]
    assert len(self_refs) == 1, "dev must install cnncourse with the other extras"
    assert self_refs[0].extras == set(extras) - {"dev"}
