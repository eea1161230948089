"""Deep matrix factorization: how depth sharpens the low-rank bias.

The model :math:`W = F_1 F_2 \\cdots F_N` (``depth=N`` in :func:`mfbook.gradient_descent` and
:func:`mfbook.gradient_flow`). Under gradient flow with *balanced* factors
(:math:`F_k^\\top F_k = F_{k+1}F_{k+1}^\\top`), every singular value :math:`\\sigma_r` of :math:`W` with
singular vectors :math:`u_r, v_r` moves as (Arora, Cohen, Hu & Luo 2019)

.. math:: \\dot\\sigma_r = -N\\,\\sigma_r^{2 - 2/N}\\, u_r^\\top \\nabla_W R_S\\, v_r ,

so for :math:`N \\ge 3` large singular values speed up and small ones are nearly frozen. A small
random initialization is balanced up to :math:`O(\\alpha^2)`.

Explained in: chapter 6 (Beyond matrices).
"""
from __future__ import annotations

import numpy as np

from .completion import as_completion
from .factorization import init_factors, loss_gradient, product
from .seeding import generator, run_seeds
from .training import DivergenceError

__all__ = ["effective_rank", "singular_value_velocity", "descent_with_stable_step", "balanced_sigma_floor",
           "balanced_factors", "random_low_rank", "nested_masks", "deep_completion",
           "nuclear_norm_completion", "hidden_entry_error"]


def effective_rank(W) -> np.ndarray:
    """Effective rank :math:`\\exp\\big(-\\sum_r p_r \\log p_r\\big)`, :math:`p_r = \\sigma_r / \\sum_s \\sigma_s`.

    The entropy-based effective rank of Roy & Vetterli, used by Arora et al. (2019) to compare
    depths: 1 for a rank-1 matrix, :math:`k` for :math:`k` equal singular values, and in between
    for a decaying spectrum. Batched over leading dimensions.

    Parameters
    ----------
    W : array_like (..., d1, d2)

    Returns
    -------
    ndarray (...)

    Raises
    ------
    ValueError
        If ``W`` is not at least 2-D, or some matrix is zero.

    Explained in: chapter 6.
    """
    W = np.asarray(W, float)
    if W.ndim < 2:
        raise ValueError(f"W must be a matrix (or a stack of matrices), got shape {W.shape}")
    sv = np.linalg.svd(W, compute_uv=False)
    total = sv.sum(axis=-1, keepdims=True)
    if np.any(total == 0):
        raise ValueError("the effective rank of the zero matrix is undefined")
    p = sv / total
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)
    return np.exp(ent)


def singular_value_velocity(factors, problem):
    """Velocity of the singular values of :math:`W = F_1\\cdots F_N` under gradient flow, and Arora's formula.

    Exact: :math:`\\dot W = -\\sum_k (F_1\\cdots F_{k-1})(F_1\\cdots F_{k-1})^\\top\\, E\\,
    (F_{k+1}\\cdots F_N)^\\top(F_{k+1}\\cdots F_N)` with :math:`E = \\nabla_W R_S`, and
    :math:`\\dot\\sigma_r = u_r^\\top \\dot W v_r`. Prediction for balanced factors:
    :math:`-N\\sigma_r^{2-2/N} u_r^\\top E v_r`.

    Parameters
    ----------
    factors : list of ndarray
        :math:`F_1, \\dots, F_N` (one problem, no batch axis).
    problem : Completion or str

    Returns
    -------
    sigma, exact, predicted : ndarray (min(d1, d2),)

    Explained in: chapter 6.
    """
    problem = as_completion(problem)
    factors = [np.asarray(F, float) for F in factors]
    N = len(factors)
    W = product(factors)
    if W.shape != problem.shape:
        raise ValueError(f"the factors multiply to shape {W.shape}, the problem has shape {problem.shape}")
    n = problem.mask.sum()
    E = (2.0 / n) * np.where(problem.mask, W - problem.values, 0.0)
    Wdot = np.zeros_like(W)
    for k in range(N):
        P = product(factors[:k]) if k else np.eye(W.shape[0])
        S = product(factors[k + 1:]) if k < N - 1 else np.eye(W.shape[1])
        Wdot -= P @ P.T @ E @ S.T @ S
    U, sigma, Vt = np.linalg.svd(W)
    r = len(sigma)
    exact = np.einsum("ir,ij,rj->r", U[:, :r], Wdot, Vt[:r])
    predicted = -N * sigma ** (2 - 2 / N) * np.einsum("ir,ij,rj->r", U[:, :r], E, Vt[:r])
    return sigma, exact, predicted


