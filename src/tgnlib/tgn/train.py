"""Training loop for the TGN and its baselines: resumable exactly, and distributed under torchrun.

* AdamW, linear warm-up then cosine decay, gradient clipping, bf16 autocast on CUDA.
* tqdm shows loss and gate rate; every step is logged as one JSON line (CE, loss, mean gate, fraction of
  open gates (g > 0.5) per layer, learning rate, tokens, seconds).
* Checkpoints hold the model, optimiser, step, log position and every random generator (torch's and the
  data sampler's), written atomically; a killed run resumes with bit-identical next steps on CPU.
* Under ``torchrun`` (several GPUs or machines) the model is wrapped in PyTorch's
  DistributedDataParallel. Each step draws one global batch from a generator every rank seeds alike and
  each rank takes its rows, so the averaged gradient equals the single-process one on the same batch.

Command line (a corpus of token ids saved with ``numpy.save``)::

    python -m tgnlib.tgn.train --tokens train.npy --out runs/tgn --steps 1000
    torchrun --nproc_per_node 2 -m tgnlib.tgn.train --tokens train.npy --out runs/tgn --steps 1000
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from ..training import TokenSampler, TrainConfig, learning_rate, parameter_groups, save_atomic
from .config import TGNConfig
from .evaluate import evaluate
from .model import TGNLanguageModel


def _rank_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def train(model_cfg: TGNConfig, train_cfg: TrainConfig, tokens, out_dir, device="cpu", progress: bool = True,
          max_steps_this_call: int | None = None, validation=None, eval_every: int = 0, eval_windows: int = 16) -> list[dict]:
    """Train a model, resuming from ``out_dir/checkpoint.pt`` if it exists.

    Parameters
    ----------
    model_cfg : TGNConfig
    train_cfg : TrainConfig
    tokens : 1-d array of token ids, or a sampler
        The training split (random windows are drawn by :class:`TokenSampler`), or any object with a
        method ``batch(batch_size) -> (inputs, targets)`` and a ``torch.Generator`` attribute
        ``generator`` that holds its whole random state (e.g. :class:`~tgnlib.tgn.recall.RecallTask`).
    out_dir : path
        Gets ``checkpoint.pt``, ``log.jsonl`` and, at the end, ``model.pt``.
    device : str or torch.device, default "cpu"
    progress : bool, default True
        Show a tqdm bar (rank 0 only).
    max_steps_this_call : int or None, default None
        Stop after this many steps and write a checkpoint (to split a run over sessions; the next call
        resumes exactly).
    validation : 1-d array of token ids or None, default None
        Held-out tokens for periodic evaluation.
    eval_every : int, default 0
        With ``validation``: every this many steps (and at the last step) the record of that step gets
        ``val_ce``, the cross-entropy on the first ``eval_windows`` windows of ``validation`` (the same
        windows every time; no random state is used, so resuming stays exact). 0: never.
    eval_windows : int, default 16

    Returns
    -------
    list of dict
        The per-step log records (also in ``log.jsonl``).
    """
    if eval_every < 0 or (eval_every and validation is None):
        raise ValueError(f"eval_every={eval_every!r} needs validation tokens and must be >= 0")
    rank, world = _rank_world()
    if train_cfg.batch_size % world:
        raise ValueError(f"TrainConfig.batch_size={train_cfg.batch_size} must be divisible by the {world} ranks")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    device = torch.device(device)
    torch.manual_seed(train_cfg.seed)
    model = TGNLanguageModel(model_cfg).to(device)
    optimiser = torch.optim.AdamW(parameter_groups(model, train_cfg.weight_decay), lr=train_cfg.lr, betas=(0.9, 0.95))
    sampler = tokens if hasattr(tokens, "batch") else TokenSampler(tokens, train_cfg.seq_len, seed=train_cfg.seed)
    history: list[dict] = []
    start = 0
    ckpt = out / "checkpoint.pt"
    if ckpt.is_file():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        if state["model_cfg"] != model_cfg.to_dict() or state["train_cfg"] != asdict(train_cfg):
            raise ValueError(f"{ckpt} was written for another configuration; use a new out_dir or delete it")
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        sampler.generator.set_state(state["data_rng"])
        torch.set_rng_state(state["torch_rng"])
        start, history = state["step"], state["history"]
    # a hard gate can leave attention unused in a step, which DDP must be told about
    sparse = model_cfg.gate in ("hard", "capacity")  # closed rows leave attention weights without a gradient
    ddp = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=sparse) if world > 1 else model
    stop = train_cfg.steps if max_steps_this_call is None else min(train_cfg.steps, start + max_steps_this_call)
    use_bf16 = device.type == "cuda"
    bar = tqdm(range(start, stop), initial=start, total=train_cfg.steps, disable=not progress or rank != 0,
               desc=f"{model_cfg.mode}/{model_cfg.inertial}")
    t0 = time.perf_counter() - (history[-1]["seconds"] if history else 0.0)
    for step in bar:
        lr = learning_rate(step, train_cfg)
        for group in optimiser.param_groups:
            group["lr"] = lr
        x, y = sampler.batch(train_cfg.batch_size)  # the same global batch on every rank
        x, y = x[rank::world].to(device), y[rank::world].to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            result = ddp(x, y)
        optimiser.zero_grad(set_to_none=True)
        result.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), train_cfg.grad_clip)
        optimiser.step()
        summary = torch.tensor([float(result.ce.detach()), float(result.loss.detach()), result.gate_rate]
                               + [float((s.gate_soft.detach() > 0.5).float().mean()) for s in result.gates], device=device)
        if world > 1:  # log the global batch's means, as a single process would
            dist.all_reduce(summary)
            summary /= world
        values = summary.tolist()
        record = {"step": step + 1, "ce": values[0], "loss": values[1], "gate_rate": values[2], "gate_open": values[3:],
                  "lr": lr, "tokens": (step + 1) * train_cfg.batch_size * train_cfg.seq_len,
                  "attention_flops": result.attention_flops * world, "seconds": time.perf_counter() - t0}
        if eval_every and rank == 0 and ((step + 1) % eval_every == 0 or step + 1 == train_cfg.steps):
            record["val_ce"] = evaluate(model, validation, train_cfg.seq_len, max_windows=eval_windows)["ce"]
        history.append(record)
        bar.set_postfix(loss=f"{record['ce']:.3f}", gate=f"{record['gate_rate']:.3f}")
        done = step + 1
        if rank == 0 and (done == stop or (train_cfg.checkpoint_every and done % train_cfg.checkpoint_every == 0)):
            save_atomic({"step": done, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                          "data_rng": sampler.generator.get_state(), "torch_rng": torch.get_rng_state(), "history": history,
                          "model_cfg": model_cfg.to_dict(), "train_cfg": asdict(train_cfg)}, ckpt)
    if rank == 0:
        (out / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in history))
        if len(history) == train_cfg.steps:
            save_atomic(model.state_dict(), out / "model.pt")  # its presence marks the run finished: never half-written
    return history


def main(argv=None) -> int:
    """Command line: train on a ``.npy`` array of token ids, alone or under torchrun (gloo on CPU, nccl on GPU)."""
    parser = argparse.ArgumentParser(prog="python -m tgnlib.tgn.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", required=True, help=".npy file of token ids (1-d)")
    parser.add_argument("--out", required=True, help="output folder (checkpoint, log)")
    parser.add_argument("--model", default="{}", help="TGNConfig fields as JSON, e.g. '{\"mode\": \"tgn\"}'")
    parser.add_argument("--train", default="{}", help="TrainConfig fields as JSON")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="auto, cpu or cuda")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda, but no CUDA device is available here; use --device auto or cpu")
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    cuda = torch.cuda.is_available() and args.device != "cpu"
    if distributed:
        dist.init_process_group("nccl" if cuda else "gloo")
    device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else "cpu"
    tokens = np.load(args.tokens)
    if tokens.ndim != 1 or not np.issubdtype(tokens.dtype, np.integer) or len(tokens) == 0 or tokens.min() < 0:
        parser.error(f"--tokens {args.tokens}: need a non-empty 1-d array of non-negative integer token ids; got dtype "
                     f"{tokens.dtype}, shape {tokens.shape}")
    model_cfg = TGNConfig(**{"vocab_size": int(tokens.max()) + 1, **json.loads(args.model)})
    try:
        history = train(model_cfg, TrainConfig(**json.loads(args.train)), tokens, args.out, device=device)
        if _rank_world()[0] == 0:
            print(json.dumps({"final_ce": history[-1]["ce"], "steps": len(history)}))
    finally:
        if distributed:
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
