import numpy as np
import pytest

from tgnlib import depth


def test_profile_shape_and_input_rank():
    p = depth.depth_rank_profile(n_tokens=32, width=16, depth=3, samples=2)
    assert p.shape == (2, 4)
    assert 10 < p[0, 0] <= 16


def test_pure_global_attention_collapses_to_rank_one():
    p = depth.depth_rank_profile(n_tokens=64, width=32, depth=8, mixing="global", residual=False, mlp=False, samples=2)
    assert p[:, -1].max() < 1.05


def test_no_mixing_no_mlp_is_only_a_layer_norm():
    p = depth.depth_rank_profile(n_tokens=32, width=16, depth=4, mixing="none", residual=False, mlp=False, samples=2)
    # each block is then x -> LayerNorm(x), idempotent up to its eps: the rank stops changing after block 1
    np.testing.assert_allclose(p[:, 1:], np.repeat(p[:, 1:2], 4, axis=1), rtol=1e-6)  # LayerNorm eps
    assert np.abs(p[:, 1] - p[:, 0]).max() < 1.5


def test_seed_determinism():
    a = depth.depth_rank_profile(n_tokens=16, width=8, depth=2, samples=2, seed=3)
    b = depth.depth_rank_profile(n_tokens=16, width=8, depth=2, samples=2, seed=3)
    c = depth.depth_rank_profile(n_tokens=16, width=8, depth=2, samples=2, seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_depth_to_fraction():
    profile = np.array([[10, 8, 5, 4], [10, 9, 9, 9]], dtype=float)
    out = depth.depth_to_fraction(profile, 0.5)
    assert out[0] == 2 and np.isinf(out[1])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="'sparse'"):
        depth.depth_rank_profile(mixing="sparse")
    with pytest.raises(ValueError, match="depth"):
        depth.depth_rank_profile(depth=0)
    with pytest.raises(ValueError, match="profile"):
        depth.depth_to_fraction(np.ones(3))
