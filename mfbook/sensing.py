"""Matrix sensing: linear measurements of a matrix, and gradient descent on X, on U V^T and on U U^T.

The setting of Gunasekar et al. (2017): measurements :math:`b_i = \\langle Z_i, X^\\star \\rangle`,
:math:`i = 1..m`, and the mean squared loss :math:`F(X) = \\frac1m \\sum_i (\\langle Z_i, X\\rangle - b_i)^2`,
minimized over :math:`X` directly or through a factorization. The measurement matrices are called
:math:`Z_i` (array ``Z``) and the matrices are :math:`d\\times d`, so that neither clashes with the
factor :math:`A` and the number of observations :math:`n` of matrix completion. Also the vector analogue
:math:`x = u \\odot u` (non-negative least squares) and its minimum-:math:`\\ell_1` reference.

Explained in: chapter 1 (Background).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["SensingProblem", "gaussian_sensing", "sensing_descent", "commuting_measurements",
           "symmetric_descent", "min_nuclear_norm_psd", "hadamard_descent", "min_l1_nonnegative", "lift_measurements",
           "entry_measurements", "commutator_norms", "single_thread_blas"]


@contextmanager
def single_thread_blas():
    """Run the BLAS libraries of numpy and scipy on one thread inside the block (many small products
    per step: with two threads on a busy two-core machine they were 6x slower, and a least-squares
    solve of a 300 x 2500 system 20x slower). Every BLAS loaded in the process is limited
    (threadpoolctl), and restored afterwards.

    Explained in: chapter 1 (Background, the Gunasekar et al. experiment)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


@dataclass
class SensingProblem:
    """Measurement matrices ``Z`` (m, d1, d2), values ``b`` (m,), ground truth ``X_star`` (d1, d2).

    Explained in: chapter 1 (Background).
    """

    Z: np.ndarray
    b: np.ndarray
    X_star: np.ndarray

    def measure(self, X):
        """:math:`\\mathcal A(X)_i = \\langle Z_i, X\\rangle`; X of shape (..., d1, d2) -> (..., m)."""
        return np.einsum("mij,...ij->...m", self.Z, X)

    def loss(self, X):
        """Mean squared measurement error :math:`\\frac1m\\|\\mathcal A(X) - b\\|^2`."""
        return np.mean((self.measure(X) - self.b) ** 2, axis=-1)

    def test_error(self, X):
        """Relative distance to the truth :math:`\\|X - X^\\star\\|_F / \\|X^\\star\\|_F`."""
        return np.linalg.norm(X - self.X_star, axis=(-2, -1)) / np.linalg.norm(self.X_star)

    def subset(self, m: int) -> "SensingProblem":
        """The first ``m`` measurements only."""
        return SensingProblem(self.Z[:m], self.b[:m], self.X_star)


def gaussian_sensing(d: int = 50, m: int = 300, rank: int = 2, seed=0) -> SensingProblem:
    """Gaussian matrix sensing with a low-rank truth.

    :math:`(Z_i)_{jk} \\sim N(0, 1)` i.i.d., :math:`X^\\star = U^\\star V^{\\star\\top}` with
    :math:`U^\\star, V^\\star \\in \\mathbb R^{d\\times r}` standard Gaussian, normalised to
    :math:`\\|X^\\star\\|_F = \\sqrt r`, and :math:`b = \\mathcal A(X^\\star)`.

    Parameters
    ----------
    d, m, rank : int
        Matrix size (d x d), number of measurements, rank of the truth.
    seed : int or numpy.random.Generator

    Returns
    -------
    SensingProblem

    Explained in: chapter 1 (Background, the Gunasekar et al. experiment).
    """
    if d < 1 or m < 1 or not 1 <= rank <= d:
        raise ValueError(f"need d, m >= 1 and 1 <= rank <= d, got d={d}, m={m}, rank={rank}")
    rng = _rng(seed)
    U, V = rng.standard_normal((d, rank)), rng.standard_normal((d, rank))
    X = U @ V.T
    X *= np.sqrt(rank) / np.linalg.norm(X)
    Z = rng.standard_normal((m, d, d))
    return SensingProblem(Z, np.einsum("mij,ij->m", Z, X), X)


