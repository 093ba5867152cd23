"""The ``mycon`` command line: flags, --existing resolution, config file, user mistakes."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from console import cli, settings
from console.connection_files import resolve_connection_file
from console.errors import UserInputError


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli.main, list(args), env=env)


def test_help_explains_flags() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for flag in ("--kernel", "--existing", "--no-confirm-exit", "--vi", "-f"):
        assert flag in result.output


def test_unknown_flag_exit_2() -> None:
    result = run("--no-such-flag")
    assert result.exit_code == 2


def test_missing_connection_file_one_line_exit_2(tmp_path: Path) -> None:
    result = run("--existing", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "connection file not found" in lines[0]
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_bare_name_missing_exit_2() -> None:
    result = run("--existing", "zz-not-there")
    assert result.exit_code == 2
    assert "zz-not-there" in result.output


def test_bad_json_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "kernel-bad.json"
    bad.write_text("{not json")
    result = run("--existing", str(bad))
    assert result.exit_code == 2
    assert "not valid JSON" in result.output


def test_subshell_without_existing_one_line_exit_2() -> None:
    result = run("--subshell")
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--subshell goes with --existing" in lines[0]


def test_kernel_and_existing_conflict() -> None:
    result = run("--kernel", "python3", "--existing")
    assert result.exit_code == 2


def test_bad_config_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("no_such_setting = 1\n")
    result = run("--config", str(cfg), "--existing", "x")
    assert result.exit_code == 2
    assert "unknown setting 'no_such_setting'" in result.output


def test_config_then_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('editing_mode = "vi"\nconfirm_exit = false\nhistory_size = 5\n[style]\nin = "ansiblue"\n')
    values = settings.load_config(str(cfg))
    s = settings.make_settings(values, confirm_exit=True, kernel=None)
    assert s.vi_mode and s.confirm_exit and s.history_size == 5 and s.style == {"in": "ansiblue"}
    assert s.kernel == "mycon"


def _accepted_config_keys(tmp_path: Path) -> set[str]:
    """The Settings fields a config file may set: each tried alone with its default value."""
    import dataclasses

    accepted = set()
    for f in dataclasses.fields(settings.Settings):
        value = getattr(settings.Settings(), f.name)
        if isinstance(value, dict):
            text = f"[{f.name}]\n"
        elif isinstance(value, bool):
            text = f"{f.name} = {str(value).lower()}\n"
        elif isinstance(value, (int, float)):
            text = f"{f.name} = {value!r}\n"
        else:
            text = f"{f.name} = {json.dumps('x' if value is None else value)}\n"
        cfg = tmp_path / f"{f.name}.toml"
        cfg.write_text(text)
        try:
            settings.load_config(str(cfg))
        except settings.ConfigError as e:
            assert f"unknown setting {f.name!r}" in str(e), e  # refused as a key, not for its value
            continue
        accepted.add(f.name)
    return accepted


def test_help_and_readme_list_exactly_the_config_keys(tmp_path: Path) -> None:
    """One list: every key a config file may hold is in --help and in README's example file,
    and nothing else is (that example is itself a valid config file)."""
    import re

    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    accepted = _accepted_config_keys(tmp_path)
    assert {"kernel", "encrypt", "in_prompt", "style", "keys"} <= accepted
    assert not accepted & {"existing", "connection_file", "ssh", "server", "token"}  # flags alone
    text = " ".join(run("--help").output.split())
    listed = re.search(r"\(TOML; keys: (.*?), and the tables (.*?)\); flags win", text)
    assert listed, text
    in_help = set(listed.group(1).split(", ")) | set(re.findall(r"\[(\w+)\]", listed.group(2)))
    assert in_help == accepted
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    after = readme[readme.index("These are all the keys:"):]
    block = after[after.index("```toml\n") + 8 : after.index("\n```\n")]
    assert set(tomllib.loads(block)) == accepted
    example = tmp_path / "readme.toml"
    example.write_text(block)
    assert set(settings.load_config(str(example))) == accepted


def test_config_type_checked(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('confirm_exit = "no"\n')
    with pytest.raises(settings.ConfigError, match="confirm_exit should be bool"):
        settings.load_config(str(cfg))


def _write_cf(path: Path) -> None:
    path.write_text(json.dumps({"shell_port": 1, "iopub_port": 2, "stdin_port": 3,
                                "control_port": 4, "hb_port": 5, "ip": "127.0.0.1",
                                "transport": "tcp", "key": "", "signature_scheme": "hmac-sha256"}))


PATH_VARIABLES = ("JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "JUPYTER_PATH", "JUPYTER_PREFER_ENV_PATH",
                  "JUPYTER_PLATFORM_DIRS", "XDG_DATA_HOME", "XDG_DATA_DIRS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="worked out by hand on Linux only")
@pytest.mark.parametrize("env", [
    {},
    {"JUPYTER_PLATFORM_DIRS": "1"},
    {"JUPYTER_PLATFORM_DIRS": "1", "XDG_DATA_DIRS": "/s1:/s2"},
    {"JUPYTER_DATA_DIR": "/tmp/jdata"},
    {"XDG_DATA_HOME": "/tmp/xdg"},
    {"JUPYTER_PATH": "/a:/b", "JUPYTER_PREFER_ENV_PATH": "0"},
    {"JUPYTER_PREFER_ENV_PATH": "1"},
    {"JUPYTER_RUNTIME_DIR": "/tmp/jrun"},
])
def test_folders_worked_out_by_hand_are_jupyter_cores(env: dict[str, str]) -> None:
    """The console finds the runtime folder and kernelspec folders without importing
    jupyter_core (it costs ~15 ms before the first result): they must be jupyter_core's. Each
    case runs in a fresh process (jupyter_core reads some of these variables at import)."""
    import subprocess

    clean = {k: v for k, v in os.environ.items() if k not in PATH_VARIABLES}
    code = (
        "import json\n"
        "from jupyter_core.paths import jupyter_path, jupyter_runtime_dir\n"
        "from console.connection_files import runtime_dir\n"
        "from console.prelaunch import kernel_dirs\n"
        "print(json.dumps([[runtime_dir(), kernel_dirs()], [jupyter_runtime_dir(), jupyter_path('kernels')]]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True,
                          text=True, timeout=30, check=True)
    ours, jupyter_cores = json.loads(done.stdout)
    assert ours == jupyter_cores


def test_existing_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rdir = tmp_path / "runtime"
    rdir.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(rdir))
    with pytest.raises(UserInputError, match="no kernel connection files"):
        resolve_connection_file("")
    old, new = rdir / "kernel-old.json", rdir / "kernel-new.json"
    _write_cf(old)
    _write_cf(new)
    os.utime(old, (time.time() - 100, time.time() - 100))
    assert resolve_connection_file("") == str(new)  # bare flag: newest
    assert resolve_connection_file("old") == str(old)  # bare name, kernel- and .json added
    assert resolve_connection_file("kernel-old.json") == str(old)
    assert resolve_connection_file(str(old)) == str(old)  # a path
    assert resolve_connection_file(str(rdir / "kernel-*.json")) == str(new)  # a glob
    assert resolve_connection_file("kernel-o*") == str(old)


def test_no_terminal_one_line_exit_2() -> None:
    import subprocess
    import sys

    mycon = str(Path(sys.executable).with_name("mycon"))
    proc = subprocess.run([mycon, "--kernel", "python3"], input="", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("mycon: the console needs a terminal on stdin")
    assert "mycon exec -" in proc.stderr


def test_keys_table_is_checked(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[keys]\nrun = "f5"\neditor = ["f2", "c-x e"]\n')
    s = settings.make_settings(settings.load_config(str(cfg)))
    assert settings.key_sequences(s.keys, "run") == [("f5",)]
    assert settings.key_sequences(s.keys, "editor") == [("f2",), ("c-x", "e")]
    assert settings.key_sequences(s.keys, "newline") == [("c-o",)]  # the default stays
    for text, message in (
        ('[keys]\nfly = "f5"\n', "[keys] fly: no such action"),
        ('[keys]\nrun = "ctrl-shift-x"\n', "unknown key 'ctrl-shift-x'"),
        ('[keys]\nrun = 5\n', "should be a key like"),
    ):
        cfg.write_text(text)
        result = run("--config", str(cfg), "--existing", "x")
        assert result.exit_code == 2 and message in result.output, result.output


def test_short_kernel_id_is_unique_among_the_runtime_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The banner's `--existing ID` is the first 8 characters unless another kernel shares them;
    what it prints always finds exactly this kernel."""
    from console.connection_files import short_kernel_id

    ids = ["abcdef12-0000", "abcdef12-1111", "99999999-2222"]
    for kernel_id in ids:
        (tmp_path / f"kernel-{kernel_id}.json").write_text('{"shell_port": 1}')
    assert short_kernel_id(str(tmp_path), "99999999-2222") == "99999999"
    assert short_kernel_id(str(tmp_path), "abcdef12-0000") == "abcdef12-0"
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    for kernel_id in ids:
        found = resolve_connection_file(short_kernel_id(str(tmp_path), kernel_id))
        assert found == str(tmp_path / f"kernel-{kernel_id}.json")
