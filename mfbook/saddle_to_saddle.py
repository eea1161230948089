r"""The small-initialization limit, one problem at a time: the reference implementation.

As :math:`\alpha \to 0`, gradient flow on :math:`W = AB` started at :math:`\alpha\theta_0` spends ever
longer near a sequence of critical points :math:`0 = \theta_c^{(0)}, \theta_c^{(1)}, \dots` and travels
between them along the direction of fastest escape (Bai, Zhao & Zhang 2024, Theorem 2; Li, Luo &
Lyu 2021 for connected problems). This module follows that path directly, for one problem, at the
full inner width :math:`d`, always carrying the initial direction :math:`\delta = \theta_0/\|\theta_0\|`:

1. **Escape.** At a critical point :math:`\theta_c` take :math:`H = \nabla^2 R_S(\theta_c)` and
   :math:`\lambda_1 = \lambda_{\max}(-H)`. If :math:`\lambda_1 \le 0` (up to a tolerance) the point is a
   minimum and the path ends. Otherwise the flow from :math:`\theta_c + \alpha\delta` leaves along the part
   of :math:`\delta` in the top eigenspace of :math:`-H` (it grows fastest, like :math:`e^{\lambda_1 t}`): the
   unit vector :math:`v` of that projection, taken on the connected pieces of the observed entries
   that the eigenspace lives on (its eigenvectors' rounding errors elsewhere set to 0: the part of
   :math:`\delta` in a piece that has not escaped yet shrinks, relative to the rest, far below rounding
   errors, and keeps its direction only on its piece).
2. **Transit.** Start on the unstable manifold, :math:`\theta(0) = \theta_c + \varepsilon v + \varepsilon^2 u`
   with :math:`(2\lambda_1 I + H)u = -\tfrac12\nabla^3 R_S(\theta_c)[v, v]` and :math:`\varepsilon = 10^{-5}`
   times the size of a fit, and integrate :math:`\dot\theta = -\nabla R_S(\theta)` together with the
   variational equation of the direction,
   :math:`\dot\delta = -H(\theta)\delta + (\delta^\top H(\theta)\delta)\,\delta` (kept on the unit sphere),
   by scipy's DOP853. Of the rest of :math:`\delta` (outside the top eigenspace) only its part in one
   eigenspace of :math:`-H` is carried, on each piece of the observed entries where the escape
   happens: the eigenspace of the largest eigenvalue :math:`\mu` it has a part in. (Before leaving, the
   flow from :math:`\alpha\theta_0` stays near :math:`\theta_c` for a time :math:`\log(1/\alpha)/\lambda_1`, and
   a part of eigenvalue :math:`\mu` grows by :math:`\alpha^{-\mu/\lambda_1}`: all other parts are smaller by
   a power of :math:`\alpha` and vanish in the limit. The transit starts on the manifold and skips that
   time, so the filter stands for it.) It is transported by the variational equation, and its
   projection leads the next escape. The flow
   commutes with the rotations :math:`(A, B) \mapsto (AU, U^\top B)` of the inner space, so the transit
   is computed in inner coordinates whose first :math:`r` axes span the inner directions used by
   :math:`\theta_c` and :math:`v`: the other columns of :math:`A` and rows of :math:`B` are exactly 0 and stay
   so. Likewise the rows of :math:`A` and columns of :math:`B` of a connected piece of the observed
   entries that neither :math:`\theta_c` nor :math:`v` uses are set to exactly 0, and the flow keeps them
   so until that piece's own escape. (Left to rounding errors, either would grow near a slowly
   approached critical point and end its stage early, as in training from
   :math:`\alpha \approx 10^{-16}`, which is not the limit.)
3. **Plateau.** The transit ends when the gradient has fallen below :math:`10^{-8}` of its peak on
   this transit (not much lower: near a minimum the explicit integrator's steps stall at a gradient
   set by ``rtol``), or when it has passed through a plateau (below :math:`10^{-3}` of the peak, then up
   again 30-fold: rounding errors lead away from a saddle), at its lowest gradient, or when it has
   stayed below :math:`10^{-6}` of the peak for 100 steps and the loss rose on a quarter of them or more
   (the integrator's floor: its steps at their stability limit ring around the point; exact
   gradient flow lowers the loss, and so does a crawl, at every step). Newton steps
   (pseudo-inverse of the Hessian) polish the critical point, and the path goes back to 1.
4. **Crawl and unbounded growth.** A transit that does not settle within its budget (time
   :math:`200\log(10^9)/\lambda_1` or 5000 steps) ends the path as ``"not settled"``: the flow crawls,
   and where it would end as :math:`\alpha \to 0` is not settled (floating-point training from
   :math:`\alpha = 10^{-15}` and :math:`10^{-30}` ends such problems at points O(1) apart). A plateau
   of the same rank as the one before and not half its loss (no progress) ends it as ``"stalled"``,
   or as ``"unbounded"`` if the factors grew meanwhile (the infimum is not attained). Factors larger than
   :math:`10^3` times the size of a fit end the path as ``"unbounded"`` at once.

Every tolerance is relative to the data's scale (scaling :math:`M` by :math:`c` scales :math:`\theta` by
:math:`\sqrt c`, time by :math:`1/c`, and changes nothing else). ``mfbook.small_init_limit`` computes the
same path compiled (narrower factors, a longer series start, an earlier stop finished by Newton);
``tests/test_saddle_to_saddle.py`` says where the two agree and why they may differ.

Explained in: chapter 4 (Training dynamics).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import DOP853
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .completion import Completion, as_completion
from .factorization import hessian, hessian_vector_product, init_factors, loss_gradient
from .rank import numerical_rank

__all__ = ["LimitResult", "Saddle", "saddle_to_saddle"]

EPS = 1e-5          # departure distance, relative to the size of a fit (the start is exact to O(eps^3))
GTOL = 1e-8         # a plateau: gradient below this fraction of its peak on the transit
FLOOR = 1e-6        # ... or below this fraction for WINDOW steps with the loss rising on a quarter of them
WINDOW = 100        # or more: the integrator's floor (exact flow, and a crawl, lower the loss at each step)
MAX_STEPS = 5000    # integrator steps per transit before it counts as not settling (a crawl)
BIG = 1e3           # factors beyond this many times the size of a fit: unbounded growth
EIG_GROUP = 1e-6    # eigenvalues of -H within this (relative to lambda_1) form the top eigenspace
MIN_RATE = 1e-9     # lambda_1 below this (relative to the gradient scale) counts as a minimum
POLISH_TOL = 1e-14  # Newton stops once the gradient is at the level of rounding errors (relative)
ROUNDING = 1e-12    # parts of theta (relative to a fit) and of a unit v below this are rounding errors
LEADING = 1e-10     # a carried direction has a part in an eigenspace when it is above this (relative)


@dataclass
class Saddle:
    """A critical point visited on the limit path.

    Attributes
    ----------
    W : ndarray
        :math:`W_c = A_c B_c` at the critical point.
    loss : float
        :math:`R_S(\\theta_c)`, the height of the plateau.
    rank : int
        Numerical rank of :math:`W_c`.
    rate : float
        :math:`\\lambda_1`, the top eigenvalue of :math:`-\\nabla^2 R_S(\\theta_c)` (0 or less at a minimum).
    multiplicity : int
        Dimension of the top eigenspace (the escape directions).

    Explained in: chapter 4 (Training dynamics) and the appendix "How the limit is computed".
    """

    W: np.ndarray
    loss: float
    rank: int
    rate: float
    multiplicity: int


@dataclass
class LimitResult:
    """The :math:`\\alpha \\to 0` limit of gradient flow for one problem.

    Attributes
    ----------
    W : ndarray, shape (d1, d2)
        The limit :math:`\\widehat W = \\lim_{\\alpha\\to0} W_\\infty(\\alpha\\theta_0)`.
    A, B : ndarray
        Factors of ``W`` at the end of the path.
    saddles : list of Saddle
        The critical points visited, from :math:`\\theta = 0` to the final minimum (last entry).
    phases : list of dict
        For each departure, the transit: ``t`` (time since leaving at distance
        :math:`\\varepsilon`), ``loss``, ``W``, ``A`` and ``B`` at each integrator step (only when
        ``record=True``).
    status : str
        ``"converged"``: the path ended at a minimum (the last saddle has :math:`\\lambda_1 \\le 0`).
        ``"unbounded"``: the loss keeps decreasing while :math:`\\|A\\|, \\|B\\|` grow without bound
        (the infimum of the loss is not attained); ``W`` is the last state, not a limit.
        ``"stalled"``: no progress between two plateaus of the same rank, or the path visited
        ``max_saddles`` critical points without reaching a minimum.
        ``"not settled"``: a stage crawled (a transit did not reach a critical point within its
        budget), and where the flow goes from there as :math:`\alpha \to 0` is not settled: training
        at ever smaller :math:`\alpha` ends at different points. ``W`` is then the end point of the
        flow at full width with its unused inner directions seeded by rounding errors (a fit, as
        training at :math:`\alpha \approx 10^{-16}` would give) where that runs compiled, else where
        the crawl stopped; either way not a limit.
    method : str
        How the path was computed (see the module docstring): ``"narrow"`` (factors only as wide
        as the rank so far), ``"narrow carrying"`` (the same, carrying the initial direction through
        a degenerate escape), ``"components"`` (observed entries in several components, each
        followed on its own), ``"full width"`` (again at full width because a narrow stage crawled),
        ``"full width carrying"`` (at full width carrying the initial direction, for a degenerate
        escape) or ``"reference"`` (:mod:`mfbook.saddle_to_saddle`: full width, always carrying it).

    Explained in: chapter 4 (Training dynamics) and the appendix "How the limit is computed".
    """

    problem: Completion
    W: np.ndarray
    A: np.ndarray
    B: np.ndarray
    saddles: list
    phases: list = field(default_factory=list)
    status: str = "converged"
    method: str = "reference"

    @property
    def rank(self) -> int:
        """Numerical rank of the limit."""
        return int(numerical_rank(self.W))

    @property
    def ranks(self) -> list[int]:
        """Rank of :math:`W` at each plateau, ending with the limit's rank."""
        return [s.rank for s in self.saddles]

    @property
    def plateaus(self) -> np.ndarray:
        """Loss at each plateau (the last is the final loss, about 0)."""
        return np.array([s.loss for s in self.saddles])

    @property
    def loss(self) -> float:
        return self.saddles[-1].loss


