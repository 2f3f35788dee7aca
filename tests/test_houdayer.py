import numpy as np
import torch

from tgnlib.spinglass import energy, make_couplings
from tgnlib.spinglass.houdayer import cluster_labels, houdayer_move
from tgnlib.spinglass.lattice import random_spins


def test_cluster_labels_on_a_periodic_lattice():
    mask = torch.zeros(1, 6, 6, 6, dtype=torch.bool)
    mask[0, 0, 0, 0] = mask[0, 5, 0, 0] = True  # neighbours through the periodic boundary
    mask[0, 2, 2, 2] = mask[0, 2, 2, 3] = mask[0, 2, 3, 3] = True
    mask[0, 4, 4, 4] = True
    labels = cluster_labels(mask)
    assert labels[0, 0, 0, 0] == labels[0, 5, 0, 0] == 0
    assert labels[0, 2, 2, 2] == labels[0, 2, 2, 3] == labels[0, 2, 3, 3] != labels[0, 4, 4, 4]
    assert (labels[~mask] == -1).all() and len(torch.unique(labels[mask])) == 3


def test_the_move_keeps_the_energy_sum_and_flips_one_whole_cluster_of_disagreement():
    L, pairs = 6, 16
    J = make_couplings(L, 1, seed=2, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    s = random_spins(1, 2 * pairs, L, g, dtype=torch.float64)[0]
    s1, s2 = s[:pairs], s[pairs:]
    before = energy(J, s1[None]) + energy(J, s2[None])
    n1, n2 = houdayer_move(s1, s2, g)
    after = energy(J, n1[None]) + energy(J, n2[None])
    torch.testing.assert_close(after, before)
    assert not torch.equal(n1, s1)  # something moved
    changed = n1 != s1
    assert torch.equal(changed, n2 != s2)  # the same sites flip in both replicas
    assert ((s1 * s2)[changed] < 0).all()  # only sites where the replicas disagreed
    for i in range(pairs):  # the flipped set is one whole cluster
        labels = cluster_labels((s1[i] * s2[i] < 0)[None])[0]
        flipped = torch.unique(labels[changed[i]])
        assert len(flipped) == 1 and torch.equal(labels == flipped[0], changed[i])
    # the overlap is unchanged: the move exchanges the replicas on the cluster
    assert torch.equal(n1 * n2, s1 * s2)


def test_identical_replicas_are_left_alone():
    g = torch.Generator().manual_seed(1)
    s = random_spins(1, 2, 4, g)[0]
    n1, n2 = houdayer_move(s, s.clone(), g)
    assert torch.equal(n1, s) and torch.equal(n2, s)


def test_the_ladder_step_pairs_chains_at_each_hot_temperature_and_keeps_their_energy_sums():
    import pytest

    from tgnlib.spinglass.annealing import colour_energy
    from tgnlib.spinglass.lattice import Checkerboard
    from tgnlib.spinglass.tempering import _houdayer_step, parallel_tempering

    L, chains, m = 4, 4, 6
    J = make_couplings(L, 2, seed=5)
    cb = Checkerboard.from_couplings(J)
    g = torch.Generator().manual_seed(3)
    spins = list(cb.split(random_spins(2, chains * m, L, g)))
    perm = torch.stack([torch.randperm(chains * m, generator=g) for _ in range(2)]).view(2, chains, m)  # any ladder state
    e0 = colour_energy(cb, spins)
    new = _houdayer_step(cb, spins, perm, m, g)
    e1 = colour_energy(cb, new)
    moved = torch.zeros(2, chains * m, dtype=torch.bool)
    for i in range(2):
        for c in range(0, chains, 2):
            for k in range(m // 2):  # hotter half only
                a, b = perm[i, c, k], perm[i, c + 1, k]
                torch.testing.assert_close(e1[i, a] + e1[i, b], e0[i, a] + e0[i, b])
                moved[i, a] = moved[i, b] = True
    cold = ~moved
    assert torch.equal(cb.merge(*new)[cold], cb.merge(*spins)[cold])  # the colder half is untouched
    assert not torch.equal(cb.merge(*new), cb.merge(*spins))
    tr = parallel_tempering(J, sweeps=chains * m * 50, n_temps=m, chains=chains, seed=0, houdayer=True)
    assert tr.info["houdayer"] and np.isfinite(tr.final).all()
    with pytest.raises(ValueError, match="chains=1 must be even"):
        parallel_tempering(J, sweeps=100, n_temps=4, chains=1, houdayer=True)
