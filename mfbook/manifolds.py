"""Invariant manifolds of :math:`W = AB`: points of :math:`\\Omega_k`, subspace tests, flows from a given point.

For linearly independent :math:`v_1, \\dots, v_k \\in \\mathbb R^d` with span :math:`V` (the slides call
them :math:`\\alpha_i`; the book keeps :math:`\\alpha` for the initialization scale), the book writes

.. math:: \\overline\\Omega_k(V) = \\{(A, B) : \\mathrm{row}(A) \\subseteq V,\\ \\mathrm{col}(B) \\subseteq V\\},

the closure of :math:`\\Omega_k(V)`, whose points have :math:`\\mathrm{row}(A) = \\mathrm{col}(B) = V` (Bai, Zhao &
Zhang 2024, Proposition 1). Gradient flow :math:`\\dot A = -E B^\\top`, :math:`\\dot B = -A^\\top E` with
:math:`E = \\frac2n \\mathcal P_{S_x}(AB - M)` maps :math:`\\overline\\Omega_k(V)` into itself for any data (and
:math:`\\Omega_k(V)` itself from a balanced start). When :math:`G_M` is
disconnected, choosing one subspace :math:`V_c` per connected component (rows :math:`a_i` and columns
:math:`b_j` of component :math:`c` in :math:`V_c`) gives the smaller invariant sets of Proposition 2.

Explained in: chapter 3 (Hierarchical intrinsic invariant manifolds).
"""
from __future__ import annotations

import numpy as np

from .completion import as_completion
from .factorization import loss_gradient

__all__ = ["omega_k_point", "component_point", "subspace_basis", "principal_angles", "off_subspace", "balanced_factors",
           "rk4_flow", "descent_from", "imbalance", "newton_critical_point", "top_subspace_angle",
           "degenerate_escapes"]


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def subspace_basis(X, tol: float = 1e-8, side: str = "row") -> np.ndarray:
    """Orthonormal basis (columns) of the row space (``side="row"``) or column space of ``X``.

    Directions whose singular value is below ``tol`` times the largest are dropped.

    Explained in: chapter 3 (Hierarchical intrinsic invariant manifolds).
    """
    X = np.asarray(X, float)
    if side not in ("row", "col"):
        raise ValueError(f"side must be 'row' or 'col', got {side!r}")
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    r = int(np.sum(s > tol * max(s[0] if s.size else 0.0, 1e-300)))
    return (Vt[:r].T if side == "row" else U[:, :r]).copy()


def principal_angles(U, V) -> np.ndarray:
    """Principal angles (radians, ascending) between the column spans of ``U`` and ``V``.

    :math:`\\cos\\theta_i = \\sigma_i(Q_U^\\top Q_V)` with orthonormal bases :math:`Q_U, Q_V`.
    Two subspaces are equal iff they have the same dimension and every angle is 0.

    Explained in: chapter 3 (Hierarchical intrinsic invariant manifolds).
    """
    QU, _ = np.linalg.qr(np.asarray(U, float))
    QV, _ = np.linalg.qr(np.asarray(V, float))
    s = np.clip(np.linalg.svd(QU.T @ QV, compute_uv=False), -1.0, 1.0)
    return np.sort(np.arccos(s))


def off_subspace(X, basis, axis: str = "row") -> float:
    """Relative size of the part of ``X``'s rows (``axis="row"``) or columns outside ``span(basis)``.

    :math:`\\|X(I - QQ^\\top)\\|_F / \\|X\\|_F` for rows, :math:`\\|(I - QQ^\\top)X\\|_F / \\|X\\|_F` for columns,
    :math:`Q` an orthonormal basis of the columns of ``basis``. Returns 0 for ``X = 0``. Batched over
    leading axes of ``X``.

    Explained in: chapter 3 (Hierarchical intrinsic invariant manifolds).
    """
    X = np.asarray(X, float)
    basis = np.asarray(basis, float)
    if basis.size == 0:
        Q = np.zeros((X.shape[-1] if axis == "row" else X.shape[-2], 0))
    else:
        Q, _ = np.linalg.qr(basis)
    if axis == "row":
        R = X - (X @ Q) @ Q.T
    elif axis == "col":
        R = X - Q @ (Q.T @ X)
    else:
        raise ValueError(f"axis must be 'row' or 'col', got {axis!r}")
    num = np.sqrt(np.sum(R * R, axis=(-2, -1)))
    den = np.sqrt(np.sum(X * X, axis=(-2, -1)))
    return np.where(den > 0, num / np.maximum(den, 1e-300), 0.0)