class _Problem:
    """One completion problem at inner width d, with theta = (vec A, vec B) flattened row-major."""

    def __init__(self, problem, width):
        self.q = as_completion(problem)
        self.d1, self.d2 = self.q.shape
        self.d = max(self.q.shape) if width is None else int(width)
        self.pa = self.d1 * self.d
        self.p = self.pa + self.d * self.d2
        size = np.linalg.norm(self.q.values[self.q.mask])          # |P(M)|_F
        self.gscale = max(2.0 * size / self.q.n_observed, 1e-300)   # |grad_W R| at W = 0
        self.tscale = np.sqrt(2.0 * np.sqrt(min(self.q.shape)) * max(size, 1e-300))  # |theta| of a fit
        self.gtheta = self.gscale * self.tscale                     # |grad_theta R| at a fit's scale
        self.wscale = max(np.abs(self.q.values).max(), 1e-300)      # |W_ij| of a fit
        # the entries of theta (rows of A, columns of B) of each connected piece of the observed entries
        # (the bipartite graph: rows 0..d1-1, then the columns)
        i, j = np.nonzero(self.q.mask)
        graph = coo_matrix((np.ones(i.size), (i, self.d1 + j)), shape=(self.d1 + self.d2,) * 2)
        _, label = connected_components(graph, directed=False)
        k = np.arange(self.d)
        self.pieces = [np.r_[(np.flatnonzero(label[:self.d1] == c)[:, None] * self.d + k).ravel(),
                             (self.pa + k[:, None] * self.d2 + np.flatnonzero(label[self.d1:] == c)).ravel()]
                       for c in np.unique(label)]

    def factors(self, theta):
        return theta[:self.pa].reshape(self.d1, self.d), theta[self.pa:self.p].reshape(self.d, self.d2)

    def loss_grad(self, theta):
        """R_S(theta) and its gradient (E B^T, A^T E), E = (2/n) P(AB - M)."""
        loss, (gA, gB) = loss_gradient(list(self.factors(theta)), self.q.values, self.q.mask)
        return float(loss), np.concatenate([gA.ravel(), gB.ravel()])

    def hessian(self, theta):
        return hessian(*self.factors(theta), self.q.values, self.q.mask)

    def hvp(self, theta, v):
        """H(theta) v without forming H."""
        HX, HY = hessian_vector_product(*self.factors(theta), *self.factors(v), self.q.values, self.q.mask)
        return np.concatenate([HX.ravel(), HY.ravel()])


