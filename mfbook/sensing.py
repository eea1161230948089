"""Matrix sensing: linear measurements of a matrix, and gradient descent on X, on U V^T and on U U^T.

The setting of Gunasekar et al. (2017): measurements :math:`b_i = \\langle A_i, X^\\star \\rangle`,
:math:`i = 1..m`, and the mean squared loss :math:`F(X) = \\frac1m \\sum_i (\\langle A_i, X\\rangle - b_i)^2`,
minimized over :math:`X` directly or through a factorization. Also the vector analogue
:math:`x = u \\odot u` (non-negative least squares) and its minimum-:math:`\\ell_1` reference.

Explained in: chapter 1 (Background).
"""
from __future__ import annotations

import ctypes
import re
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

__all__ = ["SensingProblem", "gaussian_sensing", "sensing_descent", "commuting_measurements",
           "symmetric_descent", "min_nuclear_norm_psd", "hadamard_descent", "min_l1_nonnegative", "lift_measurements"]


@contextmanager
def _single_thread_blas():
    """Run numpy's OpenBLAS on one thread inside the block (many small products per step: with
    two threads on a busy two-core machine they were 6x slower). No-op when the library is not found."""
    setter = getter = None
    try:
        maps = open("/proc/self/maps").read()
        for path in set(re.findall(r"/\S*openblas\S*\.so\S*", maps)):
            lib = ctypes.CDLL(path)
            for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads"):
                get = name.replace("set", "get")
                if hasattr(lib, name) and hasattr(lib, get):
                    setter, getter = getattr(lib, name), getattr(lib, get)
                    break
    except OSError:
        pass
    if setter is None:
        yield
        return
    before = getter()
    setter(1)
    try:
        yield
    finally:
        setter(before)


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


@dataclass
class SensingProblem:
    """Measurements ``A`` (m, n1, n2), values ``b`` (m,), ground truth ``X_star`` (n1, n2).

    Explained in: chapter 1 (Background).
    """

    A: np.ndarray
    b: np.ndarray
    X_star: np.ndarray

    def measure(self, X):
        """:math:`\\mathcal A(X)_i = \\langle A_i, X\\rangle`; X of shape (..., n1, n2) -> (..., m)."""
        return np.einsum("mij,...ij->...m", self.A, X)

    def loss(self, X):
        """Mean squared measurement error :math:`\\frac1m\\|\\mathcal A(X) - b\\|^2`."""
        return np.mean((self.measure(X) - self.b) ** 2, axis=-1)

    def test_error(self, X):
        """Relative distance to the truth :math:`\\|X - X^\\star\\|_F / \\|X^\\star\\|_F`."""
        return np.linalg.norm(X - self.X_star, axis=(-2, -1)) / np.linalg.norm(self.X_star)

    def subset(self, m: int) -> "SensingProblem":
        """The first ``m`` measurements only."""
        return SensingProblem(self.A[:m], self.b[:m], self.X_star)


def gaussian_sensing(n: int = 50, m: int = 300, rank: int = 2, seed=0) -> SensingProblem:
    """Gaussian matrix sensing with a low-rank truth.

    :math:`(A_i)_{jk} \\sim N(0, 1)` i.i.d., :math:`X^\\star = U^\\star V^{\\star\\top} / \\sqrt{n}` with
    :math:`U^\\star, V^\\star \\in \\mathbb R^{n\\times r}` standard Gaussian, normalised to
    :math:`\\|X^\\star\\|_F = \\sqrt r`, and :math:`b = \\mathcal A(X^\\star)`.

    Parameters
    ----------
    n, m, rank : int
        Matrix size (n x n), number of measurements, rank of the truth.
    seed : int or numpy.random.Generator

    Returns
    -------
    SensingProblem

    Explained in: chapter 1 (Background, the Gunasekar et al. experiment).
    """
    if n < 1 or m < 1 or not 1 <= rank <= n:
        raise ValueError(f"need n, m >= 1 and 1 <= rank <= n, got n={n}, m={m}, rank={rank}")
    rng = _rng(seed)
    U, V = rng.standard_normal((n, rank)), rng.standard_normal((n, rank))
    X = U @ V.T
    X *= np.sqrt(rank) / np.linalg.norm(X)
    A = rng.standard_normal((m, n, n))
    return SensingProblem(A, np.einsum("mij,ij->m", A, X), X)


