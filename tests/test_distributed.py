"""A sweep that leaves the machine (mfbook.distributed): the same results, bit for bit, whether the
runs are computed in this process, chunk by chunk, in a pool of worker processes, or on a Dask
cluster (a local one, started here: no network)."""
import concurrent.futures
import multiprocessing

import numpy as np
import pytest

from mfbook.distributed import run_in_chunks
from mfbook.sweep import phase_transition, sample_problems, train_batch

CHUNK = 5      # 42 runs: 9 tasks, the last one of 2 runs


@pytest.fixture(scope="module")
def problems():
    return sample_problems(ranks=(1, 2), sizes=range(2, 9), repeats=3, d=4, seed=0)


@pytest.fixture(scope="module")
def pool():
    # spawn: fresh interpreters, as on a cluster's nodes (they load numba's on-disk cache)
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
        yield ex


@pytest.fixture(scope="module")
def dask_executor():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client.get_executor()


@pytest.fixture(params=["here, chunked", "process pool", "dask cluster"])
def executor(request):
    if request.param == "here, chunked":
        return None
    return request.getfixturevalue("pool" if request.param == "process pool" else "dask_executor")


def _same(a, b):
    return np.array_equal(a, b, equal_nan=np.asarray(a).dtype.kind == "f")


def test_the_limit_sweep_is_the_same_bit_for_bit_whatever_computes_it(problems, executor):
    kw = dict(ranks=(1, 2), sizes=range(2, 9), repeats=3, d=4, trainer="limit", references=False,
              problems=problems)
    here = phase_transition(**kw)
    there = phase_transition(**kw, executor=executor, chunk_size=CHUNK)
    for name in ("W", "loss", "learned_rank", "learned_nuclear", "kind"):
        assert _same(getattr(here, name), getattr(there, name)), name
    assert here.info["seed"] == there.info["seed"]
    mine, theirs = here.info["limit_results"], there.info["limit_results"]
    assert [r.method for r in mine] == [r.method for r in theirs]
    assert [r.status for r in mine] == [r.status for r in theirs]
    assert all(_same(a.A, b.A) and _same(a.B, b.B) and a.plateaus.tolist() == b.plateaus.tolist()
               and a.problem.mask.tolist() == b.problem.mask.tolist() for a, b in zip(mine, theirs))


def test_gradient_descent_is_the_same_bit_for_bit_whatever_computes_it(problems, executor):
    _, _, truth, mask = problems
    kw = dict(trainer="gd", max_steps=2000, seed=7)
    W, loss = train_batch(truth, mask, **kw)
    W2, loss2 = train_batch(truth, mask, **kw, executor=executor, chunk_size=CHUNK)
    assert _same(W, W2) and _same(loss, loss2)
    assert 0 < np.sum(loss < 1e-10 * np.mean(truth ** 2)) < loss.size   # some runs left the batch early


def test_the_default_chunk_size_and_single_run_chunks_change_nothing(problems):
    _, _, truth, mask = problems
    W, loss = train_batch(truth, mask, trainer="limit", seed=3)
    for size in (1, None):
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            W2, loss2 = train_batch(truth, mask, trainer="limit", seed=3, executor=ex, chunk_size=size)
        assert _same(W, W2) and _same(loss, loss2)


def test_run_in_chunks_concatenates_in_run_order():
    got = run_in_chunks(_seeds_and_rows, (np.arange(10),), seed=100, chunk_size=3)
    assert got[0] == list(range(100, 110)) and got[1].tolist() == list(range(10))


def _seeds_and_rows(rows, seed):
    return list(seed), np.asarray(rows)


@pytest.mark.parametrize("bad", [object(), "local", 2])
def test_an_executor_without_submit_is_refused(problems, bad):
    _, _, truth, mask = problems
    with pytest.raises(TypeError, match="executor"):
        train_batch(truth, mask, trainer="limit", executor=bad)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "4"])
def test_a_chunk_size_that_is_not_a_whole_number_at_least_one_is_refused(problems, bad):
    _, _, truth, mask = problems
    with pytest.raises(ValueError, match="chunk_size"):
        train_batch(truth, mask, trainer="limit", chunk_size=bad)
    with pytest.raises(ValueError, match="chunk_size"):
        phase_transition(ranks=(1,), sizes=(2,), repeats=1, references=False, chunk_size=bad)