def _unstable_manifold_start(P, theta, v, lam, w, Q, eps):
    """theta_c + eps v + eps^2 u, the unstable manifold to second order.

    On the manifold theta(s) = theta_c + s v + s^2 u + O(s^3) the flow is ds/dt = lambda_1 s; the
    s^2 terms of d theta/dt = -grad R give (2 lambda_1 I + H) u = -c with c the s^2 coefficient of
    grad R(theta_c + s v), i.e. c = (E2 B^T + E1 Y^T, A^T E2 + X^T E1) for v = (X, Y),
    E1 = (2/n) P(XB + AY), E2 = (2/n) P(XY). Solved in the eigenbasis of -H (eigenvalues w)."""
    A, B = P.factors(theta)
    X, Y = P.factors(v)
    Ms = np.where(P.q.mask, 2.0 / P.q.n_observed, 0.0)
    E1, E2 = Ms * (X @ B + A @ Y), Ms * (X @ Y)
    c = np.concatenate([(E2 @ B.T + E1 @ Y.T).ravel(), (A.T @ E2 + X.T @ E1).ravel()])
    u = Q @ ((Q.T @ -c) / (2.0 * lam - w))
    return theta + eps * v + eps ** 2 * u


def _untouched_pieces_zeroed(P, start, theta, v):
    """``start`` with the rows of A and columns of B of every connected piece of the observed entries
    that neither theta nor v uses (their parts at rounding level) set to exactly 0. The flow keeps
    such a piece's factors 0 (its gradient is a product with them); left to rounding errors, they
    would grow at the piece's own escape rate and, near a slowly approached critical point, fit it
    before that point is reached -- a path the limit does not take (measured on a 4 x 4 problem with
    two pieces, before either safeguard: the reference skipped a plateau and ended at rank 1, while
    gradient flow from alpha = 1e-12 and 1e-16 and the compiled solver end at rank 2). Those rounding
    errors came from the escape direction, which :func:`_on_their_pieces` now keeps at 0 on such a
    piece as well; what this leaves to zero are the critical point's (after Newton) and the start's
    second-order term's (measured on 180 small runs: at most 2e-13 of a change in W)."""
    start = start.copy()
    for entries in P.pieces:
        if np.abs(theta[entries]).max(initial=0.0) <= ROUNDING * P.tscale and \
                np.abs(v[entries]).max(initial=0.0) <= ROUNDING:      # (v has unit length)
            start[entries] = 0.0
    return start


