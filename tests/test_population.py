import numpy as np
import pytest
import torch

from tgnlib.spinglass import make_couplings
from tgnlib.spinglass.population import exact_log_partition, population_annealing, systematic_resample


def test_systematic_resampling_keeps_expected_counts():
    w = torch.tensor([[0.5, 0.25, 0.25, 0.0], [1.0, 1.0, 1.0, 1.0]])
    counts = np.zeros((2, 4))
    g = torch.Generator().manual_seed(0)
    for _ in range(2000):
        idx = systematic_resample(w, g)
        for i in range(2):
            counts[i] += np.bincount(idx[i].numpy(), minlength=4)
    assert counts[0] / 2000 == pytest.approx([2.0, 1.0, 1.0, 0.0], abs=0.02)
    assert (counts[1] / 2000 == 1.0).all()  # equal weights: every replica exactly once


def test_free_energy_and_mean_energy_match_exact_enumeration_on_l2():
    J = make_couplings(2, 2, seed=3, dtype=torch.float64)
    beta = 1.0
    ln_z, mean_e = exact_log_partition(J, beta)
    tr = population_annealing(J, sweeps=2000 * 20 * 5, replicas=2000, t_cold=1.0 / beta, sweeps_per_step=5, seed=1)
    assert np.asarray(tr.info["ln_z"]) == pytest.approx(ln_z, abs=0.02)
    # the best energy found is the ground state, and no lower than it
    e_all, _ = exact_log_partition(J, 50.0)
    assert tr.final * 8 == pytest.approx(-e_all / 50.0, rel=0.01)


def test_ground_states_and_budget_accounting_on_l4():
    J = make_couplings(4, 2, seed=0)
    tr = population_annealing(J, sweeps=64 * 10 * 30, replicas=64, t_cold=0.2, seed=0)
    assert tr.sweeps[-1] == 64 * 10 * 30 and tr.info["steps"] == 30
    assert all(1 <= f <= 64 for f in tr.info["families"])
    assert (np.diff(tr.best_energy, axis=1) <= 1e-12).all()  # best-so-far never rises
    with pytest.raises(ValueError, match="replicas >= 2"):
        population_annealing(J, sweeps=100, replicas=1)
