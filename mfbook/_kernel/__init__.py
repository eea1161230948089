"""The compiled kernel (numba) of the small-initialization limit and of gradient flow, one module per idea.

- :mod:`.codes`: the integer codes the compiled functions return, and their words;
- :mod:`.loss`: :math:`R_S`, its gradient, Hessian-vector products and Hessian on :math:`\\theta = (A, B)`;
- :mod:`.linalg`: small dense linear algebra (Jacobi SVD, Cholesky, LU, balanced factors);
- :mod:`.newton`: Newton steps that finish the approach to a critical point;
- :mod:`.integrator`: Dormand-Prince 8(5,3) steps, the transit between plateaus, gradient flow;
- :mod:`.manifold`: the unstable manifold of a saddle as a power series;
- :mod:`.path`: the saddle-to-saddle path of one problem (narrow and full width);
- :mod:`.components`: a problem taken one connected piece of its observations at a time.

The passes of a run are called one by one from Python (:func:`mfbook.limit._passes`), each compiled
when first needed: numba links a function's callees into its own machine code, so a compiled
driver of the passes would have compiled all of them once more (measured: 13 s of a 76 s cold
compile went to the two driver levels).

The algorithm is the one of :mod:`mfbook.saddle_to_saddle` (the readable reference, which the tests
compare this kernel with); this package only makes it fast. Explicit loops and work space, no
temporaries: for the book's problems a right-hand side costs a fraction of a microsecond instead of
tens of microseconds of NumPy call overhead.

**Caching.** numba compiles these functions once per machine (about a minute for all of
them) and caches the machine code; on a fresh runtime a background process compiles them while single
small problems go to the reference (:func:`ready`). The cache is keyed by the content of all the
kernel's modules at once (this file aside: it compiles nothing), so a change in any of them
recompiles every function (numba alone would only notice changes in a function's own file); it is
written to the first writable place of: ``$NUMBA_CACHE_DIR``, the package's ``__pycache__``, the
user's cache folder, the system's temporary folder -- so a read-only installation with an unwritable
home still imports and caches.

Explained in: the appendix "How the limit is computed".
"""
import contextlib
import hashlib
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from numba.core import caching, config

_HERE = pathlib.Path(__file__).resolve().parent


def _kernel_stamp() -> str:
    digest = hashlib.sha256()
    for path in sorted(_HERE.glob("*.py")):
        if path.name == "__init__.py":      # no compiled function here: its edits need no recompile
            continue
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class _KernelCacheLocator(caching._CacheLocator):
    """Where numba caches the kernel's compiled functions (see the module docstring)."""

    stamp = _kernel_stamp()

    def __init__(self, py_func, path, py_file=None):
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = path
        self._py_file = py_file or py_func.__code__.co_filename    # (numba names it in its warnings)

    def get_cache_path(self):
        return self._cache_path

    def get_source_stamp(self):
        return self.stamp

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        if pathlib.Path(py_file).resolve().parent != _HERE:
            return None                        # not ours: numba's own locators decide
        sub = cls.get_suitable_cache_subpath(py_file)
        places = [os.path.join(os.environ["NUMBA_CACHE_DIR"], sub)] if os.environ.get("NUMBA_CACHE_DIR") else []
        places += [str(_HERE / "__pycache__"),
                   os.path.join(os.path.expanduser("~"), ".cache", "mfbook-numba", sub),
                   os.path.join(tempfile.gettempdir(), f"mfbook-numba-{os.getuid() if hasattr(os, 'getuid') else 0}",
                                sub)]
        for place in places:
            locator = cls(py_func, place, py_file)
            try:
                locator.ensure_cache_path()
            except OSError:
                continue
            return locator
        return None


if _KernelCacheLocator not in caching.CacheImpl._locator_classes:
    caching.CacheImpl._locator_classes.insert(0, _KernelCacheLocator)

from . import codes  # noqa: E402  (after the locator: the modules below compile with cache=True)
from .components import (component_counts, component_factors, component_problem, components,  # noqa: E402
                         escape_direction, merged_path)