def _on_their_pieces(P, Qt):
    """The eigenvectors ``Qt`` with their rounding errors on the pieces of the observed entries where
    they vanish (all entries below ``ROUNDING``) set to exactly 0, and the entries of theta on the
    other pieces (a boolean mask). Projected through the raw eigenvectors, the part of the carried
    direction in a piece that has not escaped yet -- it shrinks relative to the rest, like
    :math:`e^{-(\\lambda - \\lambda')t}`, until it is far below the rounding errors -- would be lost
    among the rounding errors times the rest; on its piece alone it keeps its direction."""
    Qt = Qt.copy()
    inside = np.zeros(P.p, bool)
    for entries in P.pieces:
        if np.abs(Qt[entries]).max(initial=0.0) <= ROUNDING:
            Qt[entries] = 0.0
        else:
            inside[entries] = True
    return Qt, inside


def _leading_part(P, H, rest, inside, lam):
    """What of the carried direction ``rest`` (its part outside the escape space) can lead a later
    escape as :math:`\\alpha \\to 0`: on each piece of the observed entries where the escape happens
    (``inside``), only its part in the eigenspace of -H (on that piece) of the largest eigenvalue
    that it has a part in (above ``LEADING`` of its size); elsewhere all of it.

    Before the flow leaves the critical point it stays near it for a time :math:`\\log(1/\\alpha)/\\lambda_1`,
    and a part of the direction in an eigenspace of eigenvalue :math:`\\mu` grows like
    :math:`\\alpha^{-\\mu/\\lambda_1}`: relative to the part of the largest :math:`\\mu`, every other part is
    smaller by a power of :math:`\\alpha`, and it vanishes in the limit. (The path starts from the
    unstable manifold and skips that time, so it drops those parts here.) The pieces decouple: a piece
    that does not escape now keeps its whole part until its own escape."""
    out = rest.copy()
    for entries in P.pieces:
        part = rest[entries]
        size = np.linalg.norm(part)
        if not inside[entries].any() or size == 0.0:
            continue
        mu, Q = np.linalg.eigh(-H[np.ix_(entries, entries)])
        c = Q.T @ part
        top = mu[np.abs(c) > LEADING * size].max(initial=-np.inf)
        if top == -np.inf:
            continue
        group = np.abs(mu - top) <= EIG_GROUP * max(abs(lam), P.gscale)
        out[entries] = Q[:, group] @ c[group]
    return out