def omega_k_point(shape, k: int, d: int | None = None, scale: float = 1.0, seed=0, basis=None):
    """A random point of :math:`\\Omega_k`: :math:`A = C_1 Q^\\top`, :math:`B = Q C_2`.

    :math:`Q` (d x k) is an orthonormal basis of :math:`V = \\mathrm{span}\\{v_1..v_k\\}` (random
    unless ``basis`` gives the :math:`v_i` as columns), :math:`C_1` (d1 x k) and :math:`C_2` (k x d2) are
    Gaussian times ``scale``; for ``k <= min(d1, d2)`` they have full rank k almost surely, so
    :math:`\\mathrm{row}(A) = \\mathrm{col}(B) = V`.

    Returns
    -------
    A : ndarray (d1, d), B : ndarray (d, d2), Q : ndarray (d, k)

    Explained in: chapter 3 (Hierarchical intrinsic invariant manifolds).
    """
    d1, d2 = shape
    d = max(d1, d2) if d is None else d
    if not (0 <= k <= d):
        raise ValueError(f"k must be between 0 and d = {d}, got {k}")
    rng = _rng(seed)
    if basis is None:
        Q, _ = np.linalg.qr(rng.standard_normal((d, k))) if k else (np.zeros((d, 0)), None)
    else:
        basis = np.asarray(basis, float)
        if basis.shape != (d, k) or (k and np.linalg.matrix_rank(basis) < k):
            raise ValueError(f"basis must be {d} x {k} with independent columns")
        Q, _ = np.linalg.qr(basis) if k else (np.zeros((d, 0)), None)
    A = scale * rng.standard_normal((d1, k)) @ Q.T
    B = scale * Q @ rng.standard_normal((k, d2))
    return A, B, Q


def component_point(problem, dims, d: int | None = None, scale: float = 1.0, seed=0, orthogonal: bool = False):
    """A random point of a sub-:math:`\\Omega_k` manifold (Proposition 2) for a disconnected pattern.

    Component :math:`c` of :math:`G_M` (in the order of ``connectivity(problem).components``) gets its own
    random subspace :math:`V_c` of dimension ``dims[c]`` (0 switches the component off); the
    subspaces together are linearly independent, :math:`k = \\sum_c` ``dims[c]``. Rows :math:`a_i` and
    columns :math:`b_j` of component :math:`c` are random vectors of :math:`V_c`; rows and columns outside
    every component are 0. With ``orthogonal=True`` the :math:`V_c` are mutually orthogonal, which is
    needed for invariance when an observed *zero* links two components (its residual
    :math:`a_i^\top b_j` must vanish); otherwise they are independent but oblique.

    Returns
    -------
    A, B : ndarray
    bases : list of ndarray (d, dims[c]), orthonormal basis of each :math:`V_c`

    Explained in: chapter 3 (Hierarchical intrinsic invariant manifolds).
    """
    from .connectivity import connectivity

    problem = as_completion(problem)
    comps = connectivity(problem).components
    if len(dims) != len(comps):
        raise ValueError(f"need one dimension per component ({len(comps)}), got {len(dims)}")
    d1, d2 = problem.shape
    d = max(d1, d2) if d is None else d
    k = int(sum(dims))
    if k > d:
        raise ValueError(f"the subspaces need sum(dims) = {k} <= d = {d}")
    rng = _rng(seed)
    Q = np.linalg.qr(rng.standard_normal((d, max(k, 1))))[0][:, :k]
    # unless asked for orthogonal subspaces, mix the columns so that the V_c are independent but oblique
    if k and not orthogonal:
        Q = Q @ (np.eye(k) + 0.3 * np.triu(rng.standard_normal((k, k)), 1))
    A = np.zeros((d1, d))
    B = np.zeros((d, d2))
    bases, start = [], 0
    for comp, m in zip(comps, dims):
        Vc = Q[:, start:start + m]
        start += m
        bases.append(np.linalg.qr(Vc)[0] if m else Vc)
        if m:
            A[list(comp.rows)] = scale * rng.standard_normal((len(comp.rows), m)) @ Vc.T
            B[:, list(comp.cols)] = scale * Vc @ rng.standard_normal((m, len(comp.cols)))
    return A, B, bases


