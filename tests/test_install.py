"""The package as a reader's runtime gets it: a wheel built from this checkout, installed into a new
virtual environment. Every module of the source is in the wheel (the compiled kernel is a
subpackage: a wheel without it would leave `import mfbook` broken), the installed package imports
from the new environment, not from this checkout, and its command line works there. The public home
(one setting, tools/public_home.py) and the chapters' install cells agree.

Chapter 0 runs there cold, with an empty numba cache, as on a fresh Colab runtime.
(`benchmarks/cold_start.py` goes further: a venv with every dependency installed from the registry,
and the times of the first results, of the compile and of each chapter run cold.)"""
import os
import pathlib
import signal
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import public_home  # noqa: E402


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    return next(out.glob("mfbook-*.whl"))


def test_the_wheel_holds_every_module(wheel):
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "mfbook").rglob("*.py")}
    assert sources <= set(zipfile.ZipFile(wheel).namelist()), sources - set(zipfile.ZipFile(wheel).namelist())


def _installed(wheel, venv):
    """A new venv at ``venv`` with mfbook installed from ``wheel``; its Python. The dependencies come
    from this environment (no download): its site-packages as a plain path entry (a path from a .pth
    file is not scanned for .pth files, so this checkout's editable install stays out); the package
    itself only from the wheel."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True,
                          capture_output=True, text=True).stdout.strip()
    deps = [p for p in sys.path if p.endswith("site-packages")]
    pathlib.Path(site, "_book_dependencies.pth").write_text("\n".join(deps) + "\n")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)], check=True,
                   capture_output=True)
    return py


def test_the_installed_wheel_imports_and_answers_from_its_own_environment(wheel, tmp_path):
    venv = tmp_path / "venv"
    py = _installed(wheel, venv)
    code = "import mfbook, mfbook._kernel, mfbook.claims; print(mfbook.__file__)"
    where = subprocess.run([py, "-c", code], cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    assert str(venv) in where, f"imported {where.strip()}, not the installed wheel"
    helped = subprocess.run([py, "-m", "mfbook", "complete", "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert helped.returncode == 0 and "--no-convex" in helped.stdout


def test_a_chapter_runs_cold_from_the_installed_wheel(wheel, tmp_path):
    """Chapter 0 executed as on a fresh Colab runtime: mfbook from the wheel in a new venv, an empty
    numba cache, the default (background) compile mode: the reference solver answers single problems
    while the kernel compiles, and gradient flow waits for its part, compiled first (about 20 s in
    all here, against 76 s when every first call compiled); the background compiler is stopped
    afterwards."""
    py = _installed(wheel, tmp_path / "venv")
    chapter = ROOT / "chapters" / "00_pipeline.ipynb"
    execute = ("import nbformat, sys\nfrom nbclient import NotebookClient\n"
               "nb = nbformat.read(sys.argv[1], as_version=4)\n"
               "NotebookClient(nb, timeout=300, kernel_name='python3').execute()\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), MFBOOK_COMPILE="background",
               MFBOOK_STATIC="1")
    env.pop("PYTHONPATH", None)
    try:
        run = subprocess.run([py, "-c", execute, str(chapter)], cwd=chapter.parent, env=env, capture_output=True,
                             text=True, timeout=600)
    finally:
        _stop_compilers(py)
    assert run.returncode == 0, run.stderr[-3000:]


def _stop_compilers(py):
    """Kill the background compilers (``python -m mfbook compile``) that the venv's ``py`` runs."""
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if argv[:3] == [py.encode(), b"-m", b"mfbook"] and b"compile" in argv:
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def test_install_cells_and_readme_follow_the_public_home():
    assert public_home.disagreements() == []
    assert "[convex]" in public_home.requirement()


def test_publishing_needs_the_release_tag_at_the_home(tmp_path):
    """``make publish`` refuses a home that cannot be read (the placeholder's host) or lacks the release
    tag, and accepts one that has it: here local repositories stand in for the public one."""
    home = tmp_path / "home"
    git = ["git", "-C", str(home), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(home)], check=True)
    subprocess.run(git + ["commit", "-q", "--allow-empty", "-m", "release"], check=True)
    tag = public_home.release_tag()
    assert "cannot be read" in public_home.release_missing(str(tmp_path / "nowhere"), tag)
    assert f"has no tag {tag}" in public_home.release_missing(str(home), tag)
    subprocess.run(git + ["tag", tag], check=True)
    assert public_home.release_missing(str(home), tag) is None
    assert f"has no tag {tag}x" in public_home.release_missing(str(home), tag + "x")   # the version's own tag
