"""An ipyparallel profile that runs the engines as one Slurm job (the controller stays on the
node you work on, e.g. a login node, next to mycon's kernel).

Install it as a profile:   mkdir -p ~/.ipython/profile_slurm
                           cp ipcluster_config.py ~/.ipython/profile_slurm/
Then, in mycon:            import ipyparallel as ipp
                           cluster = ipp.Cluster(profile="slurm", n=64)
                           rc = cluster.start_and_connect_sync(activate=True)
                           %px import socket; socket.gethostname()
or from a shell:           ipcluster start --profile=slurm -n 64

Tested in mycon's CI with stand-ins for sbatch, srun and scancel (tests/parallel), not on a real
Slurm cluster: adjust the partition, account and time limit to your site.
"""

c = get_config()  # noqa: F821 - ipyparallel defines it when it reads this file

# engines: one `sbatch` job of n tasks, each task an engine started by `srun`
c.Cluster.engine_launcher_class = "slurm"
c.SlurmEngineSetLauncher.queue = ""  # the partition (sbatch --partition), e.g. "compute"
c.SlurmEngineSetLauncher.account = ""  # sbatch --account, where your site wants one
c.SlurmEngineSetLauncher.timelimit = "01:00:00"  # sbatch --time: the engines' lifetime
# the engines must reach the controller from the compute nodes: listen on every interface
c.Cluster.controller_ip = "*"
# seconds to wait for the job to start and its engines to register (queues can be slow)
c.Cluster.engine_timeout = 600

# The other batch systems work the same way: "pbs", "sge", "lsf", "htcondor" instead of
# "slurm", with their own launcher class names (PBSEngineSetLauncher.queue, ...); a
# `batch_template` replaces the whole job script, e.g.
# c.SlurmEngineSetLauncher.batch_template = """#!/bin/sh
# #SBATCH --ntasks={n}
# #SBATCH --cpus-per-task=4
# module load python
# srun {program_and_args}
# """
