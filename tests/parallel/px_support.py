"""Interactive parallel computing in tests: ipyparallel clusters started and stopped within
bounded times (``started_cluster``, any engine launcher), and kernels connected to them."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

ENGINES = 2
START_TIMEOUT = 60.0  # seconds the controller and its engines may take to come up


@dataclass
class PxCluster:
    """A running ipyparallel cluster (controller and engines), and how to connect to it."""

    cluster: Any  # ipyparallel.Cluster
    profile_dir: str
    cluster_id: str
    engines: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def connection_file(self) -> str:
        """The controller's client connection file (``ipp.Client(path)``)."""
        return os.path.join(self.profile_dir, "security", f"ipcontroller-{self.cluster_id}-client.json")

    def connect_code(self, name: str = "rc", activate: bool = True) -> str:
        """Python that connects a kernel to this cluster as ``name`` (and activates ``%px``)."""
        code = (f"import ipyparallel as ipp\n{name} = ipp.Client({self.connection_file!r})\n"
                f"{name}.wait_for_engines({self.engines}, timeout={START_TIMEOUT})\n")
        return code + (f"{name}.activate()\n" if activate else "")


def _bounded(what: str, action: Any, timeout: float) -> Any:
    """Run ``action()`` in a thread; fail the test with a clear message if it takes too long."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True, name=f"px-{what}")
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"{what} did not finish within {timeout:.0f} s", pytrace=False)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@contextmanager
def started_cluster(engines: str | None = "local", n: int = ENGINES, timeout: float = START_TIMEOUT,
                    profile_config: str = "", **cluster_options: Any) -> Iterator[PxCluster]:
    """A cluster of ``n`` engines (launched by ipyparallel's ``engines`` launcher, or the one
    ``profile_config``, an ``ipcluster_config.py``, names), all of them registered with the
    controller; stopped (controller and engines) on leaving."""
    import ipyparallel as ipp

    profile_dir = tempfile.mkdtemp(prefix="mycon-px-")
    if profile_config:
        with open(os.path.join(profile_dir, "ipcluster_config.py"), "w") as config_file:
            config_file.write(profile_config)
    if engines is not None:
        cluster_options["engines"] = engines
    cluster = ipp.Cluster(n=n, profile_dir=profile_dir, cluster_id="px",
                          log_level=40, shutdown_atexit=True, **cluster_options)
    running = PxCluster(cluster, profile_dir, "px", n)

    def start() -> None:
        cluster.start_cluster_sync()
        client = cluster.connect_client_sync()
        try:
            client.wait_for_engines(n, timeout=timeout)
        finally:
            client.close()

    try:
        _bounded(f"starting an ipyparallel cluster of {n} {engines or 'configured'} engines", start, timeout)
        yield running
    finally:
        try:
            _bounded("stopping the ipyparallel cluster", cluster.stop_cluster_sync, 30)
        finally:
            import shutil

            shutil.rmtree(profile_dir, ignore_errors=True)


class PxSession:
    """Runs cells on one kernel connected to the cluster; returns what the user sees."""

    def __init__(self, kc: Any) -> None:
        self.kc = kc

    def run(self, code: str, timeout: float = 30, **kwargs: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(execute_reply content, iopub outputs other than execute_input)."""
        from kernel_harness import execute

        reply, outputs = execute(self.kc, code, timeout=timeout, **kwargs)
        return reply["content"], [m for m in outputs if m["msg_type"] != "execute_input"]

    def ok(self, code: str, timeout: float = 30) -> list[dict[str, Any]]:
        content, outputs = self.run(code, timeout)
        assert content["status"] == "ok", (content, outputs)
        return outputs


@contextmanager
def connected_kernel(kernel_name: str, cluster: PxCluster) -> Iterator[PxSession]:
    """A kernel (``mycon`` or ipykernel's ``python3``) with ``rc`` connected to ``cluster``."""
    from kernel_harness import running_kernel

    with running_kernel(kernel_name) as (_, kc):
        # start-up may leave extra kernel_info_replies on the shell channel: read up to ours
        msg_id = kc.kernel_info()
        while kc.get_shell_msg(timeout=30)["parent_header"].get("msg_id") != msg_id:
            pass
        session = PxSession(kc)
        session.ok(cluster.connect_code(), timeout=START_TIMEOUT)
        try:
            yield session
        finally:
            session.run("rc.close()")
