"""stack-uat as an installed package: its data (target files, their SQL, fixtures, the scenario
docs) is package data read through importlib.resources, so a wheel installed into a fresh venv
runs `uat gate --target reference` from any directory, without the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest

from harness import resources, target

CHECKOUT = Path(__file__).resolve().parents[2]  # what is packaged (a test may know where it lives)
SCENARIO = "RITHMIC-DUPLICATE-FILL"  # short, and runs db_reconcile: the packaged SQL is used


# -- package data, in the checkout


def test_the_bundled_target_and_its_sql_are_package_data() -> None:
    assert "reference" in target.bundled()
    path = target.resolve("reference")
    assert path == resources.real_path(resources.TARGETS, "reference.toml") and path.is_file()
    loaded = target.load("reference")
    assert loaded.checks_sql == path.parent / "reference.sql" and loaded.checks_sql.is_file()
    assert resources.data(resources.FIXTURES, "traders.yaml").is_file()
    assert resources.data(resources.SCENARIOS, "README.md").is_file()


def test_a_bundled_name_never_reaches_outside_the_package(tmp_path: Path) -> None:
    assert target.resolve("../reference") == Path("../reference")
    with pytest.raises(ValueError, match=r"no such file \(bundled targets: .*reference"):
        target.load(str(tmp_path / "nope"))


def test_a_zipped_package_gets_a_real_directory_for_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed package may be a zip: its data is copied out once, with the layout kept, so a
    target file's relative `checks.sql` still resolves beside it."""
    archive = tmp_path / "pkgs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("uat_zipped_targets/__init__.py", "")
        zf.writestr("uat_zipped_targets/t.toml", "name = 't'\n")
        zf.writestr("uat_zipped_targets/t.sql", "-- name: db.x\nSELECT 1;\n")
        zf.writestr("uat_zipped_targets/sub/more.yaml", "a: 1\n")
    monkeypatch.syspath_prepend(str(archive))
    assert not isinstance(resources.data("uat_zipped_targets", "t.toml"), Path)
    assert resources.stems("uat_zipped_targets", ".toml") == ["t"]
    real = resources.real_dir("uat_zipped_targets")
    try:
        assert real.is_dir() and not str(real).startswith(str(archive))
        assert (real / "t.toml").read_text() == "name = 't'\n"
        assert (real / "t.sql").is_file() and (real / "sub" / "more.yaml").read_text() == "a: 1\n"
        assert resources.real_path("uat_zipped_targets", "t.sql") == real / "t.sql"
    finally:
        resources.real_dir.cache_clear()
        shutil.rmtree(real, ignore_errors=True)
        sys.modules.pop("uat_zipped_targets", None)


# -- the wheel, installed into a fresh venv


def _run(
    cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, (
        f"{cmd}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done


def _source_tree(dest: Path) -> Path:
    """What the wheel is built from: pyproject, README and the packages, without build litter, so
    the build writes nothing into the shared checkout."""
    config = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())
    tops = [p.rstrip("*") for p in config["tool"]["setuptools"]["packages"]["find"]["include"]]
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(CHECKOUT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "build", "*.egg-info")
    for top in tops:
        shutil.copytree(CHECKOUT / top, dest / top, ignore=ignore)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(venv, a working directory outside the checkout, a scrubbed environment). The venv holds
    the wheel alone (--no-deps); a .pth file puts the dev venv's site-packages after its own for
    the third-party dependencies, without its editable finder, which is never processed there."""
    tmp = tmp_path_factory.mktemp("install")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "UAT_FIXTURES")}
    src = _source_tree(tmp / "src")
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(src)],
         cwd=tmp, env=env, timeout=240)  # fmt: skip
    (wheel,) = dist.glob("stack_uat-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp, env=env, timeout=60)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
          str(wheel)], cwd=tmp, env=env, timeout=120)  # fmt: skip
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=tmp, env=env, timeout=30).stdout.strip()  # fmt: skip
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (Path(purelib) / "_uat_dev_deps.pth").write_text("".join(f"{d}\n" for d in deps))
    cwd = tmp / "elsewhere"
    cwd.mkdir()
    return venv, cwd, env


@pytest.mark.slow
def test_the_installed_package_imports_from_the_venv_not_the_checkout(
    installed: tuple[Path, Path, dict[str, str]],
) -> None:
    venv, cwd, env = installed
    probe = (
        "import json, sys\n"
        "import fixtures, harness, mocks.rithmic, reference_middleware, scenarios, targets\n"
        "mods = (fixtures, harness, mocks.rithmic, reference_middleware, scenarios, targets)\n"
        "print(json.dumps({'files': [m.__file__ for m in mods], 'path': sys.path}))\n"
    )
    found = json.loads(_run([str(venv / "bin" / "python"), "-c", probe], cwd=cwd, env=env, timeout=60).stdout)
    for module_file in found["files"]:
        assert Path(module_file).is_relative_to(venv), module_file
    entries = [Path(p).resolve() if p else cwd for p in found["path"]]  # '': the child's cwd
    assert CHECKOUT not in entries and not any(e.is_relative_to(CHECKOUT / "harness") for e in entries)


@pytest.mark.slow
def test_the_installed_uat_checks_the_target_and_runs_the_gate_from_anywhere(
    installed: tuple[Path, Path, dict[str, str]],
) -> None:
    venv, cwd, env = installed
    uat = str(venv / "bin" / "uat")
    checked = _run([uat, "target", "check", "reference"], cwd=cwd, env=env, timeout=60)
    first = checked.stdout.splitlines()[0]
    assert first.endswith("targets/reference.toml: ok") and Path(first.split(":")[0]).is_relative_to(venv)

    report = cwd / "report"
    done = subprocess.run(
        [uat, "gate", "--target", "reference", "--scenario", SCENARIO, "--seed", "3", "--no-html",
         "--report", str(report)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    gate = json.loads((report / "gate.json").read_text())
    (record,) = gate["scenarios"]
    assert gate["exit_code"] == 0 and record["id"] == SCENARIO and record["status"] == "passed"
    (db,) = [v for v in record["verdicts"] if v["check"] == "db_reconcile"]
    assert db["passed"] and str(venv) in db["summary"], db  # the installed target's SQL was run

    (result,) = [json.loads(p.read_text()) for p in (report / "allure-results").glob("*-result.json")]
    (link,) = [link for link in result["links"] if link.get("name", "").endswith("documentation")]
    url = urlsplit(link["url"])
    page = Path(url2pathname(url.path))
    assert url.scheme == "file" and page.is_relative_to(venv) and page.is_file()
    assert f'<a id="{url.fragment}"></a>{SCENARIO}' in page.read_text()
    (doc,) = [a for a in result["attachments"] if a["name"] == "scenario documentation"]
    assert doc["type"] == "text/markdown"
    assert SCENARIO in (report / "allure-results" / doc["source"]).read_text()
