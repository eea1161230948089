"""A fresh runtime (Colab, Binder): the kernel is compiled by a background process while the first
results come from the reference solver and SciPy (mfbook._kernel.ready). Measured end to end by
benchmarks/cold_start.py; here the policy, and one real cold process."""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mfbook
from mfbook import _kernel

PROBLEM = "4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6"


class _Compiling:
    """A stand-in for the background compiler: running until ``finish`` is called, or (``patient``)
    for a few polls of a caller that waits for it."""

    patient = False

    def __init__(self, args, **kwargs):
        self.returncode, self.polls, self.args = None, 0, args
        _Compiling.started += 1

    def poll(self):
        self.polls += 1
        if self.patient and self.polls > 3:
            self.returncode = 0
        return self.returncode


@pytest.fixture
def cold(monkeypatch):
    """The kernel as on a fresh runtime: nothing cached, background mode, no compiler started yet."""
    monkeypatch.setenv("MFBOOK_COMPILE", "background")
    monkeypatch.setattr(_kernel, "_READY", set())
    monkeypatch.setattr(_kernel, "_BACKGROUND", None)
    monkeypatch.setattr(_kernel, "_cached", lambda entry: False)
    monkeypatch.setattr(_kernel.subprocess, "Popen", _Compiling)
    _Compiling.started = 0
    return _kernel


def test_while_compiling_single_problems_go_to_the_reference(cold, capsys):
    res = mfbook.small_init_limit(PROBLEM)
    again = mfbook.small_init_limit("1 2; 3 *")
    assert (res.method, again.method) == ("reference", "reference")
    assert _Compiling.started == 1                          # one compiler, started by the first call
    err = capsys.readouterr().err
    assert err.count("compiling the fast solvers") == 1 and "background" in err
    # the same limit as the compiled solver's (the tests' oracle tolerance)
    assert np.abs(res.W - mfbook.saddle_to_saddle(PROBLEM).W).max() < 1e-10


def test_gradient_flow_and_batches_wait_for_the_compiler(cold, capsys, monkeypatch):
    """SciPy's integrator would take other steps than the compiled one (the chapters' checks look at
    the recorded points), and a batch is not worth the reference: both wait, saying so."""
    monkeypatch.setattr(_Compiling, "patient", True)
    run = mfbook.gradient_flow("1 2; 3 *", init_scale=1e-3)
    assert run.converged and cold._BACKGROUND.polls > 3
    assert "waiting for the compile" in capsys.readouterr().err
    monkeypatch.setattr(_kernel, "_READY", set())
    cold._BACKGROUND.returncode, cold._BACKGROUND.polls = None, 0
    res = mfbook.small_init_limit_batch([PROBLEM] * 3)
    assert cold._BACKGROUND.polls > 3 and "reference" not in {r.method for r in res}
    assert "a batch or a large problem" in capsys.readouterr().err


def test_the_two_halves_of_the_compile_cover_every_part_once():
    """``python -m mfbook compile`` compiles the parts in two halves side by side: each part in one of
    them (a part in neither would leave a waiting call waiting for the whole compile)."""
    from mfbook.__main__ import HALVES
    parts = [part for half in HALVES.values() for part in half]
    assert sorted(parts) == sorted(p for p in _kernel._PARTS if p != "limit")
    assert HALVES["flow"][0] == "flow"        # first in its half: a first gradient_flow waits for it


class _stop_waiting:
    """Make the first poll of a waiting caller raise TimeoutError."""

    def __init__(self, kernel):
        self.kernel = kernel

    def __enter__(self):
        self.sleep = self.kernel.time.sleep
        self.kernel.time.sleep = self._raise

    def __exit__(self, *exc):
        self.kernel.time.sleep = self.sleep

    @staticmethod
    def _raise(_seconds):
        raise TimeoutError


def test_runs_that_need_only_the_narrow_pass_do_not_wait_for_the_rest(cold, monkeypatch):
    """Once the narrow pass is cached, a batch of connected problems runs compiled at once, while a
    batch of problems with two components waits for the components pass (on a fresh runtime the
    background process compiles the parts in turn); a single small problem that needs it goes to the
    reference meanwhile."""
    narrow = set(cold._PARTS["narrow"])
    monkeypatch.setattr(_kernel, "_cached", lambda entry: entry.__name__ in narrow)
    assert not cold.ready("limit")           # (starts the stand-in compiler)
    with _stop_waiting(cold):                # (any wait would raise)
        res = mfbook.small_init_limit_batch([PROBLEM] * 3)
        one, two = mfbook.small_init_limit(PROBLEM), mfbook.small_init_limit("1 *; * 2")
        pair = mfbook.small_init_limit_batch(["1 2; 3 *", "1 *; * 2"])
    assert {r.method for r in res} == {"narrow"} and not cold.ready("limit")
    assert (one.method, two.method, two.status) == ("narrow", "reference", "converged")
    assert [r.method for r in pair] == ["narrow", "reference"] and np.allclose(np.diag(pair[1].W), [1, 2])
    with pytest.raises(TimeoutError):
        with _stop_waiting(cold):
            mfbook.small_init_limit_batch(["1 *; * 2"] * 3)


def test_a_failed_background_compile_falls_back_to_the_foreground(cold, capsys):
    assert not cold.ready("limit")
    cold._BACKGROUND.returncode = 1
    assert cold.ready("limit") and "failed" in capsys.readouterr().err


def test_foreground_mode_and_a_bad_mode(cold, monkeypatch):
    monkeypatch.setenv("MFBOOK_COMPILE", "foreground")
    assert cold.ready("limit") and _Compiling.started == 0
    monkeypatch.setenv("MFBOOK_COMPILE", "later")
    monkeypatch.setattr(_kernel, "_READY", set())
    with pytest.raises(ValueError, match="MFBOOK_COMPILE"):
        cold.ready("limit")


def test_a_fresh_process_answers_in_seconds(tmp_path):
    """An empty numba cache, as on a fresh Colab runtime: the first limit comes from the reference
    within seconds (the floor is 20 s; here it takes about 2 s with the import), and the background
    compiler it started is stopped at once."""
    probe = textwrap.dedent(f"""
        import time
        t = time.perf_counter()
        import mfbook
        res = mfbook.small_init_limit("{PROBLEM}")
        print(time.perf_counter() - t, res.method, res.status, mfbook._kernel._BACKGROUND.pid, flush=True)
    """)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), MFBOOK_COMPILE="background")
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    seconds, method, status, pid = out.stdout.split()
    try:
        os.killpg(int(pid), signal.SIGKILL)      # the compiler runs in its own session
    except ProcessLookupError:
        pass
    assert (method, status) == ("reference", "converged")
    assert float(seconds) < 20, out.stderr      # the floor for the first result
    assert "compiling the fast solvers" in out.stderr