def rk4_flow(A0, B0, problem, t_max: float, steps: int = 2000, record_every: int = 10):
    """Gradient flow of :math:`R_S` from the given factors, by classical Runge-Kutta (RK4) with a fixed step.

    A fixed step makes the map deterministic and exactly decoupled across connected components (no
    adaptive step size shared between them), which chapter 3 uses to compare runs bit for bit. For
    an accurate flow with an error control use :func:`mfbook.gradient_flow` with ``start=(A0, B0)``;
    this integrator is the one whose runs on different components share no arithmetic.

    Parameters
    ----------
    A0, B0 : ndarray (d1, d), (d, d2)
    problem : Completion or str
    t_max : float
        Final time; the step is ``t_max / steps``.

    Returns
    -------
    t : ndarray (T,), A : ndarray (T, d1, d), B : ndarray (T, d, d2), loss : ndarray (T,)

    Explained in: chapter 3 (Hierarchical intrinsic invariant manifolds).
    """
    problem = as_completion(problem)
    values, mask = problem.values, problem.mask
    A, B = np.array(A0, float), np.array(B0, float)
    h = float(t_max) / int(steps)

    def f(A, B):
        _, (gA, gB) = loss_gradient([A, B], values, mask)
        return -gA, -gB

    ts, As, Bs = [0.0], [A.copy()], [B.copy()]
    for s in range(1, int(steps) + 1):
        k1 = f(A, B)
        k2 = f(A + 0.5 * h * k1[0], B + 0.5 * h * k1[1])
        k3 = f(A + 0.5 * h * k2[0], B + 0.5 * h * k2[1])
        k4 = f(A + h * k3[0], B + h * k3[1])
        A = A + (h / 6) * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        B = B + (h / 6) * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
            raise ValueError("the flow left every bound: use a smaller step (more steps)")
        if s % record_every == 0 or s == steps:
            ts.append(s * h)
            As.append(A.copy())
            Bs.append(B.copy())
    As, Bs = np.stack(As), np.stack(Bs)
    lossv, _ = loss_gradient([As, Bs], values, mask)
    return np.array(ts), As, Bs, lossv


def balanced_factors(W, d: int | None = None, tol: float = 1e-10):
    """Balanced factors of ``W``: :math:`A = U_r \\Sigma_r^{1/2}`, :math:`B = \\Sigma_r^{1/2} V_r^\\top`, padded to width ``d``.

    :math:`r` is the numerical rank (singular values above ``tol`` times the largest). They satisfy
    :math:`A^\\top A = BB^\\top` and :math:`\\mathrm{row}(A) = \\mathrm{col}(B) = \\mathrm{span}\\{e_1..e_r\\}`, the
    factorization that small-initialization training produces (up to a rotation of the hidden
    space). If :math:`W` is a critical value of the loss restricted to rank :math:`r` (a plateau of
    :func:`mfbook.small_init_limit`), these factors are a critical point of :math:`R_S`.

    Returns
    -------
    A : ndarray (d1, d), B : ndarray (d, d2)

    Explained in: chapter 4 (Training dynamics, Theorem 1).
    """
    W = np.asarray(W, float)
    d1, d2 = W.shape
    d = max(d1, d2) if d is None else d
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    r = int(np.sum(s > tol * max(s[0], 1e-300))) if s.size and s[0] > 0 else 0
    if r > d:
        raise ValueError(f"W has rank {r} > d = {d}")
    A = np.zeros((d1, d))
    B = np.zeros((d, d2))
    A[:, :r] = U[:, :r] * np.sqrt(s[:r])
    B[:r] = np.sqrt(s[:r])[:, None] * Vt[:r]
    return A, B


def descent_from(A0, B0, problem, lr: float = 0.1, steps: int = 1000, record_every: int = 10):
    """Plain gradient descent :math:`\\theta \\leftarrow \\theta - \\eta\\nabla R_S(\\theta)` from the given factors,
    keeping the factors at every record (:func:`mfbook.gradient_descent` keeps only their products).

    From ``mfbook.init_factors(shape, alpha, seed)`` it takes exactly the steps of
    ``mfbook.gradient_descent(problem, alpha, lr, seed=seed)``.

    Returns
    -------
    t : ndarray (T,), flow time ``step * lr``; A : ndarray (T, d1, d); B : ndarray (T, d, d2);
    loss : ndarray (T,)

    Explained in: chapter 3 (Hierarchical intrinsic invariant manifolds).
    """
    problem = as_completion(problem)
    values, mask = problem.values, problem.mask
    A, B = np.array(A0, float), np.array(B0, float)
    ts, As, Bs = [0.0], [A.copy()], [B.copy()]
    for s in range(1, int(steps) + 1):
        _, (gA, gB) = loss_gradient([A, B], values, mask)
        A, B = A - lr * gA, B - lr * gB
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
            raise ValueError("gradient descent diverged: use a smaller lr")
        if s % int(record_every) == 0 or s == steps:
            ts.append(s * lr)
            As.append(A.copy())
            Bs.append(B.copy())
    As, Bs = np.stack(As), np.stack(Bs)
    lossv, _ = loss_gradient([As, Bs], values, mask)
    return np.array(ts), As, Bs, lossv


