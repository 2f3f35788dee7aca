"""The 3D Edwards-Anderson spin glass: couplings, energies and the checkerboard split.

Couplings are an array ``J`` of shape ``(3, L, L, L)`` (one instance) or ``(I, 3, L, L, L)`` (a batch
of instances): ``J[a, x, y, z]`` couples site ``(x, y, z)`` with its periodic neighbour one step
along axis ``a``. Spins ``s = +-1`` come as ``(R, L, L, L)`` replicas of one instance or
``(I, R, L, L, L)``. The energy is ``H(s) = -sum_a sum_sites J[a] * s * roll(s, -1, axis=a)``.

For Metropolis sweeps the lattice is split into its two checkerboard colours (``x + y + z`` even or
odd), each stored as its own array packed along z, shape ``(..., L, L, L/2)``: every neighbour of a
site has the other colour, so a colour is updated in one vectorised step without masks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

COUPLINGS = ("gaussian", "pm")


def make_couplings(L: int, n_instances: int = 1, kind: str = "gaussian", seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    """Random couplings for ``n_instances`` instances of side ``L``.

    Parameters
    ----------
    L : int
        Linear size (sites per side, at least 2); N = L^3 spins.
    n_instances : int, default 1
    kind : {"gaussian", "pm"}, default "gaussian"
        N(0, 1) couplings, or +-1 with equal probability.
    seed : int, default 0
        Instance ``i`` of seed ``s`` is the same whatever ``n_instances`` is.
    dtype : torch dtype, default float32

    Returns
    -------
    torch.Tensor, shape (n_instances, 3, L, L, L)
    """
    if kind not in COUPLINGS:
        raise ValueError(f"kind={kind!r} is not one of {COUPLINGS}")
    if not (isinstance(L, (int, np.integer)) and L >= 2):
        raise ValueError(f"L must be an integer >= 2; got L={L!r}")
    out = []
    for i in range(n_instances):
        rng = np.random.default_rng([seed, int(L), i])
        j = rng.standard_normal((3, L, L, L)) if kind == "gaussian" else rng.choice([-1.0, 1.0], size=(3, L, L, L))
        out.append(j)
    return torch.as_tensor(np.stack(out), dtype=dtype)


def check_couplings(J) -> torch.Tensor:
    """Return ``J`` as a float tensor of shape (I, 3, L, L, L), or raise naming the problem.

    Parameters
    ----------
    J : array or tensor, shape (3, L, L, L) or (I, 3, L, L, L)

    Returns
    -------
    torch.Tensor, shape (I, 3, L, L, L)
    """
    J = torch.as_tensor(J)
    if J.ndim == 4:
        J = J.unsqueeze(0)
    if J.ndim != 5 or J.shape[1] != 3 or not (J.shape[2] == J.shape[3] == J.shape[4]):
        raise ValueError(f"J must have shape (3, L, L, L) or (I, 3, L, L, L); got {tuple(J.shape)}")
    if not torch.is_floating_point(J):
        J = J.to(torch.float32)
    if not torch.isfinite(J).all():
        raise ValueError("J contains NaN or infinite couplings")
    return J


def load_couplings(path) -> torch.Tensor:
    """Couplings from a ``.npy`` file holding (3, L, L, L) or (I, 3, L, L, L).

    Parameters
    ----------
    path : path

    Returns
    -------
    torch.Tensor, shape (I, 3, L, L, L), float32
    """
    return check_couplings(torch.as_tensor(np.load(Path(path)), dtype=torch.float32))


def energy(J: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Total energy ``H(s)`` of each configuration.

    Parameters
    ----------
    J : tensor, shape (I, 3, L, L, L)
    s : tensor, shape (I, R, L, L, L)
        Spins (+-1; soft spins are accepted and give the continuous energy).

    Returns
    -------
    torch.Tensor, shape (I, R)
    """
    J = check_couplings(J).to(s.dtype)
    total = torch.zeros(s.shape[:2], dtype=s.dtype, device=s.device)
    for a in range(3):
        total -= (J[:, a].unsqueeze(1) * s * torch.roll(s, -1, dims=a + 2)).sum(dim=(-3, -2, -1))
    return total


