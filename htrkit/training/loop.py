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
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from htrkit._version import __version__
from htrkit.alphabet import Alphabet
from htrkit.atomic import remove_partials
from htrkit.errors import ConfigError
from htrkit.modelfile import read_config
from htrkit.preprocess.chain import standard_steps
from htrkit.recognizer import Recognizer
from htrkit.training.cache import load_lines
from htrkit.training.checkpoint import TrainState, check_resumable
from htrkit.training.config import TrainConfig
from htrkit.training.dataset import LineDataset, collate
from htrkit.training.history import write_history
from htrkit.training.model import build_recognizer, init_path
from htrkit.training.progress import EpochBar, NoBar
from htrkit.training.sampler import epoch_batches
from htrkit.training.schedule import LRSchedule

Log = Callable[[str], None]


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
        self.steps = standard_steps(c.model.preprocess, c.model.input_height)
        if c.model.init:
            self.steps = read_config(init_path(c)).preprocess
        lines = load_lines(c, self.steps, build=self.rank == 0, log=self.log, wait=self._barrier)
        self.store, self.train_idx, self.val_idx = lines.store, lines.train, lines.val
        self.report = lines.report
        heads = [lines.head(i) for i in self.train_idx]
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
        # fp16 needs its loss scaled (its range is narrow); bf16 and fp32 do not
        scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
        amp = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        self.log(f"device: {device}, precision {precision}")
        per_epoch = int(round(self.train_weights.sum()))
        batches_per_epoch = max(per_epoch // (t.batch_size * self.world), 1)
        schedule = LRSchedule(t.lr, t.warmup_steps, batches_per_epoch * t.epochs, t.schedule)
        augmenter = self._augmenter()
        train_set = LineDataset(self.store, self.train_idx, self.alphabet, augmenter, t.seed)
        val_set = LineDataset(self.store, self.val_idx, self.alphabet)
        ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
        bf16 = precision == "bf16"  # validation reads in bf16 too; fp16 validates in fp32

        epoch, batch_pos, step, best_cer, bad_epochs = 0, 0, 0, math.inf, 0
        if self.resume:
            state = TrainState.load(self.output / "train-state.safetensors", module, optimizer)
            check_resumable(state.config, self.config.to_dict())
            if state.scaler:
                scaler.load_state_dict(state.scaler)
            epoch, batch_pos, step = state.epoch, state.batch, state.step
            best_cer, bad_epochs = state.best_cer, state.bad_epochs
            self.history = state.history
            schedule.load(state.schedule)
            self.log(f"resuming at epoch {epoch + 1}, batch {batch_pos}")
        # a run killed after early stopping decided (and saved) but before it exited: its
        # resume has nothing left to do, as the run itself had not
        early_stop = bool(self.resume and t.patience and bad_epochs >= t.patience)
        self.output.mkdir(parents=True, exist_ok=True)
        if self.rank == 0:  # what a killed run was writing when it died
            remove_partials(self.output)
        started = time.monotonic()
        # CPU time of this process (all its threads), added to the interrupted runs' total:
        # the budget that architectures are compared at (docs/backbones.md)
        cpu_before = self.history[-1].get("cpu_minutes", 0.0) if self.history else 0.0
        cpu_started = time.process_time()
        stop_reason = f"no improvement for {t.patience} evaluations" if early_stop else ""
        every = t.eval_every_steps

        def evaluate(losses: list[float], at_epoch: float, batch: int) -> bool:
            """Validate, checkpoint, log; True when early stopping says stop."""
            nonlocal best_cer, bad_epochs
            cer, wer, val_loss = self._validate(val_set, bf16)
            self.history.append(
                {
                    "epoch": round(at_epoch, 3),
                    "step": step,
                    "train_loss": float(np.mean(losses or [0])),
                    "val_loss": val_loss,
                    "val_cer": cer,
                    "val_wer": wer,
                    "lr": schedule.lr(step),
                    "seconds": round(time.monotonic() - started, 1),
                    "cpu_minutes": round(cpu_before + (time.process_time() - cpu_started) / 60, 2),
                }
            )
            if t.schedule == "plateau":
                schedule.observe(cer)
            improved = cer < best_cer - 1e-9
            best_cer, bad_epochs = (cer, 0) if improved else (best_cer, bad_epochs + 1)
            if self.rank == 0:
                if improved:
                    self._save_model("best.safetensors", cer, wer, at_epoch)
                self._save_model("last.safetensors", cer, wer, at_epoch)
                write_history(self.output, self.history)
            whole = int(at_epoch)  # completed epochs, or the one in progress
            position = TrainState(whole, batch, step, best_cer, bad_epochs, self.history)
            self._save_state(module, optimizer, position.with_run(self, schedule, scaler))
            loss = f"loss {self.history[-1]['train_loss']:.3f}" if losses else "no step yet"
            self.log(
                f"epoch {at_epoch:g}: {loss}, val CER {100 * cer:.2f}%, WER {100 * wer:.2f}%"
                + (" (best)" if improved else "")
            )
            return bool(t.patience and bad_epochs >= t.patience)

        if self.config.model.init and not self.resume and t.score_start:
            # a fine-tuned model starts as good as its init: that is the best to beat, so
            # a run that makes it worse never calls its result "best"
            evaluate([], 0.0, 0)
            self.log(f"the starting model ({self.config.model.init}) is the best to beat")
        while epoch < t.epochs and not stop_reason:
            train_set.epoch = epoch
            batches = self._epoch_batches(epoch)
            module.train()
            losses: list[float] = []
            last_cer = self.history[-1]["val_cer"] if self.history else float("nan")
            bar = self._bar(len(batches) - batch_pos, f"epoch {epoch + 1}/{t.epochs}", last_cer)
            loader = self._batches(train_set, batches[batch_pos:], device)
            for b, batch in enumerate(loader, start=batch_pos):
                for group in optimizer.param_groups:
                    group["lr"] = schedule.lr(step)
                images = batch["images"].to(device, non_blocking=True)
                widths = batch["widths"].to(device, non_blocking=True)
                with torch.autocast(device.type, dtype=amp or torch.float32, enabled=bool(amp)):
                    logits = model(images, widths)
                log_probs = torch.log_softmax(logits.float(), -1).transpose(0, 1)
                lengths = module.output_lengths(widths).clamp(max=logits.shape[1])
                targets = batch["targets"].to(device, non_blocking=True)
                loss = ctc(log_probs, targets, lengths, batch["target_lengths"].to(device))
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if t.grad_clip:
                    scaler.unscale_(optimizer)  # clip the true gradients, not the scaled
                    torch.nn.utils.clip_grad_norm_(module.parameters(), t.grad_clip)
                scaler.step(optimizer)
                scaler.update()
                step += 1
                losses.append(loss.item())
                bar.update(loss=np.mean(losses[-50:]))
                at = epoch + (b + 1) / len(batches)
                if t.max_minutes and self._agree(time.monotonic() - started > 60 * t.max_minutes):
                    stop_reason = f"time budget of {t.max_minutes} min reached"
                elif every and step % every == 0 and b + 1 < len(batches):
                    if evaluate(losses, at, b + 1):
                        stop_reason = f"no improvement for {t.patience} evaluations"
                if stop_reason:
                    batch_pos = b + 1
                    break
            del loader  # its workers stop here, not at the next epoch
            bar.close()
            if stop_reason and batch_pos < len(batches):
                if stop_reason.startswith("time"):
                    evaluate(losses, epoch + batch_pos / len(batches), batch_pos)
                break
            epoch, batch_pos = epoch + 1, 0
            if epoch % t.eval_every and epoch != t.epochs and not stop_reason:
                continue
            if evaluate(losses, epoch, 0) and not stop_reason:
                stop_reason = f"no improvement for {t.patience} evaluations"
        stop_reason = stop_reason or "epochs done"
        self._barrier()
        return {
            "stopped": stop_reason,
            "epochs": epoch,
            "steps": step,
            "best_cer": best_cer,
            "output": str(self.output),
            "minutes": round((time.monotonic() - started) / 60, 2),
        }

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

        return iter(
            DataLoader(
                train_set,
                batch_sampler=batches,
                collate_fn=collate,
                num_workers=workers,
                pin_memory=device.type == "cuda",
                prefetch_factor=4,
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

    def _save_state(self, module: Any, optimizer: Any, state: TrainState) -> None:
        if self.rank == 0:
            state.save(self.output / "train-state.safetensors", module, optimizer)

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


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


__all__ = ["Trainer"]
