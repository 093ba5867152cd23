"""ipykernel's own over-the-wire test suites, run against our kernel.

The test files are not copied here: at test time they come from the source distribution of the
installed ipykernel (``pip download``, cached between runs). Only their start-up line changes:
``tests/utils.py`` starts the kernel through jupyter_client, and we name the ``mycon``
kernelspec there. Then pytest runs ``test_message_spec.py``, ``test_kernel.py`` and
``test_async.py`` in a subprocess, bounded in time, and every test must pass except the few
listed in ``DESELECTED`` below, each with its reason; and, in a second run, ``test_subshells.py``
(kernel subshells, ipykernel 7 on), all of it.

Offline: getting the files needs the network (PyPI). Without it the test fails, saying so: CI
has the network, and a silent skip there would hide a broken kernel. Set ``MYCON_OFFLINE=1`` to
turn the failure into a skip on a machine that is knowingly offline.

Their ``test_debugger.py`` (the visual debugger, on debugpy) runs in a test of its own, all of
it: it needs debugpy (the ``debugger`` and ``test`` extras).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

import pytest

SUITES = ("tests/test_message_spec.py", "tests/test_kernel.py", "tests/test_async.py")
DEBUGGER_SUITES = ("tests/test_debugger.py",)  # the visual debugger: needs debugpy
SUBSHELL_SUITES = ("tests/test_subshells.py",)  # its time-sensitive tests skip under --cov only
DOWNLOAD_TIMEOUT = 180  # seconds for pip (it builds the sdist's metadata: fetches hatchling)
SUITES_TIMEOUT = 300  # seconds for the three suites together (about a minute when all pass)
PER_TEST_TIMEOUT = 40  # seconds for any one of their tests (their own setting is 30)

# The two lines of their tests/utils.py that start a kernel, and what they become.
START_UP_LINES = {
    "return manager.start_new_kernel(startup_timeout=STARTUP_TIMEOUT, **kwargs)":
        'return manager.start_new_kernel(startup_timeout=STARTUP_TIMEOUT, kernel_name="mycon", **kwargs)',
    'kwargs = {"stderr": STDOUT}':
        'kwargs = {"stderr": STDOUT, "kernel_name": "mycon"}',
}

# Tests not run, each about ipykernel itself rather than the protocol or IPython's behaviour.
DESELECTED = {
    # Its validator wants implementation_version >= 2.1, which is ipykernel's own version number
    # (ours is the mycon version); the rest of it ("kernel subshells" among the supported
    # features) is checked by test_subshells.py's test_supported.
    "tests/test_message_spec.py::test_kernel_info_request":
        "implementation_version must be ipykernel's version (>= 2.1)",
    # Asserts the backend is matplotlib_inline's module ``backend_inline`` (ipykernel's own
    # dependency); ours is kernel.display.mpl_backend, which draws inline the same way.
    "tests/test_kernel.py::test_matplotlib_inline_on_import":
        "asserts ipykernel's inline backend module by name",
}


def _ipykernel_version() -> str:
    return metadata.version("ipykernel")


def _cache_root() -> Path:
    base = os.environ.get("MYCON_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mycon-tests"
    )
    return Path(base)


def _offline(reason: str) -> None:
    """Fail (CI, default) or skip (MYCON_OFFLINE=1) when the test files cannot be had."""
    if os.environ.get("MYCON_OFFLINE") == "1":
        pytest.skip(f"MYCON_OFFLINE=1: {reason}")
    pytest.fail(f"{reason}\n(set MYCON_OFFLINE=1 to skip this test on a machine without network)")


def ipykernel_sources(version: str) -> Path:
    """The unpacked sdist of ipykernel ``version`` (downloaded once into the cache)."""
    root = _cache_root()
    unpacked = root / f"ipykernel-{version}"
    if (unpacked / "tests" / "utils.py").is_file():
        return unpacked
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as download:
        # --no-binary for ipykernel only: its build requirements (hatchling) may come as wheels
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "--no-binary", "ipykernel", f"ipykernel=={version}", "-d", download]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT)
        except subprocess.TimeoutExpired:
            _offline(f"pip download of ipykernel {version} took over {DOWNLOAD_TIMEOUT} s")
        if done.returncode != 0:
            _offline(f"pip download of ipykernel {version} failed:\n{done.stdout}\n{done.stderr}")
        archives = list(Path(download).glob("ipykernel-*.tar.gz"))
        if not archives:
            pytest.fail(f"pip download gave no ipykernel sdist: {os.listdir(download)}")
        with tarfile.open(archives[0]) as archive:
            if hasattr(tarfile, "data_filter"):
                archive.extractall(download, filter="data")
            else:  # Python without extraction filters: a PyPI sdist of a known project
                archive.extractall(download)  # noqa: S202
        extracted = Path(download) / f"ipykernel-{version}"
        if not (extracted / "tests" / "utils.py").is_file():
            pytest.fail(f"the ipykernel {version} sdist has no tests/utils.py")
        shutil.rmtree(unpacked, ignore_errors=True)
        extracted.rename(unpacked)
    return unpacked


def prepare_run(sources: Path, into: Path) -> Path:
    """A copy of the sdist whose tests start the ``mycon`` kernel (start-up lines only)."""
    copy = into / sources.name
    shutil.copytree(sources, copy)
    utils = copy / "tests" / "utils.py"
    text = utils.read_text(encoding="utf-8")
    for theirs, ours in START_UP_LINES.items():
        count = text.count(theirs)
        assert count == 1, f"their tests/utils.py has {count} copies of {theirs!r}: update START_UP_LINES"
        text = text.replace(theirs, ours)
    utils.write_text(text, encoding="utf-8")
    return copy


def run_suites(copy: Path, report: Path, suites: tuple[str, ...] = SUITES) -> subprocess.CompletedProcess[str]:
    """Their suites under pytest in a subprocess (their pyproject's settings, except:
    no coverage/doctest add-opts, the ``flaky`` marker registered without its re-run plugin
    (a test must pass the first time), an explicit fixture loop scope)."""
    command = [
        sys.executable, "-m", "pytest", *suites, "-q", "-p", "no:cacheprovider", "-p", "no:flaky",
        "-o", "addopts=", "-o", "asyncio_default_fixture_loop_scope=function",
        "-o", "markers=flaky: marks a test that the flaky plugin would re-run",
        f"--timeout={PER_TEST_TIMEOUT}", f"--junitxml={report}", "-rfE", "--color=no",
    ]
    for test_id in DESELECTED:
        command += ["--deselect", test_id]
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    # their test_sys_path_profile_dir locates the "default" IPython profile
    ipython_dir = env.get("IPYTHONDIR") or os.path.expanduser("~/.ipython")
    os.makedirs(os.path.join(ipython_dir, "profile_default"), exist_ok=True)
    return subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True,
                          timeout=SUITES_TIMEOUT)


def outcomes(report: Path) -> dict[str, str]:
    """test id -> passed / failed / error / skipped, from the junit report."""
    results = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        results[test_id] = kinds[0] if kinds else "passed"
    return results


@pytest.mark.timeout(DOWNLOAD_TIMEOUT + SUITES_TIMEOUT + 30)
@pytest.mark.parametrize(("suites", "least_passed"), [
    pytest.param(SUITES, 45, id="protocol-kernel-async"),  # about fifty run on Linux
    pytest.param(SUBSHELL_SUITES, 20, id="subshells"),  # 23 with their parametrisations
    pytest.param(DEBUGGER_SUITES, 11, id="debugger"),  # all of it (12 on Linux)
])
def test_ipykernel_suites_pass_on_our_kernel(tmp_path: Path, suites: tuple[str, ...], least_passed: int) -> None:
    pytest.importorskip("pytest_asyncio", reason="their conftest needs pytest-asyncio (the test extra)")
    if suites == DEBUGGER_SUITES:
        pytest.importorskip("debugpy", reason="the debugger needs debugpy (the debugger and test extras)")
    if suites == SUBSHELL_SUITES:
        # their time-sensitive tests ask for pytest-cov's --cov option (to skip under coverage)
        pytest.importorskip("pytest_cov", reason="test_subshells.py needs pytest-cov (the test extra)")
    sources = ipykernel_sources(_ipykernel_version())
    missing = [suite for suite in suites if not (sources / suite).is_file()]
    if missing:
        pytest.skip(f"ipykernel {_ipykernel_version()} has no {missing} (kernel subshells came in 7)")
    copy = prepare_run(sources, tmp_path)
    report = tmp_path / "report.xml"
    try:
        done = run_suites(copy, report, suites)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"ipykernel's suites took over {SUITES_TIMEOUT} s:\n{exc.stdout}")
    assert report.is_file(), f"pytest wrote no report:\n{done.stdout}\n{done.stderr}"
    results = outcomes(report)
    bad = sorted(test_id for test_id, kind in results.items() if kind in ("failure", "error"))
    passed = sum(kind == "passed" for kind in results.values())
    assert not bad, f"{len(bad)} of ipykernel's tests fail on our kernel: {bad}\n{done.stdout[-20000:]}"
    # a collection problem would pass nothing
    assert passed >= least_passed, f"only {passed} of ipykernel's tests passed:\n{done.stdout[-5000:]}"