def _inner_basis(P, theta, v):
    """An orthonormal basis U of the inner space R^d whose first r vectors span the inner
    directions that theta and v use (the column spaces of A^T, B, X^T, Y)."""
    (A, B), (X, Y) = P.factors(theta), P.factors(v)
    U, s, _ = np.linalg.svd(np.hstack([A.T, B, X.T, Y]))
    return U, int(np.sum(s > 1e-12 * s[0]))


def _rotate(P, theta, U):
    """The symmetry (A, B) -> (A U, U^T B) (U orthogonal): it maps flows to flows."""
    A, B = P.factors(theta)
    return np.r_[(A @ U).ravel(), (U.T @ B).ravel()]


def _transit(P, theta, delta, lam, rtol, record):
    """Integrate (theta, delta) from just off a saddle to the next plateau.

    Returns (theta, delta, outcome, phase) with outcome ``"plateau"``, ``"unbounded"`` or
    ``"timeout"`` and phase the recorded path (``None`` unless ``record``)."""
    p = P.p

    def rhs(t, y):   # d/dt (theta, delta) = (-grad R, -H delta + (delta' H delta) delta)
        th, de = y[:p], y[p:]
        Hd = P.hvp(th, de)
        return np.concatenate([-P.loss_grad(th)[1], -Hd + (de @ Hd) * de])

    eps = EPS * P.tscale
    atol = np.r_[np.full(p, 1e-6 * eps), np.full(p, 1e-6 * EPS)]   # theta: far below eps; delta: unit
    y0 = np.r_[theta, delta]
    solver = DOP853(rhs, 0.0, y0, t_bound=200 * np.log(1e9) / lam, rtol=rtol, atol=atol,
                    first_step=0.05 / lam)
    loss0 = P.loss_grad(theta)[0]
    escaped, gpeak, gbest, best = False, 0.0, np.inf, y0
    below, rises, last = 0, 0, np.inf     # steps below FLOOR in a row, loss rises among them, last loss
    ts, path = [0.0], [theta.copy()]
    outcome = "timeout"
    for _ in range(MAX_STEPS):
        if solver.status != "running":
            break
        solver.step()
        y = solver.y
        if record:
            ts.append(solver.t)
            path.append(y[:p].copy())
        loss, g = P.loss_grad(y[:p])
        gn = np.linalg.norm(g)
        escaped = escaped or loss < loss0 * (1 - 1e-6)    # the loss has left the saddle's level
        if not escaped:
            continue
        gpeak = max(gpeak, gn)
        if gn < gbest:
            gbest, best = gn, y.copy()
        if gn < GTOL * gpeak:                            # settled on a plateau
            outcome = "plateau"
            break
        if gbest < 1e-3 * gpeak and gn > 30 * gbest:     # passed a plateau that rounding errors leave
            y, outcome = best, "plateau"
            break
        below, rises = (below + 1, rises + (loss > last)) if gn < FLOOR * gpeak else (0, 0)
        last = loss if below else np.inf
        if below and below % WINDOW == 0:
            if 4 * rises >= WINDOW:                      # the integrator's floor, not a crawl
                y, outcome = best, "plateau"
                break
            rises = 0
        if y[:p] @ y[:p] > (BIG * P.tscale) ** 2:       # the factors grow without bound
            outcome = "unbounded"
            break
    phase = None
    if record:
        path = np.array(path)
        A, B = path[:, :P.pa].reshape(-1, P.d1, P.d), path[:, P.pa:].reshape(-1, P.d, P.d2)
        phase = {"t": np.array(ts), "loss": P.q.loss(A @ B), "W": A @ B, "A": A, "B": B}
    return y[:p].copy(), y[p:] / np.linalg.norm(y[p:]), outcome, phase


def _newton_polish(P, theta, iters=4):
    """Pseudo-inverse Newton steps on grad R = 0 (theta <- theta - H^+ grad R), each kept only if it
    lowers the gradient; none once the gradient is at the level of rounding errors."""
    g = P.loss_grad(theta)[1]
    for _ in range(iters):
        if np.linalg.norm(g) <= POLISH_TOL * P.gtheta:
            break
        trial = theta - np.linalg.pinv(P.hessian(theta), rcond=1e-10, hermitian=True) @ g
        gt = P.loss_grad(trial)[1]
        if not np.linalg.norm(gt) < np.linalg.norm(g):
            break
        theta, g = trial, gt
    return theta