from .linalg import LAPACK_CHOLESKY  # noqa: E402
from .integrator import flow  # noqa: E402
from .loss import gradient_norms, problem_scales  # noqa: E402
from .path import limit_path, limit_path_narrow  # noqa: E402

#: LLVM's optimization level for the kernel: the same speed as 2 and 3 on the book's problems (4 x 4
#: example 0.606, 0.593, 0.609 ms), and the shortest compile that is still cached (measured with the
#: earlier single-entry kernel: 67 s, against 73 s at 2 and 95 s at numba's default 3)
OPT_LEVEL = 1


#: how the kernel is compiled when no cached machine code fits (the environment variable
#: ``MFBOOK_COMPILE``): ``"background"`` (the default) -- ``python -m mfbook compile`` compiles it part
#: by part in separate processes (about a minute) while :func:`ready` sends single small problems of
#: the limit solver to the readable reference solver; larger batches wait for the parts they need,
#: and gradient flow waits for its own part (about ten seconds; SciPy's integrator would take other
#: steps, and the chapters' checks look at the recorded points);
#: ``"foreground"`` -- the calling process compiles it on first use (``python -m mfbook compile`` does
#: this once for a machine; the Makefile and the tests do)
COMPILE_MODES = ("background", "foreground")

#: the compiled entry points each part needs: all of them cached means the part is ready. The parts
#: are compiled one by one (two at a time: ``python -m mfbook compile``), so a run that needs only the
#: narrow pass (most do) starts before the others are compiled; ``"limit"`` is the limit solver's
#: three parts together
_PARTS = {"narrow": ("problem_scales", "component_counts", "gradient_norms", "limit_path_narrow"),
          "components": ("components", "component_problem", "escape_direction", "component_factors",
                         "merged_path"),
          "full": ("limit_path",),
          "flow": ("flow",)}
_PARTS["limit"] = _PARTS["narrow"] + _PARTS["components"] + _PARTS["full"]
_READY = set()
_WAITING = {"narrow": "a batch or a large problem is not worth the reference solver",
            "components": "a run whose observations form several components",
            "full": "a run that needs the full width", "limit": "the limit solver",
            "flow": "gradient flow's part: about ten seconds"}
_BACKGROUND = None      # the compiling process (subprocess.Popen), once started by this one


def _cached(entry) -> bool:
    """Does ``entry`` (a compiled function) have machine code here or in its cache that fits?"""
    try:
        return bool(entry.signatures) or bool(entry._cache._cache_file._load_index())
    except Exception:  # pragma: no cover - a cache numba cannot read: it compiles anyway
        return False


def _part_cached(part) -> bool:
    """Are all the compiled entry points of ``part`` (:data:`_PARTS`) cached?"""
    return all(_cached(globals()[name]) for name in _PARTS[part])


def compile_mode() -> str:
    """``MFBOOK_COMPILE``, checked: one of :data:`COMPILE_MODES` (``"background"`` when unset)."""
    mode = os.environ.get("MFBOOK_COMPILE", "background")
    if mode not in COMPILE_MODES:
        raise ValueError(f"MFBOOK_COMPILE must be one of {COMPILE_MODES}, got {mode!r}")
    return mode


