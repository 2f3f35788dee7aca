"""Houdayer's cluster move for two replicas at the same temperature (Houdayer 2001).

For replicas ``s1`` and ``s2`` of one instance at one temperature, the sites where they disagree
(overlap ``q_i = s1_i s2_i = -1``) form clusters on the lattice. Flipping one whole cluster in *both*
replicas exchanges their spins there: the pair of configurations is swapped on that cluster, so the sum
of the two energies is unchanged and the move is accepted always (it satisfies detailed balance for
the product distribution). Because the energy is even under a global flip, the move may equally use
the sites where the replicas *agree*: we take whichever sign of the overlap is the minority, so the
clusters are the smaller set.

In 3D, at high temperature the two replicas are nearly independent, half the sites disagree, and the
cluster percolates (the site-percolation threshold of the cubic lattice is 0.31): flipping it is
little more than exchanging the replicas. The move earns its keep at low temperature, where thermal
moves freeze and the replicas differ by droplets; so it is applied at the colder temperatures of a
ladder (Zhu, Ochoa and Katzgraber 2015 restrict it to temperatures below the percolation of the
clusters).
"""

from __future__ import annotations

import torch


def cluster_labels(mask: torch.Tensor, max_iter: int | None = None) -> torch.Tensor:
    """Connected components of ``mask`` on the periodic cubic lattice (6 neighbours).

    Parameters
    ----------
    mask : bool tensor, shape (..., L, L, L)
    max_iter : int or None
        Propagation rounds (default: ``L^3``, enough for any component; pointer jumping makes the
        rounds actually needed far fewer than a component's diameter).

    Returns
    -------
    torch.LongTensor, same shape
        For each site in ``mask``, the smallest flat index in its component; ``-1`` outside ``mask``.
    """
    L = mask.shape[-1]
    big = L**3
    flat = torch.arange(big, device=mask.device).view(L, L, L).expand(mask.shape)
    labels = torch.where(mask, flat, torch.full_like(flat, big))
    own = flat.reshape(-1, big)
    for _ in range(max_iter or big):  # min-label propagation with pointer jumping: far fewer rounds than the diameter
        new = labels
        for dim in (-3, -2, -1):
            for shift in (1, -1):
                new = torch.minimum(new, torch.roll(labels, shift, dim))
        new = torch.where(mask, new, torch.full_like(new, big))
        # pointer jumping: a site takes the label of the site its label names (a site of the same component)
        pointer = new.reshape(-1, big)
        jumped = pointer.gather(1, torch.where(pointer < big, pointer, own)).view_as(new)
        new = torch.where(mask, torch.minimum(new, jumped), new)
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
        New configurations: one cluster of the minority-overlap sites (``q = -1`` when at most half
        disagree, else ``q = +1``), chosen by a uniformly random site of that sign, flipped in both
        replicas. Pairs that agree everywhere (or disagree everywhere) are returned unchanged.
    """
    q = s1 * s2
    n_sites = q[0].numel()
    negative = q < 0
    use_negative = negative.reshape(q.shape[0], -1).sum(1) * 2 <= n_sites  # per pair: the minority sign
    mask = torch.where(use_negative.view(-1, *([1] * (q.ndim - 1))), negative, q > 0)
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