def sensing_descent(problem: SensingProblem, model: str = "factorized", init_scale=1e-3, lr: float = 0.05,
                    steps: int = 1000, record_every: int = 10, seed=0):
    """Gradient descent on :math:`F(X)` (``model="matrix"``) or on :math:`F(UV^\\top)` (``"factorized"``).

    Matrix model: :math:`X_{k+1} = X_k - \\eta \\nabla F(X_k)`, :math:`\\nabla F(X) = \\frac2m \\sum_i r_i A_i`,
    :math:`r = \\mathcal A(X) - b`, from :math:`X_0 = 0`. Factorized model (square factors, width n):
    :math:`U \\leftarrow U - \\eta \\nabla F(X) V`, :math:`V \\leftarrow V - \\eta \\nabla F(X)^\\top U`,
    from :math:`U_0, V_0` with i.i.d. :math:`N(0, \\alpha^2)` entries. Several init scales ``alpha``
    run as one batch (stacked factors, one einsum per step).

    Parameters
    ----------
    problem : SensingProblem
    model : {"factorized", "matrix"}
    init_scale : float or array_like, shape (R,)
        :math:`\\alpha` for each run of the batch (ignored by the matrix model).
    lr : float
        Step size :math:`\\eta`.
    steps, record_every : int
        Number of steps; the losses are recorded every ``record_every`` steps.
    seed : int or numpy.random.Generator

    Returns
    -------
    dict with ``step`` (T,), ``train`` (R, T) training loss, ``test`` (R, T) relative error
    :math:`\\|X - X^\\star\\|_F / \\|X^\\star\\|_F`, ``X`` (R, n1, n2) final matrices.

    Raises
    ------
    ValueError
        Unknown model, non-positive lr, or divergence (non-finite loss): lower ``lr``.

    Explained in: chapter 1 (Background, the Gunasekar et al. experiment).
    """
    if model not in ("factorized", "matrix"):
        raise ValueError(f"model must be 'factorized' or 'matrix', got {model!r}")
    if lr <= 0:
        raise ValueError(f"lr must be positive, got {lr}")
    scales = np.atleast_1d(np.asarray(init_scale, float))
    m, n1, n2 = problem.A.shape
    Amat = problem.A.reshape(m, n1 * n2)
    R = 1 if model == "matrix" else scales.size
    if model == "matrix":
        X = np.zeros((1, n1, n2))
    else:
        rng = _rng(seed)
        U = scales[:, None, None] * rng.standard_normal((R, n1, n1))
        V = scales[:, None, None] * rng.standard_normal((R, n2, n1))
        X = U @ V.transpose(0, 2, 1)
    if model == "matrix":
        U = V = None
    with _single_thread_blas():
        return _descend(problem, model, X, None if model == "matrix" else (U, V), Amat, lr, steps, record_every)


def _descend(problem, model, X, factors, Amat, lr, steps, record_every):
    m, n1, n2 = problem.A.shape
    R = X.shape[0]
    if factors is not None:
        U, V = factors
    record, train, test = [], [], []
    for k in range(steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported just below
            r = X.reshape(R, -1) @ Amat.T - problem.b      # (R, m)
        if not np.all(np.isfinite(r)):
            raise ValueError(f"gradient descent diverged at step {k}: lower lr (now {lr})")
        if k % record_every == 0 or k == steps:
            record.append(k)
            train.append(np.mean(r ** 2, axis=1))
            test.append(problem.test_error(X))
        if k == steps:
            break
        G = ((2.0 / m) * r @ Amat).reshape(R, n1, n2)      # grad F(X)
        if model == "matrix":
            X = X - lr * G
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                U, V = U - lr * G @ V, V - lr * G.transpose(0, 2, 1) @ U
                X = U @ V.transpose(0, 2, 1)
    return dict(step=np.array(record), train=np.array(train).T, test=np.array(test).T, X=X)


def commuting_measurements(n: int = 6, m: int = 3, seed=0, basis: bool = True):
    """Symmetric measurements that commute: :math:`A_i = Q\\,\\mathrm{diag}(d_i)\\,Q^\\top` with one shared
    orthogonal :math:`Q`, so :math:`A_i A_j = A_j A_i`.

    The diagonals :math:`d_i` are i.i.d. standard Gaussian, and the values are :math:`b_i = \\langle A_i, X^\\star\\rangle`
    for a PSD truth :math:`X^\\star = Q\\,\\mathrm{diag}(x^\\star)\\,Q^\\top` with a sparse non-negative
    :math:`x^\\star` (two non-zeros).

    Parameters
    ----------
    n, m : int
        Size and number of measurements (m < n gives many PSD solutions).
    seed : int or numpy.random.Generator
    basis : bool
        If False, :math:`Q = I` (diagonal measurements).

    Returns
    -------
    A : ndarray (m, n, n), b : ndarray (m,), Q : ndarray (n, n), D : ndarray (m, n) the diagonals.

    Explained in: chapter 1 (Background, the commuting-measurement theorem).
    """
    rng = _rng(seed)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0] if basis else np.eye(n)
    D = rng.standard_normal((m, n))
    x = np.zeros(n)
    x[rng.choice(n, 2, replace=False)] = rng.uniform(1, 2, 2)
    A = np.einsum("ij,mj,kj->mik", Q, D, Q)
    return A, D @ x, Q, D


