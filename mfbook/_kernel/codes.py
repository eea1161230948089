"""Integer codes shared by the compiled kernel and :mod:`mfbook.limit`, in one place.

Compiled functions return plain integers; these names say what they mean. The Python side turns them
into words with :data:`STATUS_NAMES` and :data:`ROUTE_NAMES`.

(Constant flags passed to compiled functions are written ``np.bool_(...)``, ``np.int64(...)``: numba
compiles a function again for every literal value it is called with.)
"""

#: how a transit ended
REACHED, TIMEOUT, UNBOUNDED = 0, 1, 2

#: how a path ended (the third status is UNBOUNDED, above; the fourth, NOT_SETTLED: a stage of the
#: narrow path crawled -- its transit did not reach a critical point within its budget -- and where
#: the alpha -> 0 limit goes from there is not settled: floating-point training from alpha = 1e-15 and
#: 1e-30 ends such runs at points O(1) apart, tests/test_crawl.py)
CONVERGED, STALLED, NOT_SETTLED = 0, 1, 3

#: a path is CONVERGED only where the gradient is below this fraction of its scale: Newton polishes
#: critical points to ~1e-14, while a crawl that slowed below the plateau test (seen at width 1 on
#: "0 1; 2 *", whose infimum is not attained) sits near 1e-4; such a path is STALLED
SETTLED = 1e-8

#: a run whose narrow pass crawls is computed again only up to this many parameters (a 4 x 4 problem
#: has 32), at full width (mfbook.limit._passes), or, for a component of a disconnected problem,
#: carrying its initial direction (mfbook.limit._components_pass): its status is "not settled" either way, and
#: at full width each step costs a dense Hessian eigendecomposition (p^3), which at d = 10 (200
#: parameters) made such a run slower than the authors' training recipe, while carrying the direction
#: took 60 s on a d = 100 component; larger runs end where the crawl stopped
CRAWL_FULL_WIDTH = 64

#: how a pass ended: done, or left for another pass (mfbook.limit._passes)
DONE, DEGENERATE, CRAWLS = 0, 1, 2

#: which pass gave the result
NARROW, FULL_WIDTH, FULL_WIDTH_CARRYING, NARROW_CARRYING, BY_COMPONENTS = 0, 1, 2, 3, 4
#: how the passes of a run ended (mfbook.limit._passes): DONE, or the stage at which it needs the initial direction (it is called
#: again from there with it), or NUMPY: the full width is needed and the problem is too large for the
#: compiled loops
START, COMPONENTS, CARRY, FULL, FULL_CARRY, NUMPY = 0, 3, 4, 5, 6, 7

#: the words for the status codes CONVERGED, STALLED, UNBOUNDED, NOT_SETTLED (LimitResult.status)
STATUS_NAMES = ("converged", "stalled", "unbounded", "not settled")
#: the words for the pass codes NARROW ... BY_COMPONENTS (LimitResult.method)
ROUTE_NAMES = ("narrow", "full width", "full width carrying", "narrow carrying", "components")
