"""Connection files: where ``kernel-*.json`` files live, which one ``--existing`` names, and
what one holds (re-exported by ``console.link``).

Cheap to import: jupyter_core is imported when the runtime directory is asked for.
"""

from __future__ import annotations

import glob
import json
import os
import sys
from typing import Any

from console.errors import UserInputError


def runtime_dir() -> str:
    """Jupyter's runtime directory (where kernel-*.json connection files live).

    Worked out here as jupyter_core does on Linux, with or without JUPYTER_PLATFORM_DIRS (its
    import costs ~15 ms on the way to the first result); jupyter_core answers elsewhere.
    """
    env = os.environ
    if env.get("JUPYTER_RUNTIME_DIR"):
        return env["JUPYTER_RUNTIME_DIR"]
    if env.get("JUPYTER_DATA_DIR"):
        return os.path.join(env["JUPYTER_DATA_DIR"], "runtime")
    if not sys.platform.startswith("linux"):
        from jupyter_core.paths import jupyter_runtime_dir

        return str(jupyter_runtime_dir())
    home = os.path.realpath(os.path.expanduser("~"))
    return os.path.join(env.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share"), "jupyter", "runtime")


def resolve_connection_file(spec: str) -> str:
    """Find the connection file for ``--existing [spec]``.

    Empty spec: the newest ``kernel-*.json`` in the runtime directory. A path that exists is
    used as is; a bare name is looked up in the runtime directory (also with ``kernel-`` and
    ``.json`` added), then as a unique prefix of a kernel id there (``5c4d`` for
    ``kernel-5c4d....json``; an ambiguous one names the candidates); a glob picks its newest match.
    """
    rdir = runtime_dir()
    if not spec:
        found = glob.glob(os.path.join(rdir, "kernel-*.json"))
        if not found:
            raise UserInputError(f"no kernel connection files in {rdir}; start a kernel first")
        return max(found, key=os.path.getmtime)
    expanded = os.path.expanduser(spec)
    if os.path.isfile(expanded):
        return expanded
    candidates = [expanded]
    if os.sep not in spec:
        candidates += [
            os.path.join(rdir, spec),
            os.path.join(rdir, f"{spec}.json"),
            os.path.join(rdir, f"kernel-{spec}.json"),
            os.path.join(rdir, f"kernel-{spec}"),
        ]
    for cand in candidates:
        if os.path.isfile(cand):
            return cand
    if os.sep not in spec and not any(c in spec for c in "*?["):
        by_prefix = _by_id_prefix(rdir, spec)
        if by_prefix:
            return by_prefix
    for cand in candidates:
        matches = [m for m in glob.glob(cand) if os.path.isfile(m)]
        if matches:
            return max(matches, key=os.path.getmtime)
    if os.sep in spec:
        raise UserInputError(f"connection file not found: {spec}")
    raise UserInputError(f"connection file not found: {spec} (also looked in {rdir})")


def _by_id_prefix(rdir: str, prefix: str) -> str:
    """The runtime directory's one ``kernel-<id>.json`` whose id starts with ``prefix`` ("" when
    none does); UserInputError naming the candidates when several do."""
    prefix = prefix.removeprefix("kernel-").removesuffix(".json")
    matches = sorted(glob.glob(os.path.join(rdir, f"kernel-{glob.escape(prefix)}*.json")))
    if len(matches) > 1:
        ids = ", ".join(os.path.basename(m)[len("kernel-") : -len(".json")] for m in matches)
        raise UserInputError(f"kernel id {prefix!r} is ambiguous: it starts {ids}; give more of it")
    return matches[0] if matches else ""


def short_kernel_id(rdir: str, kernel_id: str, least: int = 8) -> str:
    """The shortest start of ``kernel_id`` (at least ``least`` characters) that no other kernel
    file in ``rdir`` shares: what ``--existing`` needs to find this kernel."""
    others = [
        os.path.basename(p)[len("kernel-") : -len(".json")]
        for p in glob.glob(os.path.join(rdir, "kernel-*.json"))
    ]
    others = [other for other in others if other != kernel_id]
    for length in range(least, len(kernel_id)):
        prefix = kernel_id[:length]
        if not any(other.startswith(prefix) for other in others):
            return prefix
    return kernel_id


def attach_hint(path: str, encrypted: bool) -> str:
    """The banner's line on how to attach another terminal to the kernel of connection file
    ``path``: a file of the runtime directory by its short kernel id, any other by its path."""
    name = os.path.basename(path)
    try:
        rdir = os.path.abspath(runtime_dir())
        if os.path.dirname(os.path.abspath(path)) == rdir and name.startswith("kernel-"):
            path = short_kernel_id(rdir, name[len("kernel-") :].removesuffix(".json"))
        elif os.path.dirname(os.path.abspath(path)) == rdir:
            path = name.removesuffix(".json")
    except Exception:  # an unusable runtime directory: the path as given
        pass
    if encrypted:
        how = "encrypted with CurveZMQ: jupyter console and qtconsole cannot attach"
    else:
        how = "not encrypted: any Jupyter client can attach"
    return f"To attach another terminal: mycon --existing {path} ({how})"


def read_connection_file(path: str) -> dict[str, Any]:
    """The parsed connection file, or a UserInputError saying what is wrong with it."""
    try:
        with open(path, encoding="utf-8") as f:
            info = json.load(f)
    except OSError as e:
        raise UserInputError(f"cannot read connection file {path}: {e.strerror}") from None
    except ValueError:
        raise UserInputError(f"connection file {path} is not valid JSON") from None
    if not isinstance(info, dict) or "shell_port" not in info:
        raise UserInputError(f"{path} is not a kernel connection file")
    return info


def client_for(info: dict[str, Any], path: str) -> Any:
    """A jupyter_client asynchronous client for the kernel connection file ``path`` holds
    (``info``, as read); UserInputError when its fields are not usable."""
    from jupyter_client.asynchronous import AsyncKernelClient

    client = AsyncKernelClient()
    try:
        client.load_connection_info(info)  # type: ignore[arg-type]
    except Exception as e:
        raise UserInputError(f"bad connection file {path}: {e}") from None
    client.connection_file = path
    return client


def kernel_files(directory: str) -> list[str]:
    """The ``kernel-*.json`` files of ``directory``, oldest first."""
    found = glob.glob(os.path.join(directory, "kernel-*.json"))
    return sorted(found, key=lambda p: (os.path.getmtime(p) if os.path.exists(p) else 0, p))