def symmetric_descent(A, b, init_scale: float = 1e-4, lr: float = 0.05, steps: int = 20000, U0=None,
                      record: bool = False):
    """Gradient descent on :math:`f(U) = \\frac1m \\sum_i (\\langle A_i, UU^\\top\\rangle - b_i)^2` from
    :math:`U_0 = \\alpha I` (or ``U0``).

    Update: :math:`U \\leftarrow U - \\eta\\, \\frac2m \\mathcal A^*(r) (U + \\ldots)`, i.e. the exact gradient
    :math:`\\nabla f(U) = \\frac2m \\sum_i r_i (A_i + A_i^\\top) U`, :math:`r_i = \\langle A_i, UU^\\top\\rangle - b_i`.

    Parameters
    ----------
    A : array_like (m, n, n); b : array_like (m,)
    init_scale, lr : float
    steps : int
    U0 : array_like (n, k), optional
        Starting factor; default :math:`\\alpha I`.
    record : bool
        Also return ``path``, the matrices :math:`UU^\\top` after every step, shape (steps + 1, n, n).

    Returns
    -------
    dict with ``X`` = :math:`UU^\\top` (n, n), ``U``, ``loss`` (final), and ``path`` if recorded.

    Explained in: chapter 1 (Background, the commuting-measurement theorem and the lift).
    """
    A = np.asarray(A, float)
    b = np.asarray(b, float)
    m, n, _ = A.shape
    U = init_scale * np.eye(n) if U0 is None else np.array(U0, float)
    S = A + A.transpose(0, 2, 1)
    path = [U @ U.T] if record else None
    for _ in range(steps):
        r = np.einsum("mij,ij->m", A, U @ U.T) - b
        U = U - lr * (2.0 / m) * np.einsum("m,mij->ij", r, S) @ U
        if record:
            path.append(U @ U.T)
    X = U @ U.T
    r = np.einsum("mij,ij->m", A, X) - b
    if not np.all(np.isfinite(X)):
        raise ValueError(f"gradient descent diverged: lower lr (now {lr})")
    out = dict(X=X, U=U, loss=float(np.mean(r ** 2)))
    if record:
        out["path"] = np.array(path)
    return out


def min_nuclear_norm_psd(A, b) -> np.ndarray:
    """Minimum nuclear norm PSD solution: :math:`\\min \\mathrm{tr}\\,X` s.t. :math:`X \\succeq 0`,
    :math:`\\langle A_i, X\\rangle = b_i` (for PSD X the nuclear norm is the trace). Solved with cvxpy.

    Explained in: chapter 1 (Background, the commuting-measurement theorem).
    """
    import cvxpy as cp

    A = np.asarray(A, float)
    n = A.shape[1]
    X = cp.Variable((n, n), PSD=True)
    cons = [cp.sum(cp.multiply(Ai, X)) == bi for Ai, bi in zip(A, b)]
    cp.Problem(cp.Minimize(cp.trace(X)), cons).solve()
    if X.value is None:
        raise ValueError("the PSD problem is infeasible or the solver failed")
    return (X.value + X.value.T) / 2