def ready(part: str, wait: bool = False) -> bool:
    """May the compiled ``part`` (:data:`_PARTS`: ``"narrow"``, ``"components"``, ``"full"`` of the
    limit solver, or all three, ``"limit"``; ``"flow"``: gradient flow) be called now? True once its
    machine code is cached (or in ``"foreground"`` mode, where the call compiles it, :func:`first_use`).
    Otherwise the first call starts the compile in a background process and says so once on stderr,
    and it is False while that process works -- or, with ``wait``, it waits for the part (saying so)
    and is True. The process (``python -m mfbook compile``) compiles the parts in two halves side by
    side: gradient flow (about ten seconds), then the full width; the narrow pass, then the pass by
    components. A background compile that fails falls back to the foreground."""
    global _BACKGROUND
    if part in _READY:
        return True
    if _part_cached(part) or compile_mode() == "foreground":
        _READY.add(part)
        return True
    if _BACKGROUND is None:
        log = tempfile.NamedTemporaryFile("w+", prefix="mfbook-compile-", suffix=".log", delete=False)
        env = dict(os.environ, MFBOOK_COMPILE="foreground")
        _BACKGROUND = subprocess.Popen([sys.executable, "-m", "mfbook", "compile"], env=env,
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        _BACKGROUND.log = log.name
        _BACKGROUND.started = time.monotonic()
        print("mfbook: compiling the fast solvers for this machine in a background process (first use "
              "only, about a minute; cached afterwards). Meanwhile single small problems go to the "
              "reference solver: the same limits (to rounding where the minima are isolated), slower.",
              file=sys.stderr, flush=True)
    if _BACKGROUND.poll() is None and wait:
        print(f"mfbook: waiting for the compile started {time.monotonic() - _BACKGROUND.started:.0f} s ago "
              f"({_WAITING[part]}) ...", file=sys.stderr, flush=True)
        while _BACKGROUND.poll() is None and not _part_cached(part):
            time.sleep(0.25)
    if _BACKGROUND.poll() is None:
        if _part_cached(part):   # (this part is done)
            _READY.add(part)
            return True
        return False
    if _BACKGROUND.returncode != 0:
        print(f"mfbook: the background compile failed (its output: {_BACKGROUND.log}); compiling here "
              "instead", file=sys.stderr, flush=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(_BACKGROUND.log)
        if not wait:
            print("mfbook: the compiled solvers are ready", file=sys.stderr, flush=True)
    _READY.update(_PARTS)
    return True


def first_use(entries, what: str, how_long: str):
    """A context for a call that may need the compiled ``entries`` (one function or a tuple): while any
    of them has no machine code that fits this machine and these sources, say so once per process on
    stderr (the reader then knows why the result takes a while) and compile at :data:`OPT_LEVEL`,
    whatever ``NUMBA_OPT`` says, restoring numba's setting afterwards. Once all of them have machine
    code, calls pass straight through (a shared empty context: the solvers call this on every call)."""
    entries = entries if isinstance(entries, tuple) else (entries,)
    if all(getattr(e, "_mfbook_ready", False) for e in entries):   # (cheap: ``_cached`` reads a file)
        return _PASS
    return _compiling(entries, what, how_long)


_PASS = contextlib.nullcontext()


@contextlib.contextmanager
def _compiling(entries, what, how_long):
    """:func:`first_use` before the entries are known to have machine code."""
    missing = False
    for e in entries:
        e._mfbook_ready = _cached(e)
        missing |= not e._mfbook_ready
    if not missing:
        yield
        return
    if what not in _ANNOUNCED:
        _ANNOUNCED.add(what)
        print(f"mfbook: compiling {what} for this machine (first use only, {how_long}; cached afterwards) ...",
              file=sys.stderr, flush=True)
    before = config.OPT
    config.OPT = config._OptLevel(OPT_LEVEL)
    try:
        yield
    finally:
        config.OPT = before


_ANNOUNCED = set()


#: the compiled loops serve problems up to this many parameters (d ~ 16 for square ones); the full-width
#: passes of larger problems go to the reference, and gradient flow to scipy
MAX_PARAMETERS = 512

#: the compiled entry points of each part of :data:`_PARTS` (:func:`first_use` checks a call's parts
#: together)
PART_ENTRIES = {part: tuple(globals()[name] for name in names) for part, names in _PARTS.items()}

__all__ = ["codes", "component_counts", "component_factors", "component_problem", "components", "compile_mode",
           "escape_direction", "first_use", "flow", "gradient_norms", "limit_path", "limit_path_narrow",
           "merged_path", "problem_scales", "ready", "LAPACK_CHOLESKY", "MAX_PARAMETERS", "PART_ENTRIES"]
