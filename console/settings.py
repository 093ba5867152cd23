"""Console settings: a plain dataclass filled from the config file, then from flags.

The config file is TOML at ``$XDG_CONFIG_HOME/mycon/config.toml`` (``~/.config/mycon/
config.toml``); ``$MYCON_CONFIG_DIR`` replaces the ``mycon`` folder, ``$MYCON_CONFIG`` names
the file itself; ``--config FILE`` wins over all. Its keys are ``config_keys()``: the fields
of ``Settings`` but those only flags give (``COMMAND_LINE_ONLY``); ``--help`` lists them and
README.md shows each in an example file (tests/console/test_cli.py checks both).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any


class ConfigError(Exception):
    """The config file cannot be read or holds a bad value."""


# Console key actions and their default key sequences (prompt_toolkit names, space-separated
# for a sequence). ``[keys]`` in the config file replaces an action's keys.
KEY_ACTIONS: dict[str, tuple[str, ...]] = {
    "run": ("escape enter",),  # run the cell whatever the kernel says of it
    "newline": ("c-o",),  # insert a newline, never run
    "editor": ("f2",),  # edit the input in $EDITOR (Ctrl-X Ctrl-E too, from prompt_toolkit)
    "accept_suggestion": ("right", "c-e"),  # take the history suggestion
    "restart": ("c-x c-k",),  # ask to restart the kernel
    "side": ("c-x s",),  # a side cell in a kernel subshell (also while a cell runs)
}


def key_sequences(keys: dict[str, Any], action: str) -> list[tuple[str, ...]]:
    """The key sequences bound to ``action``: the config's, else the default."""
    value = keys.get(action, KEY_ACTIONS[action])
    names = [value] if isinstance(value, str) else list(value)
    return [tuple(name.split()) for name in names if name.split()]


def _check_keys(keys: dict[str, Any], path: str) -> None:
    """Every ``[keys]`` entry names an action and valid keys (a clear error otherwise)."""
    from prompt_toolkit.keys import KEY_ALIASES, Keys

    known = {k.value for k in Keys} | set(KEY_ALIASES) | {"space"}
    for action, value in keys.items():
        if action not in KEY_ACTIONS:
            raise ConfigError(f"{path}: [keys] {action}: no such action (actions: {', '.join(KEY_ACTIONS)})")
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"{path}: [keys] {action} should be a key like \"c-o\" or a list of them")
        for name in names:
            for token in name.split():
                if token not in known and len(token) != 1:
                    raise ConfigError(
                        f"{path}: [keys] {action}: unknown key {token!r} "
                        "(prompt_toolkit names: c-x, escape, f5, enter, tab, up, ...)"
                    )


@dataclass
class Settings:
    """Everything the console can be told, with its defaults."""

    kernel: str = "mycon"
    existing: str | None = None  # None: start a kernel; "" : newest connection file
    connection_file: str = ""
    editing_mode: str = "emacs"
    confirm_exit: bool = True
    history_size: int = 10000
    color: bool = True
    kernel_timeout: float = 30.0
    include_other_output: bool = True
    graphics: str = "auto"
    mime_order: str = ""  # comma-separated mime types or short names; "" = DEFAULT_ORDER
    encrypt: bool = False  # CurveZMQ for kernels we launch (their kernelspec must support it)
    ssh: str = ""  # [user@]host[:port] to tunnel to with --existing
    server: str = ""  # a Jupyter server's URL: its kernels instead of local ones (--server)
    token: str = ""  # that server's token (else from the URL or $JUPYTER_TOKEN)
    subshell: bool = False  # with --existing: run this console's cells in a kernel subshell of its own
    style: dict[str, str] = field(default_factory=dict)
    keys: dict[str, Any] = field(default_factory=dict)  # action -> key(s); see KEY_ACTIONS
    in_prompt: str = "In [{n}]: "  # {n}: the execution count
    continuation_prompt: str = ""  # "": "...: " lined up under in_prompt
    out_prompt: str = "Out[{n}]: "
    cluster: int = 0  # engines of an ipyparallel cluster to start in the kernel (0: none)
    keep_cluster: bool = False  # leave that cluster running when the console leaves
    watch: bool = False  # with --existing: show every client's cells, never run, interrupt or answer

    @property
    def vi_mode(self) -> bool:
        """True when vi key bindings are wanted."""
        return self.editing_mode == "vi"


# Settings given by flags alone: each names one kernel or server for one run.
COMMAND_LINE_ONLY = (
    "existing", "connection_file", "ssh", "server", "token", "subshell", "cluster", "keep_cluster", "watch",
)
TABLES = ("style", "keys")  # config keys whose value is a TOML table


def config_keys() -> list[str]:
    """The keys a config file may hold, in the order of the Settings fields."""
    return [f.name for f in dataclasses.fields(Settings) if f.name not in COMMAND_LINE_ONLY]


def config_keys_text() -> str:
    """The config keys in words, for --help: plain keys, then the tables."""
    keys = [key for key in config_keys() if key not in TABLES]
    tables = [f"[{key}]" for key in config_keys() if key in TABLES]
    return f"{', '.join(keys)}, and the tables {' and '.join(tables)}"


def config_path() -> str:
    """Where the config file is looked for."""
    explicit = os.environ.get("MYCON_CONFIG")
    if explicit:
        return explicit
    folder = os.environ.get("MYCON_CONFIG_DIR")
    if folder:
        return os.path.join(folder, "config.toml")
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "mycon", "config.toml")


def _parse_toml(text: str, path: str) -> dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise ConfigError(f"cannot read {path}: TOML needs Python 3.11 or `tomli`") from None
    try:
        return dict(tomllib.loads(text))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from None


def load_config(path: str | None = None) -> dict[str, Any]:
    """The config file's values, checked against the Settings fields ({} when absent)."""
    path = path or config_path()
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    values = _parse_toml(text, path)
    accepted = config_keys()
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key not in accepted:
            raise ConfigError(f"{path}: unknown setting {key!r}")
        default = getattr(Settings(), key)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, type(default))
        if not ok:
            raise ConfigError(f"{path}: {key} should be {type(default).__name__}, not {value!r}")
        checked[key] = value
    if checked.get("mime_order"):
        from console.mime import parse_order

        try:
            parse_order(checked["mime_order"])
        except ValueError as e:
            raise ConfigError(f"{path}: mime_order: {e}") from None
    _check_keys(checked.get("keys", {}), path)
    for key in ("in_prompt", "continuation_prompt", "out_prompt"):
        if "\n" in checked.get(key, ""):
            raise ConfigError(f"{path}: {key} must be one line")
    if checked.get("editing_mode", "emacs") not in ("emacs", "vi"):
        raise ConfigError(f"{path}: editing_mode must be 'emacs' or 'vi'")
    return checked


def make_settings(config: dict[str, Any], **flags: Any) -> Settings:
    """Settings from config values, overridden by the flags that were given (not None)."""
    values = dict(config)
    values.update({k: v for k, v in flags.items() if v is not None})
    return Settings(**values)