def saddle_to_saddle(problem, seed=0, width: int | None = None, rtol: float = 1e-10,
                     max_saddles: int | None = None, record: bool = True):
    """The :math:`\\alpha \\to 0` limit of gradient flow from :math:`\\alpha\\theta_0`, saddle to saddle.

    The algorithm of the module docstring, for one problem at full width. ``seed`` draws
    :math:`\\theta_0` exactly as :func:`mfbook.init_factors` (and so as :func:`mfbook.gradient_flow`
    and :func:`mfbook.small_init_limit`) does.

    Parameters
    ----------
    problem : Completion or str
    seed : int
        Seed of the initial direction :math:`\\theta_0`.
    width : int, optional
        Inner width :math:`d` (default :math:`\\max(d_1, d_2)`).
    rtol : float
        Relative tolerance of the integrator (DOP853) between saddles.
    max_saddles : int, optional
        Stop after this many departures (default :math:`\\min(d_1, d_2) + 2`).
    record : bool
        Keep each transit in ``.phases``: dicts with ``t`` (time since leaving the saddle at
        distance :math:`\\varepsilon`), ``loss``, ``W``, ``A`` and ``B`` at every integrator step.

    Returns
    -------
    mfbook.LimitResult
        With ``method == "reference"``.

    Explained in: chapter 4 (Training dynamics).
    """

    P = _Problem(problem, width)
    limit = min(P.q.shape) + 2 if max_saddles is None else int(max_saddles)
    A0, B0 = init_factors(P.q.shape, 1.0, seed, width=P.d)          # the same draw as training
    delta = np.r_[A0.ravel(), B0.ravel()]
    delta /= np.linalg.norm(delta)
    fallback = np.random.default_rng(seed + 7919)   # only if delta misses the escape space
    theta = np.zeros(P.p)
    saddles, phases, status, last_norm = [], [], "converged", 0.0
    for level in range(limit + 1):
        if level > 0:
            theta = _newton_polish(P, theta)                 # the critical point, to rounding level
        H = P.hessian(theta)
        w, Q = np.linalg.eigh(-H)                                    # ascending: lambda_1 = w[-1]
        lam = w[-1]
        top = w >= lam - EIG_GROUP * max(abs(lam), P.gscale)
        A, B = P.factors(theta)
        loss = P.loss_grad(theta)[0]
        saddles.append(Saddle(A @ B, loss, int(numerical_rank(A @ B)), float(lam), int(top.sum())))
        done = lam <= MIN_RATE * P.gscale                            # a minimum
        tnorm = np.linalg.norm(theta)
        if not done and level >= 2 and saddles[-1].rank == saddles[-2].rank \
                and loss > 0.5 * saddles[-2].loss:                   # no progress: a crawl
            status, done = ("unbounded" if tnorm > last_norm * (1 + 1e-6) else "stalled"), True
        last_norm = tnorm
        if not done and level == limit:
            status, done = "stalled", True
        if done:
            break
        Qt, inside = _on_their_pieces(P, Q[:, top])
        v = Qt @ (Qt.T @ delta)                                      # delta in the escape space
        if np.linalg.norm(v) < 1e-6 * np.linalg.norm(delta[inside]):
            v = Qt @ (Qt.T @ fallback.standard_normal(P.p))
        carried = _leading_part(P, H, delta - Qt @ (Qt.T @ delta), inside, lam)  # ... and what leads next
        delta = carried / max(np.linalg.norm(carried), 1e-300)
        v /= np.linalg.norm(v)
        start = _unstable_manifold_start(P, theta, v, lam, w, Q, EPS * P.tscale)
        start = _untouched_pieces_zeroed(P, start, theta, v)
        # in inner coordinates whose first r axes carry theta and v, the flow keeps the other
        # d - r columns of A and rows of B exactly 0: set them to 0 (they hold rounding errors)
        U, r = _inner_basis(P, theta, v)
        start, delta = _rotate(P, start, U), _rotate(P, delta, U)
        A, B = P.factors(start)
        A[:, r:], B[r:] = 0.0, 0.0
        theta, delta, outcome, phase = _transit(P, start, delta, lam, rtol, record)
        if record:
            phases.append(phase)
        if outcome != "plateau":       # unbounded growth, or a crawl: no plateau within the budget
            status = "unbounded" if outcome == "unbounded" else "not settled"
            break
    A, B = P.factors(theta)
    return LimitResult(P.q, A @ B, A.copy(), B.copy(), saddles, phases, status, "reference")
