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
    q = s1 * s2
    for i in range(pairs):  # the flipped set is one whole cluster of the minority overlap sign
        minority = q[i] < 0 if (q[i] < 0).sum() * 2 <= q[i].numel() else q[i] > 0
        assert minority[changed[i]].all()
        labels = cluster_labels(minority[None])[0]
        flipped = torch.unique(labels[changed[i]])
        assert len(flipped) == 1 and torch.equal(labels == flipped[0], changed[i])
    # the overlap is unchanged: the move exchanges the replicas on the cluster
    assert torch.equal(n1 * n2, s1 * s2)


def test_identical_replicas_are_left_alone_and_mostly_opposite_ones_use_the_agreeing_sites():
    g = torch.Generator().manual_seed(1)
    s = random_spins(1, 2, 4, g)[0]
    n1, n2 = houdayer_move(s, s.clone(), g)
    assert torch.equal(n1, s) and torch.equal(n2, s)
    opposite = -s.clone()
    opposite[:, 0, 0, 0] *= -1  # agree on one site only: that site is the minority cluster
    n1, n2 = houdayer_move(s, opposite, g)
    assert ((n1 != s).sum(dim=(1, 2, 3)) == 1).all() and (n1 != s)[:, 0, 0, 0].all()


def test_the_ladder_step_pairs_chains_at_each_cold_temperature_and_keeps_their_energy_sums():
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
            for k in range(m // 2, m):  # colder half only
                a, b = perm[i, c, k], perm[i, c + 1, k]
                torch.testing.assert_close(e1[i, a] + e1[i, b], e0[i, a] + e0[i, b])
                moved[i, a] = moved[i, b] = True
    hot = ~moved
    assert torch.equal(cb.merge(*new)[hot], cb.merge(*spins)[hot])  # the hotter half is untouched
    assert not torch.equal(cb.merge(*new), cb.merge(*spins))
    tr = parallel_tempering(J, sweeps=chains * m * 50, n_temps=m, chains=chains, seed=0, houdayer=True)
    assert tr.info["houdayer"] and np.isfinite(tr.final).all()
    with pytest.raises(ValueError, match="chains=1 must be even"):
        parallel_tempering(J, sweeps=100, n_temps=4, chains=1, houdayer=True)


def test_cluster_labels_equal_scipy_on_random_masks():
    from scipy import ndimage

    g = torch.Generator().manual_seed(7)
    for density in (0.2, 0.45, 0.7):
        mask = torch.rand(3, 8, 8, 8, generator=g) < density
        labels = cluster_labels(mask)
        for b in range(3):
            # scipy labels without periodic wrap: merge labels across the boundary faces by hand
            lab, n = ndimage.label(mask[b].numpy())
            parent = list(range(n + 1))

            def find(x):
                while parent[x] != x:
                    x = parent[x]
                return x

            for axis in range(3):
                first, last = np.take(lab, 0, axis=axis), np.take(lab, -1, axis=axis)
                for u, w in zip(first.ravel(), last.ravel()):
                    if u and w:
                        parent[find(u)] = find(w)
            roots = np.vectorize(find)(lab)
            same_ours = labels[b].numpy()[..., None] == labels[b].numpy().ravel()  # pairs in one component
            same_scipy = roots[..., None] == roots.ravel()
            m = mask[b].numpy()
            assert np.array_equal(same_ours[m][:, m.ravel()], same_scipy[m][:, m.ravel()]), density
