"""What every spin-glass solver returns: best energy against budget and wall time.

Budget convention, the same for every method: the budget of one instance is its total number of
spin-update attempts divided by N (= L^3), summed over all replicas. A method with R replicas that
runs S sweeps (or S Langevin steps, each updating all N soft spins) spends R * S sweeps. Non-local
terms (attention) are also counted in floating-point operations, reported separately.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass
class Trace:
    """Best energy per spin found so far, recorded along the run.

    Attributes
    ----------
    method : str
    L : int
    sweeps : numpy.ndarray, shape (n_records,)
        Budget spent at each record, in sweeps per instance (all replicas together).
    wall_time : numpy.ndarray, shape (n_records,)
        Seconds since the start, at each record.
    best_energy : numpy.ndarray, shape (n_instances, n_records)
        Lowest energy per spin of a +-1 configuration seen so far.
    extra_flops : float
        Floating-point operations of non-local terms (0 for local methods), per instance.
    info : dict
        Method-specific facts (temperatures, swap rates, parameters).
    """

    method: str
    L: int
    sweeps: np.ndarray
    wall_time: np.ndarray
    best_energy: np.ndarray
    extra_flops: float = 0.0
    info: dict = field(default_factory=dict)

    @property
    def final(self) -> np.ndarray:
        """Best energy per spin at the end, one per instance."""
        return self.best_energy[:, -1]

    def sweeps_to_reach(self, target: np.ndarray) -> np.ndarray:
        """Budget (sweeps) at which each instance first reached ``target`` (per spin); ``inf`` if never."""
        hit = self.best_energy <= np.asarray(target)[:, None] + 1e-9
        first = hit.argmax(1)
        return np.where(hit.any(1), self.sweeps[first], np.inf)


class Recorder:
    """Keeps the best energies and writes records at log-spaced budgets (used by every solver)."""

    def __init__(self, method: str, L: int, n_instances: int, total_sweeps: float, n_records: int = 40, device="cpu"):
        self.method, self.L, self.n = method, L, L**3
        self.best = torch.full((n_instances,), float("inf"), dtype=torch.float64, device=device)
        marks = np.unique(np.geomspace(1, max(total_sweeps, 1), n_records).round())
        self.marks = list(marks)
        self.sweeps, self.times, self.energies = [], [], []
        self.start = time.perf_counter()

    def update(self, energies: torch.Tensor) -> None:
        """Fold in energies (total, of +-1 configurations) of shape (I, R)."""
        self.best = torch.minimum(self.best, energies.min(dim=1).values.to(torch.float64))

    def due(self, spent: float) -> bool:
        """Whether a record is due at this budget."""
        return bool(self.marks) and spent >= self.marks[0]

    def record(self, spent: float) -> None:
        """Write a record at budget ``spent`` (sweeps)."""
        while self.marks and spent >= self.marks[0]:
            self.marks.pop(0)
        self.sweeps.append(spent)
        self.times.append(time.perf_counter() - self.start)
        self.energies.append((self.best / self.n).cpu().numpy())

    def state(self) -> dict:
        """Everything needed to resume recording (for checkpoints); wall time is stored as elapsed."""
        return {"best": self.best.cpu(), "marks": list(self.marks), "sweeps": list(self.sweeps), "times": list(self.times),
                "energies": list(self.energies), "elapsed": time.perf_counter() - self.start}

    def load_state(self, state: dict) -> None:
        """Restore :meth:`state`; the clock continues from the stored elapsed time."""
        self.best = state["best"].to(self.best.device)
        self.marks, self.sweeps, self.times, self.energies = state["marks"], state["sweeps"], state["times"], state["energies"]
        self.start = time.perf_counter() - state["elapsed"]

    def trace(self, extra_flops: float = 0.0, **info) -> Trace:
        """The finished :class:`Trace`."""
        return Trace(self.method, self.L, np.array(self.sweeps, dtype=float), np.array(self.times),
                     np.stack(self.energies, axis=1), extra_flops, info)
