"""driftcore.dask on dask-cuda: cudf partitions into the CUDA kernels give the profile
one CPU process gives. Marked ``gpu`` and skipped unless a GPU, dask-cuda and
dask-cudf are all present (the device machines this project borrows have neither
Dask nor RAPIDS, so this has not run yet)."""

import math

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

pytest.importorskip("dask_cuda")
pytest.importorskip("dask_cudf")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

import driftcore
import driftcore.dask as dcd


def test_local_cuda_cluster_profile_equals_cpu(rng):
    n = 3000  # below 4,096 values a sketch is exact: the edges, hence histograms, agree
    x = rng.normal(size=n)
    x[::50] = np.nan
    x[:2] = [np.inf, -np.inf]
    frame = pd.DataFrame(
        {"x": x, "i": rng.integers(-9, 9, n), "c": rng.choice(["a", "b", None], n)}
    )
    want = driftcore.Profile.build(frame)
    with dcd.connect("local-cuda", n_workers=1):
        parts = dd.from_pandas(frame, npartitions=3).to_backend("cudf")
        got = dcd.profile(parts, device="gpu")
    for name in ("x", "i"):
        a, b = got[name], want[name]
        # cudf holds NaN as a null; both come back as missing values
        assert (a.count, a.missing) == (b.count, b.missing)
        assert (a.moments.min, a.moments.max) == (b.moments.min, b.moments.max)
        assert (a.moments.pos_inf, a.moments.neg_inf) == (b.moments.pos_inf, b.moments.neg_inf)
        assert math.isclose(a.mean, b.mean, rel_tol=1e-9, abs_tol=1e-12)
        assert a.histogram == b.histogram
    assert got["c"].counts == want["c"].counts