def _sharpness_bound(factors, E_norm, n):
    """Upper bound on the Hessian norm of :math:`R_S` at the current factors, one per run.

    With :math:`P_k = F_1\\cdots F_{k-1}`, :math:`S_k = F_{k+1}\\cdots F_N`, the first-order change
    :math:`\\delta W = \\sum_k P_k\\,\\delta F_k\\,S_k` obeys
    :math:`\\|\\delta W\\|_F^2 \\le \\sum_k \\|P_k\\|_F^2\\|S_k\\|_F^2\\,\\|\\delta\\theta\\|^2` (Cauchy-Schwarz), and the
    second-order change is at most :math:`\\sum_{k\\ne l}\\prod_{j\\ne k,l}\\|F_j\\|_F\\,\\|\\delta\\theta\\|^2`;
    hence :math:`\\|\\nabla^2 R_S\\| \\le \\frac2n\\big(\\sum_k \\|P_k\\|_F^2\\|S_k\\|_F^2
    + \\|P_\\Omega(W - M)\\|_F \\sum_{k\\ne l}\\prod_{j\\ne k,l}\\|F_j\\|_F\\big)`.
    """
    norms = np.stack([np.linalg.norm(F, axis=(-2, -1)) for F in factors])      # (N, R)
    total = np.prod(norms, axis=0)
    gauss = np.sum((total / norms) ** 2, axis=0)
    pair = total / (norms[:, None] * norms[None, :])                              # (N, N, R)
    second = np.sum(pair, axis=(0, 1)) - np.sum(np.diagonal(pair, axis1=0, axis2=1), axis=-1)
    return (2.0 / n) * (gauss + E_norm * second)


def balanced_factors(W, depth: int) -> list:
    """Balanced factors of ``W`` (R, d, d): :math:`F_1 = U\\Sigma^{1/N}`, :math:`F_k = \\Sigma^{1/N}`,
    :math:`F_N = \\Sigma^{1/N}V^\\top`, so that :math:`F_k^\\top F_k = F_{k+1}F_{k+1}^\\top` and the product is ``W``.

    Explained in: chapter 6.
    """
    U, sv, Vt = np.linalg.svd(np.asarray(W, float))
    root = sv ** (1.0 / depth)
    D = root[..., :, None] * np.eye(sv.shape[-1])
    return [U * root[..., None, :]] + [D.copy() for _ in range(depth - 2)] + [root[..., :, None] * Vt]


