"""The training loop: CTC loss, AdamW, warm-up + schedule, clipping, bf16 autocast, early
stopping on validation CER, a time budget, atomic checkpoints and exact resume.

Outputs in ``[train] output``:

- ``best.safetensors``: the model with the lowest validation CER (an htrkit model file);
- ``last.safetensors``: the latest model;
- ``train-state.safetensors``: optimiser, RNG, position in the data (for ``--resume``);
- ``history.json`` and ``history.png``: loss and CER per evaluation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from htrkit._version import __version__
from htrkit.alphabet import Alphabet
from htrkit.atomic import remove_partials
from htrkit.errors import ConfigError
from htrkit.recognizer import Recognizer
from htrkit.training.cache import load_lines
from htrkit.training.checkpoint import TrainState, check_resumable
from htrkit.training.config import TrainConfig
from htrkit.training.dataset import LineDataset, collate
from htrkit.training.history import write_history
from htrkit.training.model import build_recognizer, preprocess_steps
from htrkit.training.progress import EpochBar, NoBar
from htrkit.training.sampler import epoch_batches
from htrkit.training.schedule import LRSchedule

Log = Callable[[str], None]


@dataclass
class _Run:
    """What one :meth:`Trainer.fit` works with (the network and its DDP wrapper, optimiser,
    loss scaler, schedule, loss, data, precision) and where it is."""

    module: Any
    model: Any
    optimizer: Any
    scaler: Any
    schedule: LRSchedule
    ctc: Any
    train_set: LineDataset
    val_set: LineDataset
    device: Any
    amp: Any  # the autocast dtype, or None for fp32
    bf16: bool
    epoch: int = 0
    batch_pos: int = 0
    step: int = 0
    best_cer: float = math.inf
    bad_epochs: int = 0
    started: float = 0.0
    start_step: int = 0  #: the step this process began at (a resume's), for the run's ETA
    cpu_before: float = 0.0
    cpu_started: float = 0.0


class Trainer:
    """Trains one model as a :class:`TrainConfig` describes (one process of several with
    DDP: ``rank`` and ``world`` are set by :mod:`htrkit.training.distributed`)."""

    def __init__(
        self,
        config: TrainConfig,
        *,
        resume: bool = False,
        rank: int = 0,
        world: int = 1,
        log: Log = print,
        progress: bool = False,
    ):
        self.config = config
        self.resume = resume
        self.rank = rank
        self.world = world
        self.log = log if rank == 0 else (lambda message: None)
        self.show_progress = progress and rank == 0
        self.output = config.resolve(config.train.output)
        self.history: list[dict[str, Any]] = []
        self._val_items: list[Any] | None = None

    # -- data ------------------------------------------------------------------------

    def load_data(self) -> None:
        c = self.config
        self.steps = preprocess_steps(c)
        lines = load_lines(c, self.steps, build=self.rank == 0, log=self.log, wait=self._barrier)
        self.store, self.train_idx, self.val_idx = lines.store, lines.train, lines.val
        self.report = lines.report
        heads = [lines.head(i) for i in self.train_idx]
        if c.data.max_text_length:  # too long to learn from: left out of training only
            keep = [len(h.text) <= c.data.max_text_length for h in heads]
            dropped = len(keep) - sum(keep)
            self.train_idx = [i for i, k in zip(self.train_idx, keep) if k]
            heads = [h for h, k in zip(heads, keep) if k]
            if dropped:
                self.log(f"data: {dropped} training lines longer than "
                         f"{c.data.max_text_length} characters left out")  # fmt: skip
        self.train_weights = np.array([c.data.train[h.source].weight for h in heads], np.float64)
        self.train_widths = np.array([h.image.shape[1] for h in heads], np.int64)
        self.log(
            f"data: {len(self.train_idx)} training and {len(self.val_idx)} validation lines"
            + (f"; skipped {dict(lines.report.skipped)}" if lines.report.skipped else "")
        )

    # -- model -----------------------------------------------------------------------

    def build_model(self) -> None:
        texts = (self.store[i].text for i in self.train_idx)
        self.recognizer = build_recognizer(self.config, self.steps, texts, self.log)
        self.recognizer.module.train()
        self.alphabet = Alphabet(self.recognizer.config.alphabet)
        params = sum(p.numel() for p in self.recognizer.module.parameters())
        self.log(
            f"model: {self.recognizer.config.backbone}, {params / 1e6:.2f} M parameters, "
            f"{len(self.alphabet)} symbols"
        )

    # -- training --------------------------------------------------------------------

    def fit(self) -> dict[str, Any]:
        """Train until the epochs are done, early stopping says stop or the time budget
        is spent, validating and checkpointing as configured; a summary of the run."""
        t = self.config.train
        run = self._start()
        # a run killed after early stopping decided (and saved) but before it exited: its
        # resume has nothing left to do, as the run itself had not
        early_stop = bool(self.resume and t.patience and run.bad_epochs >= t.patience)
        stop_reason = f"no improvement for {t.patience} evaluations" if early_stop else ""
        if self.config.model.init and not self.resume and t.score_start:
            # a fine-tuned model starts as good as its init: that is the best to beat, so
            # a run that makes it worse never calls its result "best"
            self._evaluate(run, [], 0.0, 0)
            self.log(f"the starting model ({self.config.model.init}) is the best to beat")
        while run.epoch < t.epochs and not stop_reason:
            stop_reason = self._train_epoch(run)
        stop_reason = stop_reason or "epochs done"
        self._barrier()
        return {
            "stopped": stop_reason,
            "epochs": run.epoch,
            "steps": run.step,
            "best_cer": run.best_cer,
            "output": str(self.output),
            "minutes": round((time.monotonic() - run.started) / 60, 2),
        }

    def _say_what_changed(self, state: TrainState, run: _Run, batches_per_epoch: int) -> None:
        """What a resume changes of the run, that it may change: the epochs (a cosine
        schedule then spans the new number, so the rate at this step moves) and the
        processes (the global batch, so the steps of an epoch)."""
        t = self.config.train
        epochs = state.config.get("train", {}).get("epochs", t.epochs)
        if epochs != t.epochs and t.schedule == "cosine":
            was = LRSchedule(t.lr, t.warmup_steps, batches_per_epoch * epochs, t.schedule)
            self.log(
                f"note: {t.epochs} epochs where the run had {epochs}: its cosine schedule now "
                f"spans {t.epochs}, so the learning rate at step {run.step} is "
                f"{run.schedule.lr(run.step):.3g} (it was {was.lr(run.step):.3g})"
            )
        if state.world and state.world != self.world:
            self.log(
                f"note: the run trained on {state.world} process(es), it resumes on "
                f"{self.world}: its global batch is {t.batch_size * self.world} lines (it was "
                f"{t.batch_size * state.world}), its epochs {batches_per_epoch} steps"
            )

    def _start(self) -> _Run:
        """Data, model, optimiser, schedule and precision set up, and the position a
        resumed run left off at."""
        import torch

        t = self.config.train
        if t.threads:
            torch.set_num_threads(t.threads)
        device = self.device = training_device(t.device, self.rank)
        precision = self._precision(device)
        self.load_data()
        self.build_model()
        module = self.recognizer.module.to(device)
        model = module
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [device.index] if device.type == "cuda" else None
            model = DistributedDataParallel(module, device_ids=ids)
        optimizer = torch.optim.AdamW(module.parameters(), lr=t.lr, weight_decay=t.weight_decay)
        self.log(f"device: {device}, precision {precision}")
        per_epoch = int(round(self.train_weights.sum()))
        batches_per_epoch = max(per_epoch // (t.batch_size * self.world), 1)
        run = _Run(
            module=module,
            model=model,
            optimizer=optimizer,
            # fp16 needs its loss scaled (its range is narrow); bf16 and fp32 do not
            scaler=torch.amp.GradScaler(device.type, enabled=precision == "fp16"),
            schedule=LRSchedule(t.lr, t.warmup_steps, batches_per_epoch * t.epochs, t.schedule),
            ctc=torch.nn.CTCLoss(blank=0, zero_infinity=True),
            train_set=LineDataset(
                self.store, self.train_idx, self.alphabet, self._augmenter(), t.seed
            ),  # fmt: skip
            val_set=LineDataset(self.store, self.val_idx, self.alphabet),
            device=device,
            amp={"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision),
            bf16=precision == "bf16",  # validation reads in bf16 too; fp16 in fp32
        )
        if self.resume:
            now = self.config.to_dict()
            state = TrainState.load(
                self.output / "train-state.safetensors", module, optimizer,
                check=lambda saved: check_resumable(saved.get("config", {}), now),
            )  # fmt: skip
            if state.scaler:
                run.scaler.load_state_dict(state.scaler)
            run.epoch, run.batch_pos, run.step = state.epoch, state.batch, state.step
            run.best_cer, run.bad_epochs = state.best_cer, state.bad_epochs
            self.history = state.history
            run.schedule.load(state.schedule)
            self.log(f"resuming at epoch {run.epoch + 1}, batch {run.batch_pos}")
            self._say_what_changed(state, run, batches_per_epoch)
        self.output.mkdir(parents=True, exist_ok=True)
        if self.rank == 0:  # what a killed run was writing when it died
            remove_partials(self.output)
        run.started = time.monotonic()
        run.start_step = run.step
        # CPU time of this process (all its threads), added to the interrupted runs' total:
        # the budget that architectures are compared at (docs/backbones.md)
        run.cpu_before = self.history[-1].get("cpu_minutes", 0.0) if self.history else 0.0
        run.cpu_started = time.process_time()
        return run

    def _train_epoch(self, run: _Run) -> str:
        """The rest of ``run``'s epoch, and its validation when one is due; why training
        stops, or "" to go on."""
        t = self.config.train
        stop_reason = ""
        run.train_set.epoch = run.epoch
        batches = self._epoch_batches(run.epoch)
        run.module.train()
        losses: list[float] = []
        last_cer = self.history[-1]["val_cer"] if self.history else float("nan")
        what = f"epoch {run.epoch + 1}/{t.epochs}{self._run_left(run, len(batches))}"
        bar = self._bar(len(batches) - run.batch_pos, what, last_cer)
        loader = self._batches(run.train_set, batches[run.batch_pos :], run.device)
        every = t.eval_every_steps
        for b, batch in enumerate(loader, start=run.batch_pos):
            losses.append(self._train_step(run, batch))
            bar.update(loss=np.mean(losses[-50:]))
            at = run.epoch + (b + 1) / len(batches)
            if t.max_minutes and self._agree(time.monotonic() - run.started > 60 * t.max_minutes):
                stop_reason = f"time budget of {t.max_minutes} min reached"
            elif every and run.step % every == 0 and b + 1 < len(batches):
                if self._evaluate(run, losses, at, b + 1):
                    stop_reason = f"no improvement for {t.patience} evaluations"
            if stop_reason:
                run.batch_pos = b + 1
                break
        del loader  # its workers stop here, not at the next epoch
        bar.close()
        if stop_reason and run.batch_pos < len(batches):
            if stop_reason.startswith("time"):
                at = run.epoch + run.batch_pos / len(batches)
                self._evaluate(run, losses, at, run.batch_pos)
            return stop_reason
        run.epoch, run.batch_pos = run.epoch + 1, 0
        if run.epoch % t.eval_every and run.epoch != t.epochs and not stop_reason:
            return ""
        if self._evaluate(run, losses, run.epoch, 0) and not stop_reason:
            stop_reason = f"no improvement for {t.patience} evaluations"
        return stop_reason

    def _train_step(self, run: _Run, batch: dict[str, Any]) -> float:
        """One optimisation step on ``batch``; its loss."""
        import torch

        t = self.config.train
        for group in run.optimizer.param_groups:
            group["lr"] = run.schedule.lr(run.step)
        device, amp = run.device, run.amp
        images = batch["images"].to(device, non_blocking=True)
        widths = batch["widths"].to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=amp or torch.float32, enabled=bool(amp)):
            logits = run.model(images, widths)
        log_probs = torch.log_softmax(logits.float(), -1).transpose(0, 1)
        lengths = run.module.output_lengths(widths).clamp(max=logits.shape[1])
        targets = batch["targets"].to(device, non_blocking=True)
        loss = run.ctc(log_probs, targets, lengths, batch["target_lengths"].to(device))
        run.optimizer.zero_grad(set_to_none=True)
        run.scaler.scale(loss).backward()
        if t.grad_clip:
            run.scaler.unscale_(run.optimizer)  # clip the true gradients, not the scaled
            torch.nn.utils.clip_grad_norm_(run.module.parameters(), t.grad_clip)
        run.scaler.step(run.optimizer)
        run.scaler.update()
        run.step += 1
        return loss.item()

    def _evaluate(self, run: _Run, losses: list[float], at_epoch: float, batch: int) -> bool:
        """Validate, checkpoint, log; True when early stopping says stop."""
        t = self.config.train
        cer, wer, val_loss = self._validate(run.val_set, run.bf16)
        self.history.append(
            {
                "epoch": round(at_epoch, 3),
                "step": run.step,
                "train_loss": float(np.mean(losses or [0])),
                "val_loss": val_loss,
                "val_cer": cer,
                "val_wer": wer,
                "lr": run.schedule.lr(run.step),
                "seconds": round(time.monotonic() - run.started, 1),
                "cpu_minutes": round(
                    run.cpu_before + (time.process_time() - run.cpu_started) / 60, 2
                ),
            }
        )
        if t.schedule == "plateau":
            run.schedule.observe(cer)
        improved = cer < run.best_cer - 1e-9
        if improved:
            run.best_cer, run.bad_epochs = cer, 0
        else:
            run.bad_epochs += 1
        if self.rank == 0:
            if improved:
                self._save_model("best.safetensors", cer, wer, at_epoch)
            self._save_model("last.safetensors", cer, wer, at_epoch)
            write_history(self.output, self.history)
        whole = int(at_epoch)  # completed epochs, or the one in progress
        position = TrainState(whole, batch, run.step, run.best_cer, run.bad_epochs, self.history)
        self._save_state(run, position)
        loss = f"loss {self.history[-1]['train_loss']:.3f}" if losses else "no step yet"
        self.log(
            f"epoch {at_epoch:g}: {loss}, val CER {100 * cer:.2f}%, WER {100 * wer:.2f}%"
            + (" (best)" if improved else "")
        )
        return bool(t.patience and run.bad_epochs >= t.patience)

    # -- pieces ----------------------------------------------------------------------

    def _epoch_batches(self, epoch: int) -> list[list[int]]:
        t = self.config.train
        return epoch_batches(self.train_weights, self.train_widths, seed=t.seed, epoch=epoch,
                             batch_size=t.batch_size, world=self.world, rank=self.rank,
                             bucket=t.bucket)  # fmt: skip

    def _validate(self, val_set: LineDataset, bf16: bool) -> tuple[float, float, float]:
        import torch

        from htrkit.decoders.greedy import GreedyDecoder
        from htrkit.metrics.text import CharacterErrorRate, WordErrorRate

        if self._val_items is None:  # read once: validation runs often and never augments
            self._val_items = [val_set.store[i] for i in val_set.indices]
        records = self._val_items
        module = self.recognizer.module
        module.eval()
        readings = self.recognizer.read_prepared(
            [(r.image, None) for r in records], max(self.config.train.batch_size, 16), bf16=bf16
        )
        module.train()
        decoder = GreedyDecoder()
        preds, refs, losses = [], [], []
        for record, reading in zip(records, readings):
            label = [self.alphabet.index(c) for c in record.text if c in self.alphabet]
            lp = torch.from_numpy(reading.log_probs)[:, None]  # [frames, 1, classes]
            loss = torch.nn.functional.ctc_loss(
                lp, torch.tensor(label, dtype=torch.long), [lp.shape[0]], [len(label)],
                blank=0, reduction="sum", zero_infinity=True,
            )  # fmt: skip
            # divided by its target length: the same scale as the training loss
            losses.append(float(loss) / max(len(label), 1))
            preds.append(decoder.decode(reading.log_probs, self.alphabet).text)
            refs.append(record.text)
        cer = CharacterErrorRate().corpus(preds, refs)
        wer = WordErrorRate().corpus(preds, refs)
        return cer, wer, sum(losses) / max(len(refs), 1)

    def _augmenter(self):
        t = self.config.train
        if not t.augment:
            return None
        from htrkit.options import validate_options
        from htrkit.training.augment import Augmenter, AugmentOptions

        options = validate_options(AugmentOptions, t.augment_options, what="[train] augment")
        return Augmenter(options)

    def _precision(self, device: Any) -> str:
        """fp32, bf16 or fp16 for ``[train] precision`` on ``device``."""
        import torch

        precision = self.config.train.precision
        if device.type == "cuda":
            if precision == "auto":
                return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
            return precision
        if precision == "fp16":
            raise ConfigError("[train] precision = 'fp16' needs a CUDA device; use bf16 on CPUs")
        if precision == "auto":
            return "bf16" if torch.backends.mkldnn.is_available() and _cpu_has_bf16() else "fp32"
        return precision

    def _batches(self, train_set: LineDataset, batches: list[list[int]], device: Any):
        """The epoch's remaining batches, collated in this process or, with ``[train]
        num_workers``, by DataLoader workers (decoding and augmenting ahead of the step).
        Each sample's augmentation is seeded by its index and epoch, so both give the same
        batches."""
        workers = self.config.train.num_workers
        if not workers:
            return (collate([train_set[i] for i in batch]) for batch in batches)
        import torch
        from torch.utils.data import DataLoader

        cuda = device.type == "cuda"
        return iter(
            DataLoader(
                train_set,
                batch_sampler=batches,
                collate_fn=collate,
                num_workers=workers,
                pin_memory=cuda,
                prefetch_factor=4,
                # on a GPU, workers start from a fork server: forked from this process,
                # they inherit its CUDA tensors, and freeing one there kills the worker
                # ("CUDA error: initialization error", seen on an H200)
                multiprocessing_context=_forkserver() if cuda else None,
                # the workers' seeds from a generator of their own: drawn from the global
                # one, they would shift the dropout masks of the steps that follow
                generator=torch.Generator().manual_seed(self.config.train.seed),
            )
        )

    def _save_model(self, name: str, cer: float, wer: float, epoch: int) -> None:
        c = self.config
        meta = {
            **self.recognizer.config.metadata,
            "htrkit_version": __version__,
            "trained_epochs": epoch,
            "validation": {"cer": round(cer, 5), "wer": round(wer, 5), "lines": len(self.val_idx)},
            "training_lines": len(self.train_idx),
            "training_data": [s.path for s in c.data.train],
        }
        config = replace(self.recognizer.config, metadata=meta)
        Recognizer(self.recognizer.module, config).save(self.output / name)
        self.recognizer.module.train()

    def _save_state(self, run: _Run, position: TrainState) -> None:
        """The exact state to resume from: ``position`` with the run's schedule, scaler,
        configuration and alphabet, and its model and optimiser."""
        if self.rank == 0:
            state = position.with_run(self, run.schedule, run.scaler)
            state.save(self.output / "train-state.safetensors", run.module, run.optimizer)

    def _agree(self, flag: bool) -> bool:
        """With several processes, stop when rank 0 says so."""
        if self.world == 1:
            return flag
        import torch
        import torch.distributed as dist

        t = torch.tensor([1 if flag else 0])
        dist.broadcast(t, 0)
        return bool(t.item())

    def _barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()

    def _run_left(self, run: _Run, per_epoch: int) -> str:
        """`` (run: ~12 min left)``: the whole run's time to go, from the pace of the steps
        this process has made (validations included), within the time budget; "" before
        there is a pace."""
        t = self.config.train
        made = run.step - run.start_step
        if made <= 0:
            return ""
        spent = time.monotonic() - run.started
        left = spent / made * max(t.epochs * per_epoch - run.step, 0)
        if t.max_minutes:
            left = min(left, max(t.max_minutes * 60 - spent, 0.0))
        return f" (run: ~{max(left / 60, 0.1):.1f} min left)"

    def _bar(self, total: int, what: str, cer: float):
        return EpochBar(total, what, cer) if self.show_progress else NoBar()


def training_device(name: str, rank: int = 0) -> Any:
    """The torch device for ``[train] device``: ``cuda`` is this rank's GPU."""
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                "[train] device = 'cuda', but torch sees no CUDA device (a CPU-only torch, "
                "or no GPU); use device = 'auto' or 'cpu'"
            )
        return torch.device("cuda", rank % torch.cuda.device_count())
    return torch.device("cpu")


def _forkserver() -> Any:
    """The fork-server context, its server preloaded with what a worker runs (torch and
    the dataset), so that each epoch's workers start in a fraction of a second."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["torch", "htrkit.training.dataset"])
    return context


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


__all__ = ["Trainer"]
