"""Training on several processes with DistributedDataParallel (gloo on CPU, nccl on GPU).

``htrkit train --nproc N`` spawns N local processes. Under ``torchrun`` (which sets
``RANK``, ``WORLD_SIZE`` and ``MASTER_ADDR``), each process joins the existing group.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from htrkit.errors import ConfigError
from htrkit.training.config import TrainConfig


def under_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(
    rank: int, world: int, config: TrainConfig, resume: bool, port: int, results: Any
) -> None:
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(port))
    summary = run_rank(rank, world, config, resume)
    if rank == 0:
        results.put(summary)


def check_gpus(device: str, world: int, gpus: int) -> None:
    """Refuse a run of ``world`` processes on fewer GPUs: nccl needs one GPU per process
    (``device = "auto"`` trains on the CPUs, with gloo, when there is no GPU at all).

    :raises ConfigError: too few GPUs for the processes.
    """
    on_gpu = device == "cuda" or (device == "auto" and gpus > 0)
    if on_gpu and world > gpus:
        raise ConfigError(
            f"--nproc {world} on {gpus} GPU{'s' if gpus != 1 else ''}: DDP on GPUs (nccl) "
            f"needs one GPU per process; use --nproc {max(gpus, 1)}, or [train] device = "
            "'cpu' for processes on the CPUs"
        )


def run_rank(
    rank: int, world: int, config: TrainConfig, resume: bool, progress: bool = False
) -> dict[str, Any]:
    import torch
    import torch.distributed as dist

    from htrkit.training.loop import Trainer, training_device

    # nccl where the model is on GPUs (one per rank), gloo on CPUs
    on_gpu = training_device(config.train.device, rank).type == "cuda"
    dist.init_process_group("nccl" if on_gpu else "gloo", rank=rank, world_size=world)
    try:
        if not on_gpu:
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
        return Trainer(config, resume=resume, rank=rank, world=world, progress=progress).fit()
    finally:
        dist.destroy_process_group()


def train_distributed(config: TrainConfig, nproc: int, resume: bool) -> dict[str, Any]:
    """Train with ``nproc`` local processes; returns rank 0's summary."""
    import torch
    import torch.multiprocessing as mp

    if under_torchrun():
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local = int(os.environ.get("LOCAL_WORLD_SIZE", world))
        check_gpus(config.train.device, local, torch.cuda.device_count())
        return run_rank(rank, world, config, resume, progress=rank == 0)
    check_gpus(config.train.device, nproc, torch.cuda.device_count())
    ctx = mp.get_context("spawn")
    results = ctx.SimpleQueue()
    mp.start_processes(
        _worker,
        args=(nproc, config, resume, _free_port(), results),
        nprocs=nproc,
        join=True,
        start_method="spawn",
    )
    return results.get()