def descent_with_stable_step(problem, seeds, init_scale: float, depth: int, t_max: float,
                             max_lr: float = 0.1, record_every: float = 10.0, balanced: bool = False):
    """Gradient descent on :math:`W = F_1\\cdots F_N` for several seeds at once, with a step that stays stable.

    A fixed step :math:`\\eta` is stable only while the Hessian's largest eigenvalue stays below
    :math:`2/\\eta`; when a norm of :math:`W` grows without bound (the Razin-Cohen example), so does the
    Hessian (like :math:`\\sigma_1^{2-2/N}`), and a fixed step ends in oscillation. Here every step is
    :math:`\\eta_s = \\min(\\text{max\\_lr}, 1/L_s)`, with :math:`L_s` an upper bound of the Hessian norm at
    the current point (:func:`_sharpness_bound`; the same step for all runs, the smallest). A step
    of :math:`1/L` is half the stability limit, and by the descent lemma it lowers the loss, so the
    iterates follow gradient flow; the recorded time is :math:`t = \\sum_s \\eta_s`.

    Parameters
    ----------
    problem : Completion or str
    seeds : sequence of int
        One run per seed, started as :func:`mfbook.gradient_descent` with that seed
        (:func:`mfbook.factorization.init_factors`).
    init_scale : float
    depth : int
    t_max : float
        Flow time to reach.
    max_lr : float
        Largest step.
    record_every : float
        Flow time between records.
    balanced : bool
        Replace each random start by the balanced factors (:func:`balanced_factors`) of the same
        product :math:`W_0`: the hypothesis of the singular-value formula.

    Returns
    -------
    dict with ``t`` (T,), ``W`` (R, T, d1, d2), ``loss`` (R, T), ``steps`` (int).

    Explained in: chapter 6.
    """
    problem = as_completion(problem)
    if not (np.isfinite(t_max) and t_max > 0 and max_lr > 0 and record_every > 0):
        raise ValueError("t_max, max_lr and record_every must be positive")
    per_seed = [init_factors(problem.shape, init_scale, s, depth) for s in seeds]
    factors = [np.stack([f[k] for f in per_seed]) for k in range(depth)]
    if balanced:
        factors = balanced_factors(product(factors), depth)
    values, mask = problem.values, problem.mask
    n = float(mask.sum())
    t, steps, next_record = 0.0, 0, 0.0
    ts, Ws, losses = [], [], []
    while True:
        value, grads = loss_gradient(factors, values, mask)
        if not np.all(np.isfinite(value)):
            raise ValueError(f"the loss became non-finite at t = {t:g}")
        if t >= next_record - 1e-12 or t >= t_max:
            ts.append(t)
            Ws.append(product(factors))
            losses.append(value)
            next_record += record_every
        if t >= t_max:
            break
        E_norm = np.sqrt(value * n)                       # ||P(W - M)||_F
        eta = min(max_lr, float(np.min(1.0 / _sharpness_bound(factors, E_norm, n))), t_max - t,
                  max(next_record - t, 1e-12))
        factors = [F - eta * G for F, G in zip(factors, grads)]
        t += eta
        steps += 1
    return {"t": np.array(ts), "W": np.stack(Ws, axis=1), "loss": np.stack(losses, axis=1), "steps": steps}


def balanced_sigma_floor(sigma0, t, depth: int, grad_bound: float):
    """Lower bound on a singular value of :math:`W` under balanced gradient flow.

    From :math:`\\dot\\sigma = -N\\sigma^{2-2/N}\\,u^\\top\\nabla_W R_S\\,v` and
    :math:`|u^\\top\\nabla_W R_S\\,v| \\le G`:
    for :math:`N \\ge 3`, :math:`\\frac{d}{dt}\\sigma^{-(N-2)/N} \\le (N-2)G`, so
    :math:`\\sigma(t) \\ge \\big(\\sigma_0^{-(N-2)/N} + (N-2)Gt\\big)^{-N/(N-2)} > 0`; for :math:`N = 2`,
    :math:`\\sigma(t) \\ge \\sigma_0 e^{-2Gt}`. A singular value never reaches zero in finite time.

    Explained in: chapter 6.
    """
    t = np.asarray(t, float)
    if depth == 2:
        return sigma0 * np.exp(-2 * grad_bound * t)
    if depth < 2:
        raise ValueError("depth must be at least 2")
    e = (depth - 2) / depth
    return (sigma0 ** (-e) + (depth - 2) * grad_bound * t) ** (-1 / e)