def sensing_descent(problem: SensingProblem, model: str = "factorized", init_scale=1e-3, lr: float = 0.05,
                    steps: int = 1000, record_every: int = 10, seed=0, tol: float | None = None):
    """Gradient descent on :math:`F(X)` (``model="matrix"``) or on :math:`F(UV^\\top)` (``"factorized"``).

    Matrix model: :math:`X_{k+1} = X_k - \\eta \\nabla F(X_k)`, :math:`\\nabla F(X) = \\frac2m \\sum_i r_i Z_i`,
    :math:`r = \\mathcal A(X) - b`, from :math:`X_0 = 0`. Factorized model (square factors, width d):
    :math:`U \\leftarrow U - \\eta \\nabla F(X) V`, :math:`V \\leftarrow V - \\eta \\nabla F(X)^\\top U`,
    from :math:`U_0, V_0` with i.i.d. :math:`N(0, \\alpha^2)` entries. Several init scales ``alpha``
    run as one batch (stacked factors, one einsum per step); each run of the batch has its own
    initial draw, so repeating a scale gives runs from different random starts.

    Parameters
    ----------
    problem : SensingProblem
    model : {"factorized", "matrix"}
    init_scale : float or array_like, shape (R,)
        :math:`\\alpha` for each run of the batch (ignored by the matrix model).
    lr : float
        Step size :math:`\\eta`.
    steps, record_every : int
        Largest number of steps; the losses are recorded every ``record_every`` steps.
    seed : int or numpy.random.Generator
    tol : float, optional
        Stop at the first record where every run's training loss is below ``tol``.

    Returns
    -------
    dict with ``step`` (T,), ``train`` (R, T) training loss, ``test`` (R, T) relative error
    :math:`\\|X - X^\\star\\|_F / \\|X^\\star\\|_F`, ``X`` (R, d1, d2) final matrices.

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
    m, d1, d2 = problem.Z.shape
    Zmat = problem.Z.reshape(m, d1 * d2)
    R = 1 if model == "matrix" else scales.size
    if model == "matrix":
        X = np.zeros((1, d1, d2))
        factors = None
    else:
        rng = _rng(seed)
        U = scales[:, None, None] * rng.standard_normal((R, d1, d1))
        V = scales[:, None, None] * rng.standard_normal((R, d2, d1))
        X = U @ V.transpose(0, 2, 1)
        factors = (U, V)
    with single_thread_blas():
        return _descend(problem, model, X, factors, Zmat, lr, steps, record_every, tol)


def _descend(problem, model, X, factors, Zmat, lr, steps, record_every, tol):
    m, d1, d2 = problem.Z.shape
    R = X.shape[0]
    if factors is not None:
        U, V = factors
    record, train, test = [], [], []
    for k in range(steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported just below
            r = X.reshape(R, -1) @ Zmat.T - problem.b      # (R, m)
        if not np.all(np.isfinite(r)):
            raise ValueError(f"gradient descent diverged at step {k}: lower lr (now {lr})")
        if k % record_every == 0 or k == steps:
            record.append(k)
            train.append(np.mean(r ** 2, axis=1))
            test.append(problem.test_error(X))
            if tol is not None and np.all(train[-1] < tol):
                break
        if k == steps:
            break
        G = ((2.0 / m) * r @ Zmat).reshape(R, d1, d2)      # grad F(X)
        if model == "matrix":
            X = X - lr * G
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                U, V = U - lr * G @ V, V - lr * G.transpose(0, 2, 1) @ U
                X = U @ V.transpose(0, 2, 1)
    return dict(step=np.array(record), train=np.array(train).T, test=np.array(test).T, X=X)


def commuting_measurements(d: int = 6, m: int = 3, seed=0, basis: bool = True):
    """Symmetric measurements that commute: :math:`Z_i = Q\\,\\mathrm{diag}(z_i)\\,Q^\\top` with one shared
    orthogonal :math:`Q`, so :math:`Z_i Z_j = Z_j Z_i`.

    The diagonals :math:`z_i` (the rows of ``D``) are i.i.d. standard Gaussian, and the values are
    :math:`b_i = \\langle Z_i, X^\\star\\rangle` for a PSD truth :math:`X^\\star = Q\\,\\mathrm{diag}(x^\\star)\\,Q^\\top`
    with a sparse non-negative :math:`x^\\star` (two non-zeros).

    Parameters
    ----------
    d, m : int
        Size and number of measurements (m < d gives many PSD solutions).
    seed : int or numpy.random.Generator
    basis : bool
        If False, :math:`Q = I` (diagonal measurements).

    Returns
    -------
    Z : ndarray (m, d, d), b : ndarray (m,), Q : ndarray (d, d), D : ndarray (m, d) the diagonals.

    Explained in: chapter 1 (Background, the commuting-measurement theorem).
    """
    rng = _rng(seed)
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0] if basis else np.eye(d)
    D = rng.standard_normal((m, d))
    x = np.zeros(d)
    x[rng.choice(d, 2, replace=False)] = rng.uniform(1, 2, 2)
    Z = np.einsum("ij,mj,kj->mik", Q, D, Q)
    return Z, D @ x, Q, D


def symmetric_descent(Z, b, init_scale: float = 1e-4, lr: float = 0.05, steps: int = 20000, U0=None,
                      record: bool = False):
    """Gradient descent on :math:`f(U) = \\frac1m \\sum_i (\\langle Z_i, UU^\\top\\rangle - b_i)^2` from
    :math:`U_0 = \\alpha I` (or ``U0``).

    The exact gradient :math:`\\nabla f(U) = \\frac2m \\sum_i r_i (Z_i + Z_i^\\top) U`,
    :math:`r_i = \\langle Z_i, UU^\\top\\rangle - b_i`. Several problems of one size run as one batch
    when ``Z`` has shape (R, m, d, d) and ``b`` (R, m) (then from :math:`\\alpha I` only, with one
    :math:`\\alpha` or one per problem).

    Parameters
    ----------
    Z : array_like (m, d, d) or (R, m, d, d); b : array_like (m,) or (R, m)
    init_scale : float, or array_like (R,) for a batch
    lr : float
    steps : int
    U0 : array_like (d, k), optional
        Starting factor; default :math:`\\alpha I`.
    record : bool
        Also return ``path``, the matrices :math:`UU^\\top` after every step, shape (steps + 1, d, d).

    Returns
    -------
    dict with ``X`` = :math:`UU^\\top` (d, d), ``U``, ``loss`` (final), and ``path`` if recorded; for a
    batch, ``X`` (R, d, d) and ``loss`` (R,).

    Explained in: chapter 1 (Background, the commuting-measurement theorem and the lift).
    """
    Z = np.asarray(Z, float)
    b = np.asarray(b, float)
    batch = Z.ndim == 4
    if batch and (U0 is not None or record):
        raise ValueError("a batch of problems starts from alpha I and records nothing")
    Zb, bb = (Z, b) if batch else (Z[None], b[None])
    R, m, d, _ = Zb.shape
    scales = np.broadcast_to(np.asarray(init_scale, float), (R,))
    U = scales[:, None, None] * np.eye(d) if U0 is None else np.array(U0, float)[None]
    S = Zb + Zb.transpose(0, 1, 3, 2)
    path = [U[0] @ U[0].T] if record else None
    for _ in range(steps):
        r = np.einsum("rmij,rij->rm", Zb, U @ U.transpose(0, 2, 1)) - bb
        U = U - lr * (2.0 / m) * np.einsum("rm,rmij->rij", r, S) @ U
        if record:
            path.append(U[0] @ U[0].T)
    X = U @ U.transpose(0, 2, 1)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"gradient descent diverged: lower lr (now {lr})")
    loss = np.mean((np.einsum("rmij,rij->rm", Zb, X) - bb) ** 2, axis=1)
    if batch:
        return dict(X=X, U=U, loss=loss)
    out = dict(X=X[0], U=U[0], loss=float(loss[0]))
    if record:
        out["path"] = np.array(path)
    return out


def min_nuclear_norm_psd(Z, b) -> np.ndarray:
    """A minimum nuclear norm PSD solution: :math:`\\min \\mathrm{tr}\\,X` s.t. :math:`X \\succeq 0`,
    :math:`\\langle Z_i, X\\rangle = b_i` (for PSD X the nuclear norm is the trace). Solved with cvxpy.

    The minimum *value* is unique; the minimizer need not be (the solver returns one of them).

    Explained in: chapter 1 (Background, the commuting-measurement theorem).
    """
    import cvxpy as cp

    Z = np.asarray(Z, float)
    d = Z.shape[1]
    X = cp.Variable((d, d), PSD=True)
    cons = [cp.sum(cp.multiply(Zi, X)) == bi for Zi, bi in zip(Z, b)]
    cp.Problem(cp.Minimize(cp.trace(X)), cons).solve()
    if X.value is None:
        raise ValueError("the PSD problem is infeasible or the solver failed")
    return (X.value + X.value.T) / 2


def hadamard_descent(D, b, init_scale=1e-4, lr: float = 0.05, steps: int = 20000):
    """Gradient descent on :math:`g(u) = \\frac1m \\|D(u \\odot u) - b\\|^2` from :math:`u_0 = \\alpha \\mathbf 1`.

    Gradient: :math:`\\nabla g(u) = \\frac4m\\, u \\odot D^\\top r`, :math:`r = D(u\\odot u) - b`. Runs as
    one batch: several ``init_scale`` values on one problem, or several problems (``D`` of shape
    (R, m, n), ``b`` (R, m)) from one scale or one scale each.

    Parameters
    ----------
    D : array_like (m, n) or (R, m, n); b : array_like (m,) or (R, m)
    init_scale : float or array_like (R,)
    lr : float; steps : int

    Returns
    -------
    x : ndarray (R, n) the learned :math:`u \\odot u`; loss : ndarray (R,)

    Explained in: chapter 1 (Background, the vector corollary).
    """
    D = np.asarray(D, float)
    b = np.asarray(b, float)
    scales = np.atleast_1d(np.asarray(init_scale, float))
    Db = D if D.ndim == 3 else np.broadcast_to(D, (scales.size,) + D.shape)
    bb = b if b.ndim == 2 else np.broadcast_to(b, (Db.shape[0], b.size))
    R, m, n = Db.shape
    if scales.size not in (1, R):
        raise ValueError(f"init_scale has {scales.size} values for {R} problems: give one, or one per problem")
    u = np.broadcast_to(scales, (R,))[:, None] * np.ones((R, n))
    for _ in range(steps):
        r = np.einsum("rmn,rn->rm", Db, u * u) - bb
        u = u - lr * (4.0 / m) * u * np.einsum("rm,rmn->rn", r, Db)
    x = u * u
    if not np.all(np.isfinite(x)):
        raise ValueError(f"gradient descent diverged: lower lr (now {lr})")
    return x, np.mean((np.einsum("rmn,rn->rm", Db, x) - bb) ** 2, axis=1)


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


def lift_measurements(Z, half: bool = True) -> np.ndarray:
    """Lift asymmetric measurements to symmetric ones: :math:`\\tilde Z_i = c\\begin{bmatrix} 0 & Z_i \\\\ Z_i^\\top & 0\\end{bmatrix}`.

    With :math:`W = \\begin{bmatrix} U \\\\ V\\end{bmatrix}`, :math:`\\langle \\tilde Z_i, WW^\\top\\rangle = 2c\\,\\langle Z_i, UV^\\top\\rangle`.
    ``half=True`` takes :math:`c = 1/2`, so the symmetric loss equals the asymmetric one and gradient
    descent on :math:`W` is gradient descent on :math:`(U, V)`; ``half=False`` is :math:`c = 1`
    (Gunasekar et al.), which needs values :math:`2b` and runs the flow four times faster.

    Parameters
    ----------
    Z : array_like (m, d1, d2)

    Returns
    -------
    ndarray (m, d1 + d2, d1 + d2)

    Explained in: chapter 1 (Background, the lift).
    """
    Z = np.asarray(Z, float)
    m, d1, d2 = Z.shape
    L = np.zeros((m, d1 + d2, d1 + d2))
    c = 0.5 if half else 1.0
    L[:, :d1, d1:] = c * Z
    L[:, d1:, :d1] = c * Z.transpose(0, 2, 1)
    return L


def entry_measurements(mask) -> np.ndarray:
    """The measurement matrices of matrix completion: :math:`E_{ij} = e_ie_j^\\top` for every observed
    position :math:`(i, j)` of ``mask``, in row-major order (an entry is the measurement
    :math:`\\langle E_{ij}, X\\rangle = X_{ij}`).

    Parameters
    ----------
    mask : array_like of bool, shape (d1, d2)
        True where an entry is observed.

    Returns
    -------
    ndarray, shape (n, d1, d2)
        One :math:`E_{ij}` per observed position, ``n = mask.sum()``.

    Explained in: chapter 1 (Background, from commuting measurements to matchings).
    """
    mask = np.asarray(mask, bool)
    if mask.ndim != 2:
        raise ValueError(f"mask must be a 2-d array of booleans, got shape {mask.shape}")
    rows, cols = np.nonzero(mask)
    E = np.zeros((rows.size,) + mask.shape)
    E[np.arange(rows.size), rows, cols] = 1.0
    return E


def commutator_norms(Z) -> np.ndarray:
    """The largest entry of every commutator :math:`Z_aZ_b - Z_bZ_a` of square matrices.

    Parameters
    ----------
    Z : array_like, shape (m, d, d)

    Returns
    -------
    ndarray, shape (m, m)
        :math:`\\max_{kl}|(Z_aZ_b - Z_bZ_a)_{kl}|`; the measurements commute pairwise exactly when
        it is zero everywhere.

    Explained in: chapter 1 (Background, from commuting measurements to matchings).
    """
    Z = np.asarray(Z, float)
    if Z.ndim != 3 or Z.shape[1] != Z.shape[2]:
        raise ValueError(f"Z must be a stack of square matrices (m, d, d), got shape {Z.shape}")
    products = np.einsum("aij,bjk->abik", Z, Z)
    return np.abs(products - products.transpose(1, 0, 2, 3)).max(axis=(-2, -1), initial=0.0)


def asymmetric_descent(Z, b, U0, V0, lr: float = 0.05, steps: int = 1000):
    """Gradient descent on :math:`f(U, V) = \\frac1m\\sum_i (\\langle Z_i, UV^\\top\\rangle - b_i)^2` from (U0, V0).

    Gradients :math:`\\nabla_U f = G V`, :math:`\\nabla_V f = G^\\top U`, :math:`G = \\frac2m\\sum_i r_i Z_i`.
    Returns the path of :math:`UV^\\top`, shape (steps + 1, d1, d2), and the final U, V.

    Explained in: chapter 1 (Background, the lift).
    """
    Z = np.asarray(Z, float)
    m = Z.shape[0]
    U, V = np.array(U0, float), np.array(V0, float)
    path = [U @ V.T]
    for _ in range(steps):
        r = np.einsum("mij,ij->m", Z, U @ V.T) - b
        G = (2.0 / m) * np.einsum("m,mij->ij", r, Z)
        U, V = U - lr * G @ V, V - lr * G.T @ U
        path.append(U @ V.T)
    return np.array(path), U, V


__all__.append("asymmetric_descent")
