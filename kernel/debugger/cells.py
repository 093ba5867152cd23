"""Where cells live while the debugger is on: one file per cell, named by a hash of its code.

The front end asks for a cell's file with ``dumpCell`` (we write the code there) and sets
breakpoints on that path; the kernel compiles the cell under the same path when it runs, so
debugpy matches the breakpoints. ``debugInfo`` tells the front end how to compute the path
itself (hash method and seed, prefix, suffix): Murmur2, as JupyterLab expects.
"""

from __future__ import annotations

import os
import tempfile

HASH_METHOD = "Murmur2"
HASH_SEED = 0xC70F6907  # the seed JupyterLab and other kernels use (any works: it is told)
SUFFIX = ".py"
DIRECTORY_PREFIX = "mycon_debugger_"  # + the kernel's pid
_MULTIPLIER = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes, seed: int) -> int:
    """MurmurHash2 (32-bit) of ``data``."""
    length = len(data)
    value = (seed ^ length) & _MASK
    whole = length - length % 4
    for start in range(0, whole, 4):
        block = int.from_bytes(data[start : start + 4], "little")
        block = (block * _MULTIPLIER) & _MASK
        block ^= block >> 24
        block = (block * _MULTIPLIER) & _MASK
        value = ((value * _MULTIPLIER) & _MASK) ^ block
    if whole < length:
        value ^= int.from_bytes(data[whole:], "little")
        value = (value * _MULTIPLIER) & _MASK
    value ^= value >> 13
    value = (value * _MULTIPLIER) & _MASK
    value ^= value >> 15
    return value


def directory() -> str:
    """This kernel's directory of cell files (one per kernel process)."""
    return os.path.join(tempfile.gettempdir(), f"{DIRECTORY_PREFIX}{os.getpid()}")


def prefix() -> str:
    """What every cell file's path starts with (``tmpFilePrefix`` of debugInfo)."""
    return directory() + os.sep


def file_for(code: str) -> str:
    """The path of the file for a cell of ``code``."""
    return f"{prefix()}{murmur2(code.encode('utf-8'), HASH_SEED)}{SUFFIX}"


def write(code: str) -> str:
    """Write ``code`` to its cell file (creating the private directory); return the path."""
    os.makedirs(directory(), mode=0o700, exist_ok=True)
    path = file_for(code)
    with open(path, "w", encoding="utf-8") as file:
        file.write(code)
    return path


def remove_all() -> None:
    """Remove the cell files and their directory (at kernel exit)."""
    import shutil

    shutil.rmtree(directory(), ignore_errors=True)


def remove_stale() -> None:
    """Remove the cell directories of our kernels that are gone (killed before clean-up)."""
    import shutil

    if not hasattr(os, "getuid"):
        return  # (no owners to compare: leave them)
    root = tempfile.gettempdir()
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        pid = name[len(DIRECTORY_PREFIX) :]
        if not name.startswith(DIRECTORY_PREFIX) or not pid.isdigit() or int(pid) == os.getpid():
            continue
        path = os.path.join(root, name)
        try:
            if os.stat(path).st_uid != os.getuid():
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue  # not ours to judge (another user's process, or gone meanwhile)