def local_field(J: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Local field ``h_i = sum_j J_ij s_j`` (so that ``H = -1/2 sum_i s_i h_i``).

    Parameters
    ----------
    J : tensor, shape (I, 3, L, L, L)
    s : tensor, shape (I, R, L, L, L)

    Returns
    -------
    torch.Tensor, shape (I, R, L, L, L)
        Flipping spin i changes the energy by ``2 s_i h_i``; ``-h`` is the gradient of H.
    """
    J = check_couplings(J).to(s.dtype)
    h = torch.zeros_like(s)
    for a in range(3):
        ja = J[:, a].unsqueeze(1)
        h += ja * torch.roll(s, -1, dims=a + 2) + torch.roll(ja * s, 1, dims=a + 2)
    return h


def random_spins(n_instances: int, n_replicas: int, L: int, generator: torch.Generator, dtype=torch.float32, device="cpu") -> torch.Tensor:
    """Independent uniformly random +-1 configurations, shape (I, R, L, L, L).

    Drawn on the generator's device (a CUDA generator cannot fill a CPU tensor), then moved to ``device``.
    """
    bits = torch.randint(0, 2, (n_instances, n_replicas, L, L, L), generator=generator, device=generator.device)
    return (2 * bits - 1).to(dtype=dtype, device=device)


@dataclass
class Checkerboard:
    """Couplings rearranged for checkerboard updates of a lattice of even side ``L``.

    ``couplings[c]`` holds, for the sites of colour ``c`` (0: ``x + y + z`` even), the six couplings
    to the neighbours in the order of :meth:`neighbours`, shape (6, I, 1, L, L, L/2).
    """

    L: int
    couplings: tuple[torch.Tensor, torch.Tensor]
    z_offset: torch.Tensor  # (L, L, 1): z parity of colour 0 in row (x, y), i.e. (x + y) % 2

    @classmethod
    def from_couplings(cls, J: torch.Tensor) -> "Checkerboard":
        """Split couplings of shape (I, 3, L, L, L); ``L`` must be even (periodic colouring)."""
        J = check_couplings(J)
        L = J.shape[-1]
        if L % 2:
            raise ValueError(f"the checkerboard sweep needs an even L (a periodic lattice of odd side is not bipartite); got L={L}")
        x, y = torch.meshgrid(torch.arange(L), torch.arange(L), indexing="ij")
        parity = ((x + y) % 2).to(J.device)
        # for each of the 6 directions, the coupling on the bond from site (x, y, z) in that direction
        bond = [J[:, 0], torch.roll(J[:, 0], 1, 1), J[:, 1], torch.roll(J[:, 1], 1, 2), J[:, 2], torch.roll(J[:, 2], 1, 3)]
        couplings = []
        for colour in (0, 1):
            per_dir = [cls._pack(b, parity, colour) for b in bond]
            # z bonds: +z and -z map to "same k" and "k + shift" depending on the row's parity
            zp, zm = per_dir[4], per_dir[5]
            off = ((parity + colour) % 2).unsqueeze(-1).bool()  # row where this colour sits at odd z
            same_k = torch.where(off, zm, zp)  # neighbour stored at index k of the other colour
            shifted = torch.where(off, zp, zm)  # neighbour at k + 1 (odd rows) or k - 1 (even rows)
            couplings.append(torch.stack([per_dir[0], per_dir[1], per_dir[2], per_dir[3], same_k, shifted]).unsqueeze(2).contiguous())
        return cls(L, (couplings[0], couplings[1]), parity.unsqueeze(-1))

    @staticmethod
    def _pack(a: torch.Tensor, parity: torch.Tensor, colour: int) -> torch.Tensor:
        # a: (..., L, L, L) -> sites of the colour, (..., L, L, L/2); row (x, y) keeps z = 2k + offset
        offset = ((parity + colour) % 2).unsqueeze(-1)  # (L, L, 1)
        z = torch.arange(0, a.shape[-1], 2, device=a.device) + offset  # (L, L, L/2)
        return torch.gather(a, -1, z.expand(*a.shape[:-1], -1))

    def split(self, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Spins (I, R, L, L, L) -> the two colours, each (I, R, L, L, L/2)."""
        return self._pack(s, self.z_offset.squeeze(-1), 0).contiguous(), self._pack(s, self.z_offset.squeeze(-1), 1).contiguous()

    def merge(self, c0: torch.Tensor, c1: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`split`."""
        L = self.L
        out = torch.empty(*c0.shape[:-1], L, dtype=c0.dtype, device=c0.device)
        parity = self.z_offset.squeeze(-1)
        for colour, c in ((0, c0), (1, c1)):
            z = torch.arange(0, L, 2, device=c.device) + ((parity + colour) % 2).unsqueeze(-1)
            out.scatter_(-1, z.expand(*c.shape[:-1], -1), c)
        return out

    def field(self, colour: int, other: torch.Tensor) -> torch.Tensor:
        """Local field on the sites of ``colour`` from the spins ``other`` of the other colour."""
        jc = self.couplings[colour]
        odd_rows = ((self.z_offset + colour) % 2).bool()  # this colour at odd z: its z neighbours are k and k + 1
        shifted = torch.where(odd_rows, torch.roll(other, -1, -1), torch.roll(other, 1, -1))
        h = jc[0] * torch.roll(other, -1, -3)
        h += jc[1] * torch.roll(other, 1, -3)
        h += jc[2] * torch.roll(other, -1, -2)
        h += jc[3] * torch.roll(other, 1, -2)
        h += jc[4] * other
        h += jc[5] * shifted
        return h
