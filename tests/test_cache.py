import numpy as np
import pytest
import torch

from tgnlib.cache import code_fingerprint, data_fingerprint, run_key


def test_data_fingerprint_sees_values_dtype_and_shape():
    a = np.arange(12)
    assert data_fingerprint(a) == data_fingerprint(a.copy()) == data_fingerprint(torch.arange(12).numpy())
    assert data_fingerprint(a) != data_fingerprint(a.reshape(3, 4))
    assert data_fingerprint(a) != data_fingerprint(a.astype(np.int32))
    b = a.copy()
    b[-1] = 0
    assert data_fingerprint(a) != data_fingerprint(b)


def test_run_key_changes_with_config_data_and_code(tmp_path):
    (tmp_path / "m.py").write_text("x = 1\n")
    code = code_fingerprint(tmp_path)
    key = run_key({"lr": 1e-3}, data=np.arange(5), code=code)
    assert key == run_key({"lr": 1e-3}, data=np.arange(5), code=code)
    assert key != run_key({"lr": 2e-3}, data=np.arange(5), code=code)
    assert key != run_key({"lr": 1e-3}, data=np.arange(6), code=code)
    (tmp_path / "m.py").write_text("x = 2\n")
    assert key != run_key({"lr": 1e-3}, data=np.arange(5), code=code_fingerprint(tmp_path))


def test_code_fingerprint_of_a_folder_equals_its_files_and_sees_only_what_it_is_given(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 1\n")
    assert code_fingerprint(tmp_path) == code_fingerprint(tmp_path / "a.py", tmp_path / "b.py")
    only_a = code_fingerprint(tmp_path / "a.py")
    (tmp_path / "b.py").write_text("y = 2\n")  # an edit elsewhere in the package keeps a's key
    assert code_fingerprint(tmp_path / "a.py") == only_a
    assert code_fingerprint(tmp_path) != code_fingerprint(tmp_path / "a.py")
    (tmp_path / "a.py").write_text("x = 2\n")
    assert code_fingerprint(tmp_path / "a.py") != only_a
    with pytest.raises(FileNotFoundError, match="missing.py"):
        code_fingerprint(tmp_path / "missing.py")