# ------------------------------------------------------------------ completion at a real size
def random_low_rank(shape, rank: int, seed=0) -> np.ndarray:
    """A random rank-``rank`` matrix :math:`M = UV^\\top` (Gaussian :math:`U, V`), scaled to unit RMS entry.

    The test matrices of Arora et al. (2019), Section 4: the singular values are those of a
    product of Gaussian factors (spread, not equal), and :math:`\\|M\\|_F^2 = d_1d_2`.

    Parameters
    ----------
    shape : (int, int)
        :math:`(d_1, d_2)`.
    rank : int
        Between 1 and :math:`\\min(d_1, d_2)`.
    seed : int or numpy.random.Generator

    Returns
    -------
    ndarray (d1, d2)

    Explained in: chapter 6.
    """
    d1, d2 = (int(v) for v in shape)
    if not (1 <= rank <= min(d1, d2)):
        raise ValueError(f"rank must be between 1 and min(d1, d2) = {min(d1, d2)}, got {rank}")
    rng = generator(seed)
    M = rng.standard_normal((d1, rank)) @ rng.standard_normal((rank, d2))
    return M * np.sqrt(d1 * d2) / np.linalg.norm(M)


def nested_masks(shape, counts, seed=0) -> np.ndarray:
    """Observation patterns with ``counts`` entries each, drawn uniformly and nested.

    One random order of the :math:`d_1d_2` entries; the pattern with :math:`n` observations holds
    its first :math:`n` entries, so a larger pattern contains every smaller one (the curves
    against :math:`n` then vary only through :math:`n`).

    Parameters
    ----------
    shape : (int, int)
    counts : sequence of int
        Numbers of observed entries :math:`n = |S_x|`, each between 1 and :math:`d_1d_2`.
    seed : int or numpy.random.Generator

    Returns
    -------
    ndarray of bool (len(counts), d1, d2)

    Explained in: chapter 6.
    """
    d1, d2 = (int(v) for v in shape)
    counts = np.asarray(counts, int).ravel()
    if np.any(counts < 1) or np.any(counts > d1 * d2):
        raise ValueError(f"counts must lie between 1 and d1 d2 = {d1 * d2}, got {counts}")
    order = generator(seed).permutation(d1 * d2)
    rank_of = np.empty(d1 * d2, int)
    rank_of[order] = np.arange(d1 * d2)
    return (rank_of[None, :] < counts[:, None]).reshape(len(counts), d1, d2)


def _check_batch(values, masks):
    values, masks = np.asarray(values, float), np.asarray(masks, bool)
    if masks.ndim != 3:
        raise ValueError(f"masks must have shape (R, d1, d2), got {masks.shape}")
    if values.shape not in (masks.shape[1:], masks.shape):
        raise ValueError(f"values must have shape (d1, d2) or (R, d1, d2) to match masks {masks.shape}, "
                         f"got {values.shape}")
    if not np.all(masks.any(axis=(1, 2))):
        raise ValueError("every pattern needs at least one observed entry")
    values = np.broadcast_to(values, masks.shape)
    if not np.all(np.isfinite(np.where(masks, values, 0.0))):
        raise ValueError("the observed values must be finite")
    return np.where(masks, values, 0.0), masks