def hadamard_descent(D, b, init_scale=1e-4, lr: float = 0.05, steps: int = 20000):
    """Gradient descent on :math:`g(u) = \\frac1m \\|D(u \\odot u) - b\\|^2` from :math:`u_0 = \\alpha \\mathbf 1`.

    Gradient: :math:`\\nabla g(u) = \\frac4m\\, u \\odot D^\\top r`, :math:`r = D(u\\odot u) - b`. Several
    ``init_scale`` values run as one batch.

    Parameters
    ----------
    D : array_like (m, n); b : array_like (m,)
    init_scale : float or array_like (R,)
    lr : float; steps : int

    Returns
    -------
    x : ndarray (R, n) the learned :math:`u \\odot u`; loss : ndarray (R,)

    Explained in: chapter 1 (Background, the vector corollary).
    """
    D = np.asarray(D, float)
    b = np.asarray(b, float)
    m, n = D.shape
    scales = np.atleast_1d(np.asarray(init_scale, float))
    u = scales[:, None] * np.ones((scales.size, n))
    for _ in range(steps):
        r = (u * u) @ D.T - b
        u = u - lr * (4.0 / m) * u * (r @ D)
    x = u * u
    if not np.all(np.isfinite(x)):
        raise ValueError(f"gradient descent diverged: lower lr (now {lr})")
    return x, np.mean((x @ D.T - b) ** 2, axis=1)


def min_l1_nonnegative(D, b) -> np.ndarray:
    """:math:`\\min \\|x\\|_1` s.t. :math:`Dx = b`, :math:`x \\ge 0` (a linear program, scipy ``linprog``).

    Explained in: chapter 1 (Background, the vector corollary).
    """
    from scipy.optimize import linprog

    D = np.asarray(D, float)
    res = linprog(np.ones(D.shape[1]), A_eq=D, b_eq=np.asarray(b, float), bounds=(0, None), method="highs")
    if not res.success:
        raise ValueError(f"linprog failed: {res.message}")
    return res.x


def lift_measurements(A, half: bool = True) -> np.ndarray:
    """Lift asymmetric measurements to symmetric ones: :math:`\\tilde A_i = c\\begin{bmatrix} 0 & A_i \\\\ A_i^\\top & 0\\end{bmatrix}`.

    With :math:`W = \\begin{bmatrix} U \\\\ V\\end{bmatrix}`, :math:`\\langle \\tilde A_i, WW^\\top\\rangle = 2c\\,\\langle A_i, UV^\\top\\rangle`.
    ``half=True`` takes :math:`c = 1/2`, so the symmetric loss equals the asymmetric one and gradient
    descent on :math:`W` is gradient descent on :math:`(U, V)`; ``half=False`` is :math:`c = 1`
    (Gunasekar et al.), which needs values :math:`2b` and runs the flow four times faster.

    Parameters
    ----------
    A : array_like (m, n1, n2)

    Returns
    -------
    ndarray (m, n1 + n2, n1 + n2)

    Explained in: chapter 1 (Background, the lift).
    """
    A = np.asarray(A, float)
    m, n1, n2 = A.shape
    L = np.zeros((m, n1 + n2, n1 + n2))
    c = 0.5 if half else 1.0
    L[:, :n1, n1:] = c * A
    L[:, n1:, :n1] = c * A.transpose(0, 2, 1)
    return L


def asymmetric_descent(A, b, U0, V0, lr: float = 0.05, steps: int = 1000):
    """Gradient descent on :math:`f(U, V) = \\frac1m\\sum_i (\\langle A_i, UV^\\top\\rangle - b_i)^2` from (U0, V0).

    Gradients :math:`\\nabla_U f = G V`, :math:`\\nabla_V f = G^\\top U`, :math:`G = \\frac2m\\sum_i r_i A_i`.
    Returns the path of :math:`UV^\\top`, shape (steps + 1, n1, n2), and the final U, V.

    Explained in: chapter 1 (Background, the lift).
    """
    A = np.asarray(A, float)
    m = A.shape[0]
    U, V = np.array(U0, float), np.array(V0, float)
    path = [U @ V.T]
    for _ in range(steps):
        r = np.einsum("mij,ij->m", A, U @ V.T) - b
        G = (2.0 / m) * np.einsum("m,mij->ij", r, A)
        U, V = U - lr * G @ V, V - lr * G.T @ U
        path.append(U @ V.T)
    return np.array(path), U, V


__all__.append("asymmetric_descent")
