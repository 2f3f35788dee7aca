import itertools

import numpy as np
import pytest
import torch
from scipy import stats

from tgnlib.spinglass import attention, experiment, lattice, metropolis, reference, tempering
from tgnlib.spinglass.annealing import simulated_annealing
from tgnlib.spinglass.langevin import langevin


def brute_force_energies(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All 2^N configurations of one instance (3, L, L, L) and their energies, by explicit bonds."""
    L = J.shape[-1]
    sites = list(itertools.product(range(L), repeat=3))
    configs = np.array(list(itertools.product([-1.0, 1.0], repeat=len(sites))))
    energies = np.zeros(len(configs))
    for n, (x, y, z) in enumerate(sites):
        for a, (dx, dy, dz) in enumerate([(1, 0, 0), (0, 1, 0), (0, 0, 1)]):
            m = sites.index(((x + dx) % L, (y + dy) % L, (z + dz) % L))
            energies -= J[a, x, y, z] * configs[:, n] * configs[:, m]
    return configs, energies


@pytest.fixture(scope="module")
def tiny():
    J = lattice.make_couplings(2, 1, seed=5, dtype=torch.float64)
    configs, energies = brute_force_energies(J[0].numpy())
    return J, configs, energies


def test_energy_matches_brute_force(tiny):
    J, configs, energies = tiny
    s = torch.as_tensor(configs).reshape(1, -1, 2, 2, 2)
    np.testing.assert_allclose(lattice.energy(J, s)[0].numpy(), energies, atol=1e-10)


def test_flip_energy_difference_is_two_s_h():
    J = lattice.make_couplings(4, 2, seed=1, dtype=torch.float64)
    s = lattice.random_spins(2, 3, 4, torch.Generator().manual_seed(0), dtype=torch.float64)
    h = lattice.local_field(J, s)
    flipped = s.clone()
    flipped[:, :, 1, 2, 3] *= -1
    np.testing.assert_allclose((lattice.energy(J, flipped) - lattice.energy(J, s)).numpy(),
                               (2 * s[:, :, 1, 2, 3] * h[:, :, 1, 2, 3]).numpy(), atol=1e-10)


@pytest.mark.parametrize("L", [2, 4, 6])
def test_checkerboard_split_merge_and_field(L):
    J = lattice.make_couplings(L, 2, seed=2, dtype=torch.float64)
    s = lattice.random_spins(2, 3, L, torch.Generator().manual_seed(1), dtype=torch.float64)
    cb = lattice.Checkerboard.from_couplings(J)
    c0, c1 = cb.split(s)
    assert torch.equal(cb.merge(c0, c1), s)
    h0, h1 = cb.split(lattice.local_field(J, s))
    torch.testing.assert_close(cb.field(0, c1), h0)
    torch.testing.assert_close(cb.field(1, c0), h1)


def test_metropolis_samples_the_boltzmann_distribution(tiny):
    J, configs, energies = tiny
    beta = 0.7
    cb = lattice.Checkerboard.from_couplings(J)
    g = torch.Generator().manual_seed(3)
    replicas = 40000
    spins = list(cb.split(lattice.random_spins(1, replicas, 2, g, dtype=torch.float64)))
    metropolis.metropolis_sweeps(cb, spins, torch.tensor(beta, dtype=torch.float64), 60, g)
    final = cb.merge(*spins).reshape(replicas, -1).numpy()
    index = ((final > 0) * (2 ** np.arange(8)[::-1])).sum(1)  # configs are in binary order, -1 -> 0
    observed = np.bincount(index, minlength=256)
    boltzmann = np.exp(-beta * (energies - energies.min()))
    expected = replicas * boltzmann / boltzmann.sum()
    # merge states with tiny expected counts so the chi-square approximation holds
    order = np.argsort(expected)
    small = order[np.cumsum(expected[order]) < 50]
    obs = np.append(np.delete(observed, small), observed[small].sum())
    exp = np.append(np.delete(expected, small), expected[small].sum())
    assert stats.chisquare(obs, exp).pvalue > 1e-3
    # and a wrong temperature is rejected, so the test can fail
    wrong = np.exp(-1.2 * beta * (energies - energies.min()))
    exp_wrong = replicas * wrong / wrong.sum()
    assert stats.chisquare(obs, np.append(np.delete(exp_wrong, small), exp_wrong[small].sum())).pvalue < 1e-6


def test_swap_acceptance_formula():
    p = tempering.swap_acceptance(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 1.0]), torch.tensor([-10.0, -12.0]),
                                  torch.tensor([-12.0, -10.0]))
    # (b_lo - b_hi)(e_lo - e_hi): (-0.5)(2) = -1 -> e^-1; (-0.5)(-2) = +1 -> capped at 1
    torch.testing.assert_close(p, torch.tensor([np.exp(-1.0), 1.0], dtype=torch.float32))


def test_every_method_finds_the_ground_state_of_a_tiny_instance(tiny):
    J, _, energies = tiny
    ground = energies.min() / 8
    for trace in (simulated_annealing(J, 4000, 8), tempering.parallel_tempering(J, 4000, n_temps=8),
                  langevin(J, 4000, 8), attention.replica_attention(J, 4000, 8)):
        assert trace.final[0] == pytest.approx(ground, abs=1e-5), trace.method
        assert (np.diff(trace.best_energy[0]) <= 1e-12).all() and (np.diff(trace.sweeps) > 0).all()


def test_same_seed_same_result_other_seed_differs():
    J = lattice.make_couplings(4, 2, seed=0)
    a, b = simulated_annealing(J, 160, 8, seed=1), simulated_annealing(J, 160, 8, seed=1)
    c = simulated_annealing(J, 160, 8, seed=2)
    assert np.array_equal(a.best_energy, b.best_energy) and not np.array_equal(a.best_energy, c.best_energy)
    assert np.array_equal(lattice.make_couplings(6, 3, seed=4)[1], lattice.make_couplings(6, 2, seed=4)[1])


def test_pt_reports_swap_rates_and_budget():
    trace = tempering.parallel_tempering(lattice.make_couplings(4, 1, seed=0), 8 * 50, n_temps=8)
    assert len(trace.info["swap_rates"]) == 7 and all(0 <= r <= 1 for r in trace.info["swap_rates"])
    assert trace.sweeps[-1] == 400


def test_lattice_heat_kernel_is_a_symmetric_stochastic_matrix():
    k = attention.lattice_heat_kernel(4, 1.0)
    torch.testing.assert_close(k.sum(1), torch.ones(64))
    torch.testing.assert_close(k, k.T)


def test_dimod_convention_matches_ours():
    dimod = pytest.importorskip("dimod")
    J = lattice.make_couplings(4, 1, seed=3, dtype=torch.float64)
    s = lattice.random_spins(1, 1, 4, torch.Generator().manual_seed(0), dtype=torch.float64)
    sample = {i: int(v) for i, v in enumerate(s.reshape(-1))}
    assert dimod.ising_energy(sample, {}, reference.couplings_to_ising(J[0].numpy())) == pytest.approx(float(lattice.energy(J, s)))


def test_sweeps_to_reach_and_cache_resume(tmp_path):
    J = lattice.make_couplings(4, 2, seed=0)
    first = experiment.run_method("simulated annealing", J, 320, 8, seed=0, device="cpu", cache_dir=tmp_path)
    again = experiment.run_method("simulated annealing", J, 320, 8, seed=0, device="cpu", cache_dir=tmp_path)
    assert np.array_equal(first.best_energy, again.best_energy) and len(list(tmp_path.glob("*.npz"))) == 1
    reach = first.sweeps_to_reach(first.final)
    assert (reach <= 320).all()
    assert np.isinf(first.sweeps_to_reach(first.final - 1.0)).all()


def test_finite_size_amplitude_fit_recovers_a():
    L = np.array([4, 6, 8, 10])
    e = reference.finite_size_energy(L, a=0.7)
    assert reference.fit_finite_size_amplitude(L, e) == pytest.approx(0.7)


@pytest.mark.parametrize("call, match", [
    (lambda: lattice.Checkerboard.from_couplings(lattice.make_couplings(5)), "even L.*L=5"),
    (lambda: lattice.check_couplings(torch.zeros(2, 4, 4, 4)), "shape"),
    (lambda: lattice.make_couplings(4, kind="uniform"), "'uniform'"),
    (lambda: metropolis.geometric_betas(2.0, 0.0, 4), "positive"),
    (lambda: simulated_annealing(lattice.make_couplings(4), 10, t_cold=-0.1), "positive"),
    (lambda: tempering.parallel_tempering(lattice.make_couplings(4), 10, t_min=0.0), "positive"),
    (lambda: tempering.parallel_tempering(lattice.make_couplings(4), 10, n_temps=1), "at least 2"),
    (lambda: reference.reference_energies(lattice.make_couplings(4), 10, chains=1), "chains=1"),
    (lambda: experiment.run_method("tabu", lattice.make_couplings(4), 10, 2, 0, "cpu"), "'tabu'"),
    (lambda: langevin(lattice.make_couplings(4), 10, step=0.0), "step"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_killed_parallel_tempering_resumes_exactly(tmp_path):
    J = lattice.make_couplings(4, 2, seed=7)
    whole = tempering.parallel_tempering(J, 8 * 300, n_temps=8, seed=3)
    ckpt = tmp_path / "pt.ckpt"
    with pytest.raises(tempering.Interrupted):
        tempering.parallel_tempering(J, 8 * 300, n_temps=8, seed=3, checkpoint=ckpt, checkpoint_every=40, stop_after=130)
    assert ckpt.is_file()
    resumed = tempering.parallel_tempering(J, 8 * 300, n_temps=8, seed=3, checkpoint=ckpt, checkpoint_every=40)
    assert np.array_equal(whole.best_energy, resumed.best_energy) and np.array_equal(whole.sweeps, resumed.sweeps)
    assert whole.info["swap_rates"] == resumed.info["swap_rates"] and not ckpt.exists()


def test_reference_is_cached(tmp_path):
    J = lattice.make_couplings(4, 2, seed=1)
    first = experiment.run_reference(J, 8 * 100, cache_dir=tmp_path)
    second = experiment.run_reference(J, 8 * 100, cache_dir=tmp_path)
    assert np.array_equal(first["energy"], second["energy"]) and np.array_equal(first["confirmed"], second["confirmed"])
    assert first["chain_best"].shape == (2, 2)


def test_couplings_round_trip_through_npy(tmp_path):
    J = lattice.make_couplings(4, 2, seed=9)
    np.save(tmp_path / "one.npy", J[0].numpy())
    np.save(tmp_path / "two.npy", J.numpy())
    assert torch.equal(lattice.load_couplings(tmp_path / "one.npy"), J[:1])
    assert torch.equal(lattice.load_couplings(tmp_path / "two.npy"), J)
    np.save(tmp_path / "bad.npy", np.zeros((2, 4, 4, 4)))
    with pytest.raises(ValueError, match="shape"):
        lattice.load_couplings(tmp_path / "bad.npy")


def test_a_reference_found_by_one_algorithm_only_is_not_confirmed():
    from tgnlib.spinglass.reference import confirm_references

    out = confirm_references({"parallel tempering": [-100.0, -50.0, -70.0],
                              "population annealing": [-100.00001, -49.9, -70.5]}, atol=1e-4)
    assert out["confirmed"].tolist() == [True, False, False]  # both agree on 0; one algorithm alone on 1 and 2
    assert out["found_by"][1] == ["parallel tempering"] and out["found_by"][2] == ["population annealing"]
    assert out["energy"].tolist() == [-100.00001, -50.0, -70.5]
    planted = confirm_references({"parallel tempering": [-10.0], "population annealing": [-9.0]})
    assert not planted["confirmed"][0]


def test_finite_size_fit_recovers_a_planted_law():
    import numpy as np

    from tgnlib.spinglass.reference import fit_finite_size

    L = np.array([4, 6, 8, 10, 12])
    e = -1.70 + 0.8 * L ** (0.24 - 3)
    fit = fit_finite_size(L, e)
    assert fit["e_inf"] == pytest.approx(-1.70, abs=1e-4) and fit["theta"] == pytest.approx(0.24, abs=1e-2)


@pytest.mark.parametrize("L, sigma", [(4, 1.0), (6, 0.7), (8, 3.0)])
def test_the_smoothed_force_by_fft_equals_the_dense_heat_kernel_product(L, sigma):
    from tgnlib.spinglass.attention import lattice_heat_kernel, lattice_kernel_spectrum, smooth_by_fft

    force = torch.randn(2, 3, L, L, L, generator=torch.Generator().manual_seed(L), dtype=torch.float64)
    dense = (force.reshape(-1, L**3) @ lattice_heat_kernel(L, sigma).double().T).reshape(force.shape)
    torch.testing.assert_close(smooth_by_fft(force, lattice_kernel_spectrum(L, sigma)), dense, rtol=1e-6, atol=1e-6)