def deep_completion(values, masks, depth: int, init_scale: float, max_steps: int, seeds=0,
                    lr_factor: float = 0.5, tol: float = 1e-12, check_every: int = 250):
    """Gradient descent on :math:`W = F_1\\cdots F_N` (full width) for many observation patterns at once.

    Run :math:`r` minimizes :math:`R_S(W) = \\frac1{n_r}\\sum_{(i,j)\\in S_r}(W_{ij} - M_{ij})^2` from
    factors with i.i.d. :math:`\\alpha\\,\\mathcal N(0, 1)` entries (the start of
    :func:`mfbook.gradient_descent`), the setting of Arora et al. (2019), Section 4. The step of
    run :math:`r` is

    .. math:: \\eta_r = \\text{lr\\_factor}\\cdot\\frac{d_1 d_2}{N\\,\\hat s_r^{\\,2 - 2/N}},\\qquad
              \\hat s_r = \\sigma_1\\Big(\\tfrac{d_1d_2}{n_r}\\,\\mathcal P_{S_r}(M)\\Big),

    computed from the observed entries only: near a fit the loss's curvature along the learned
    directions is about :math:`2N\\sigma_1^{2-2/N}/(d_1d_2)` (the projection keeps a fraction
    :math:`n/(d_1d_2)` of an incoherent direction), so ``lr_factor = 0.5`` is about half the
    stability limit. A run leaves the batch once its loss is below ``tol`` (checked every
    ``check_every`` steps).

    Parameters
    ----------
    values : array_like (d1, d2) or (R, d1, d2)
        The matrix :math:`M` (only the observed entries are read).
    masks : array_like of bool (R, d1, d2)
        One observation pattern per run.
    depth : int
        :math:`N \\ge 2`.
    init_scale : float
        :math:`\\alpha`.
    max_steps : int
    seeds : int or sequence of int
        Run :math:`r` starts from :func:`mfbook.init_factors` with seed ``seeds[r]`` (an int
        :math:`s` means :math:`s + r`, the book's convention), the start of
        :func:`mfbook.gradient_descent` with that seed: a run does not depend on its batch-mates.
    lr_factor, tol, check_every
        See above.

    Returns
    -------
    dict with ``W`` (R, d1, d2), ``loss`` (R,), ``steps`` (R,) and ``lr`` (R,).

    Raises
    ------
    ValueError
        On inconsistent shapes or out-of-range numbers.
    DivergenceError
        If a loss becomes non-finite (lower ``lr_factor``).

    Explained in: chapter 6.
    """
    values, masks = _check_batch(values, masks)
    if int(depth) != depth or depth < 2:
        raise ValueError(f"depth must be an integer >= 2 (depth 1 is nuclear_norm_completion), got {depth}")
    if not (np.isfinite(init_scale) and init_scale > 0 and lr_factor > 0):
        raise ValueError("init_scale and lr_factor must be positive")
    if int(max_steps) != max_steps or max_steps < 0 or int(check_every) != check_every or check_every < 1:
        raise ValueError("max_steps must be a non-negative and check_every a positive integer")
    R, d1, d2 = masks.shape
    n = masks.sum(axis=(1, 2)).astype(float)
    s_hat = np.linalg.norm(values * (d1 * d2 / n)[:, None, None], ord=2, axis=(1, 2))
    if np.any(s_hat == 0):
        raise ValueError("some pattern observes only zeros: there is nothing to learn")
    lr = lr_factor * d1 * d2 / (depth * s_hat ** (2 - 2 / depth))
    seeds = run_seeds(seeds, R, "seeds")
    starts = [init_factors((d1, d2), init_scale, s, depth) for s in seeds]
    factors = [np.stack([f[k] for f in starts]) for k in range(depth)]
    W = np.empty((R, d1, d2))
    loss = np.full(R, np.inf)
    steps = np.full(R, int(max_steps))
    act = np.arange(R)
    F, V, P, eta = factors, values, masks, lr[:, None, None]
    step = 0
    while act.size:
        k = min(int(check_every), int(max_steps) - step)
        for _ in range(k):
            _, G = loss_gradient(F, V, P)
            F = [f - eta * g for f, g in zip(F, G)]
        step += k
        cur, _ = loss_gradient(F, V, P)
        if not np.all(np.isfinite(cur)):
            raise DivergenceError(f"deep_completion diverged near step {step}: lower lr_factor={lr_factor}")
        loss[act] = cur
        W[act] = product(F)
        done = (cur < tol) | (step >= max_steps)
        steps[act[done]] = step
        keep = ~done
        act = act[keep]
        F, V, P, eta = [f[keep] for f in F], V[keep], P[keep], eta[keep]
    return {"W": W, "loss": loss, "steps": steps, "lr": lr}


