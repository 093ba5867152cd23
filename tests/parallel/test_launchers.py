"""Engines started by ipyparallel's other launchers, driven from our kernel with ``%px``: MPI
(``mpiexec``, Debian's Open MPI and mpi4py), SSH (to the loopback test sshd of
tests/multi/test_ssh.py), and Slurm with the README's example profile (stand-in commands)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from traitlets.config import Config

sys.path.append(os.path.join(os.path.dirname(__file__), "..", "multi"))  # after tests/parallel: its conftest wins

from px_support import connected_kernel, started_cluster  # noqa: E402
from test_ssh import SshServer, sshd  # noqa: E402, F401

pytestmark = pytest.mark.timeout(120)

RANK_CELL = "%%px --no-stream\nfrom mpi4py import MPI\nprint('rank', MPI.COMM_WORLD.Get_rank(), 'of', MPI.COMM_WORLD.Get_size())"


@pytest.mark.skipif(shutil.which("mpiexec") is None or importlib.util.find_spec("mpi4py") is None,
                    reason="needs an MPI runtime and mpi4py (Debian: apt-get install -y openmpi-bin "
                           "libopenmpi-dev; pip install mpi4py)")
def test_mpi_engines_show_their_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    """``engines='mpi'``: one ``mpiexec -n 2`` runs both engines; ``%px`` shows each one's rank."""
    if os.geteuid() == 0:  # Open MPI refuses root unless told twice (CI and containers run as root)
        monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT", "1")
        monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    monkeypatch.setenv("OMPI_MCA_rmaps_base_oversubscribe", "1")  # 2 engines even on 1 core
    with started_cluster(engines="mpi") as cluster, connected_kernel("mycon", cluster) as mycon:
        outputs = mycon.ok(RANK_CELL)
        text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
        blocks = re.findall(r"\[stdout:(\d)\] \nrank (\d) of (\d)\n", text)
        assert sorted(engine for engine, _, _ in blocks) == ["0", "1"], text
        assert sorted(rank for _, rank, _ in blocks) == ["0", "1"] and {size for _, _, size in blocks} == {"2"}


def test_ssh_engines_on_loopback(sshd: SshServer, tmp_path: Path) -> None:  # noqa: F811
    """``engines='ssh'``: ipyparallel sends the connection file with scp and starts each engine
    with ssh (through the test sshd), with this venv's python; ``%px`` runs on them."""
    config = tmp_path / "ssh" / "ssh_config"  # written by the sshd fixture for this test
    remote = tmp_path / "remote-profile"  # not the local profile: scp onto itself would truncate it
    with started_cluster(
        engines="ssh",
        config=Config({"SSHEngineSetLauncher": {
            "engines": {f"{sshd.user}@127.0.0.1:{sshd.port}": 2},
            "ssh_cmd": [str(tmp_path / "bin" / "ssh")],
            # -O: the classic scp protocol (the test sshd has no sftp subsystem)
            "scp_cmd": [shutil.which("scp") or "scp", "-O", "-F", str(config)],
            "remote_python": sys.executable,
            "remote_profile_dir": str(remote),
        }}),
    ) as cluster, connected_kernel("mycon", cluster) as mycon:
        outputs = mycon.ok("%%px --no-stream\nimport os\nprint(os.environ.get('SSH_CONNECTION', 'no ssh').split()[-1])")
        text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
        assert text == f"[stdout:0] \n{sshd.port}\n[stdout:1] \n{sshd.port}\n"


def test_slurm_example_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The README's Slurm profile (examples/parallel/profile_slurm) as it is, run by
    ipyparallel's Slurm launcher with stand-ins for sbatch, srun and scancel on PATH (no real
    Slurm here): the job script it writes starts the engines, and ``%px`` runs on them."""
    fakes = Path(__file__).parent / "fake_slurm"
    monkeypatch.setenv("PATH", f"{fakes}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)  # ipyparallel writes the job script in the working directory
    profile = (Path(__file__).parents[2] / "examples" / "parallel" / "profile_slurm" / "ipcluster_config.py").read_text()
    with started_cluster(engines=None, profile_config=profile) as cluster, connected_kernel("mycon", cluster) as mycon:
        outputs = mycon.ok("%%px --no-stream\nimport os\nprint(os.environ['SLURM_NTASKS'], os.environ['SLURM_PROCID'])")
        text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
        assert sorted(re.findall(r"\n2 (\d)\n", text)) == ["0", "1"], text
        script = tmp_path / "slurm_engine.sbatch"
        assert "#SBATCH --ntasks=2\n" in script.read_text() and "#SBATCH --time=01:00:00\n" in script.read_text()