def imbalance(A, B) -> np.ndarray:
    """:math:`\\|A^\\top A - BB^\\top\\|_F`, conserved by gradient flow (batched over leading axes).

    Explained in: chapter 3 (Hierarchical intrinsic invariant manifolds).
    """
    A, B = np.asarray(A, float), np.asarray(B, float)
    D = np.swapaxes(A, -1, -2) @ A - B @ np.swapaxes(B, -1, -2)
    return np.sqrt(np.sum(D * D, axis=(-2, -1)))


def top_subspace_angle(A, B, r: int) -> float:
    """Largest principal angle (radians) between the top-``r`` row space of ``A`` and column space of ``B``.

    The top-``r`` subspaces are spanned by the singular vectors of the ``r`` largest singular
    values; ``r = 0`` gives 0.

    Explained in: chapter 3 (Hierarchical intrinsic invariant manifolds).
    """
    if r == 0:
        return 0.0
    rows = np.linalg.svd(np.asarray(A, float))[2][:r].T
    cols = np.linalg.svd(np.asarray(B, float))[0][:, :r]
    # sin of the largest angle, ||(I - P_cols) rows||_2: accurate also for tiny angles (arccos is not)
    sin = np.linalg.norm(rows - cols @ (cols.T @ rows), 2)
    return float(np.arcsin(min(sin, 1.0)))


def newton_critical_point(A0, B0, problem, iters: int = 60, tol: float = 1e-13):
    """A critical point of :math:`R_S` near ``(A0, B0)`` by Newton's method on :math:`\\nabla R_S = 0`.

    Each step solves :math:`H\\,\\delta = -\\nabla R_S` in the least squares sense (the Hessian is
    singular along the symmetry :math:`(AG, G^{-1}B)`), so the iteration converges to a nearby
    critical point of any index -- saddles included, unlike descent. Returns the factors and the
    gradient norm reached (at most ``tol`` when it converged).

    Returns
    -------
    A : ndarray (d1, d), B : ndarray (d, d2), grad_norm : float

    Explained in: chapter 4 (Training dynamics, Theorem 1).
    """
    from .factorization import hessian

    problem = as_completion(problem)
    values, mask = problem.values, problem.mask
    A, B = np.array(A0, float), np.array(B0, float)
    pa = A.size
    gnorm = np.inf
    for _ in range(int(iters)):
        _, (gA, gB) = loss_gradient([A, B], values, mask)
        g = np.concatenate([gA.ravel(), gB.ravel()])
        gnorm = float(np.linalg.norm(g))
        if gnorm <= tol:
            break
        H = hessian(A, B, values, mask)
        step = np.linalg.lstsq(H, -g, rcond=1e-12)[0]
        A = A + step[:pa].reshape(A.shape)
        B = B + step[pa:].reshape(B.shape)
    return A, B, gnorm


def degenerate_escapes(result, width: int | None = None) -> list[bool]:
    """For each escape on a limit path: is the top eigenspace of :math:`-H` at its saddle larger than
    the rotation orbit?

    At a balanced critical point of rank :math:`k` with hidden width :math:`d`, the rotations
    :math:`(A, B) \\mapsto (AQ, Q^\\top B)` carry an escape direction :math:`X = u w^\\top, Y = -w v^\\top`
    (:math:`w` a free inner direction, :math:`(u, v)` the top singular pair of the residual
    :math:`E_c`) into a :math:`(d - k)`-dimensional family of escape directions, all of which give the
    same path of :math:`W`. The escape is *degenerate* when the top eigenspace (dimension
    ``saddle.multiplicity``) is larger than that: the top singular value of :math:`E_c` is repeated
    (Assumption 1 fails) or the width-:math:`k` block reaches the same curvature (Assumption 2 fails).
    Then the path after the saddle depends on the initial direction :math:`\\theta_0`.

    Parameters
    ----------
    result : LimitResult
        From :func:`mfbook.small_init_limit`; its ``saddles`` are the visited critical points.
    width : int, optional
        Hidden width :math:`d` of the factorization (default :math:`\\max(d_1, d_2)`, the solver's).

    Returns
    -------
    list of bool, one per escape (every saddle but the final minimum)

    Explained in: chapter 4 (Training dynamics, when the assumptions of Theorem 2 fail).
    """
    d = max(result.problem.shape) if width is None else int(width)
    return [bool(s.multiplicity > d - s.rank) for s in result.saddles[:-1]]