def nuclear_norm_completion(values, masks, tol: float = 1e-9, max_iter: int = 20_000, step=None):
    """:math:`\\min\\|W\\|_*` subject to :math:`W_{ij} = M_{ij}` on :math:`S_x`, by Douglas-Rachford splitting.

    A first-order solver for sizes where the semidefinite program of
    :func:`mfbook.min_nuclear_norm` does not scale (it refuses :math:`d_1 + d_2 > 64`); batched over
    observation patterns. With :math:`\\Pi(Y)` the matrix :math:`Y` with its observed entries set to
    :math:`M` and :math:`\\mathrm{prox}_t` singular value soft-thresholding by :math:`t`, the iteration

    .. math:: X_k = \\Pi(Y_k),\\qquad Z_k = \\mathrm{prox}_t(2X_k - Y_k),\\qquad Y_{k+1} = Y_k + Z_k - X_k

    converges for every :math:`t > 0` and :math:`X_k` tends to a minimizer (Douglas-Rachford
    splitting of the nuclear norm and the indicator of the affine constraint; Lions & Mercier
    1979). Every :math:`X_k` fits the observations exactly; the run stops once
    :math:`\\|Z_k - X_k\\|_F \\le` ``tol`` :math:`\\cdot\\|\\mathcal P_{S_x}(M)\\|_F` (the distance from
    :math:`X_k` to the nuclear-norm step, zero exactly at a fixed point).

    Parameters
    ----------
    values : array_like (d1, d2) or (R, d1, d2)
    masks : array_like of bool (R, d1, d2)
    tol : float
    max_iter : int
    step : float or None
        :math:`t`; by default :math:`\\|\\mathcal P_{S_x}(M)\\|_F / \\sqrt{\\min(d_1, d_2)}` per pattern,
        the scale of one singular value of the data.

    Returns
    -------
    dict with ``W`` (R, d1, d2), ``nuclear`` (R,) (its nuclear norm), ``iterations`` (R,) and
    ``residual`` (R,) (the final relative :math:`\\|Z_k - X_k\\|_F`).

    Raises
    ------
    ValueError
        On inconsistent shapes.

    Explained in: chapter 6.
    """
    values, masks = _check_batch(values, masks)
    R, d1, d2 = masks.shape
    scale = np.linalg.norm(values, axis=(1, 2))
    scale = np.where(scale > 0, scale, 1.0)
    t = scale / np.sqrt(min(d1, d2)) if step is None else np.broadcast_to(np.asarray(step, float), (R,))
    W = np.empty((R, d1, d2))
    residual = np.full(R, np.inf)
    iterations = np.full(R, int(max_iter))
    act = np.arange(R)
    Y, V, P, tt, sc = values.copy(), values, masks, t[:, None], scale
    for it in range(1, int(max_iter) + 1):
        X = np.where(P, V, Y)
        U, sv, Vt = np.linalg.svd(2 * X - Y, full_matrices=False)
        Z = (U * np.maximum(sv - tt, 0.0)[:, None, :]) @ Vt
        gap = np.linalg.norm(Z - X, axis=(1, 2)) / sc
        Y = Y + Z - X
        done = (gap <= tol) | (it == max_iter)
        if done.any():
            W[act[done]], residual[act[done]], iterations[act[done]] = X[done], gap[done], it
            keep = ~done
            act, Y, V, P, tt, sc = act[keep], Y[keep], V[keep], P[keep], tt[keep], sc[keep]
            if not act.size:
                break
    nuclear = np.linalg.svd(W, compute_uv=False).sum(axis=1)
    return {"W": W, "nuclear": nuclear, "iterations": iterations, "residual": residual}


def hidden_entry_error(W, M, masks) -> np.ndarray:
    """Relative error on the unobserved entries, :math:`\\|\\mathcal P_{S_x^c}(W - M)\\|_F / \\|\\mathcal P_{S_x^c}(M)\\|_F`.

    The test error of a completion (Arora et al. 2019 plot the error on all entries; the observed
    ones are fitted by every method here, so the two differ only by the normalization).

    Parameters
    ----------
    W : array_like (..., d1, d2)
    M : array_like (d1, d2)
    masks : array_like of bool (..., d1, d2)

    Returns
    -------
    ndarray (...)

    Explained in: chapter 6.
    """
    W, M, masks = np.asarray(W, float), np.asarray(M, float), np.asarray(masks, bool)
    hidden = ~masks
    num = np.linalg.norm(np.where(hidden, W - M, 0.0), axis=(-2, -1))
    den = np.linalg.norm(np.where(hidden, M, 0.0), axis=(-2, -1))
    if np.any(den == 0):
        raise ValueError("a pattern hides no entry of M with a non-zero value: the test error is undefined")
    return num / den
