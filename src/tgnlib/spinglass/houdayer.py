"""Houdayer's cluster move for two replicas at the same temperature (Houdayer 2001).

For replicas ``s1`` and ``s2`` of one instance at one temperature, the sites where they disagree
(overlap ``q_i = s1_i s2_i = -1``) form clusters on the lattice. Flipping one whole cluster in *both*
replicas exchanges their spins there: the pair of configurations is swapped on that cluster, so the sum
of the two energies is unchanged and the move is accepted always (it satisfies detailed balance for
the product distribution). In 3D it decorrelates well above the temperature where these clusters
percolate, so it is applied at the hotter temperatures of a ladder (Zhu, Ochoa and Katzgraber 2015).
"""

from __future__ import annotations

import torch


def cluster_labels(mask: torch.Tensor, max_iter: int | None = None) -> torch.Tensor:
    """Connected components of ``mask`` on the periodic cubic lattice (6 neighbours).

    Parameters
    ----------
    mask : bool tensor, shape (..., L, L, L)
    max_iter : int or None
        Propagation rounds (default: ``L^3``, enough for any component).

    Returns
    -------
    torch.LongTensor, same shape
        For each site in ``mask``, the smallest flat index in its component; ``-1`` outside ``mask``.
    """
    L = mask.shape[-1]
    big = L**3
    flat = torch.arange(big, device=mask.device).view(L, L, L).expand(mask.shape)
    labels = torch.where(mask, flat, torch.full_like(flat, big))
    for _ in range(max_iter or big):  # min-label propagation: converges in at most the component diameter
        new = labels
        for dim in (-3, -2, -1):
            for shift in (1, -1):
                new = torch.minimum(new, torch.roll(labels, shift, dim))
        new = torch.where(mask, new, torch.full_like(new, big))
        if torch.equal(new, labels):
            break
        labels = new
    return torch.where(mask, labels, torch.full_like(labels, -1))


def houdayer_move(s1: torch.Tensor, s2: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One Houdayer cluster move for each pair of replicas.

    Parameters
    ----------
    s1, s2 : tensors, shape (P, L, L, L)
        P pairs of +-1 configurations (same instance and temperature within a pair).
    generator : torch.Generator

    Returns
    -------
    (s1, s2)
        New configurations: one cluster of the ``q = -1`` sites, chosen by a uniformly random site
        with ``q = -1``, flipped in both replicas. Pairs that agree everywhere (or disagree everywhere:
        the cluster is the whole lattice, a global flip of both) are returned unchanged or globally
        flipped, which leaves both energies as they were.
    """
    q = s1 * s2
    mask = q < 0
    labels = cluster_labels(mask)
    p = s1.shape[0]
    flat_mask = mask.reshape(p, -1)
    counts = flat_mask.sum(1)
    # a uniformly random disagreeing site per pair: its rank among the pair's disagreeing sites
    u = torch.rand(p, generator=generator, device=generator.device).to(s1.device)
    rank = torch.clamp((u * counts).long(), max=(counts - 1).clamp(min=0))
    order = torch.cumsum(flat_mask.long(), 1) - 1  # rank of each disagreeing site
    pick = ((order == rank[:, None]) & flat_mask).float().argmax(1)
    chosen = labels.reshape(p, -1).gather(1, pick[:, None])  # label of the chosen site's cluster
    flip = (labels.reshape(p, -1) == chosen) & (counts[:, None] > 0)
    sign = 1.0 - 2.0 * flip.to(s1.dtype).view_as(s1)
    return s1 * sign, s2 * sign
