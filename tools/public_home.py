"""The book's public home in one place: ``repository.url`` in ``_config.yml``.

Jupyter Book builds the launch buttons (Binder, Colab) and the repository links from that setting;
the chapters' install cells and the README's install line are text, so this tool writes them from
it (and from the package version in pyproject.toml, the release tag ``v<version>``):

    python tools/public_home.py            # check: exit 1 and list what disagrees
    python tools/public_home.py --write    # rewrite the install cells and the README line
    python tools/public_home.py --publish  # the check, and the release tag must be at the home

``make publish`` runs the last one before it builds the book: a site whose install cells and launch
buttons point at a repository without the release tag (a placeholder, a tag not pushed yet) is not
published. It asks the repository itself (``git ls-remote``), so it needs the network.

``tests/test_notebooks.py`` runs the check. The install cell installs what the chapters import,
the convex solver included (the ``convex`` extra).
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
INSTALL = re.compile(r'BOOK = "mfbook[^"]*"')
PIP = '%pip install -q "{BOOK}"'      # IPython puts the value of BOOK in
README_LINE = re.compile(r"pip install \"mfbook\[convex\] @ git\+[^\"]*\"")


def home() -> str:
    return yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")


def version() -> str:
    return re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)


def release_tag() -> str:
    return f"v{version()}"


def requirement() -> str:
    """What a reader's runtime installs: the package with its convex extra, at the release tag."""
    return f'mfbook[convex] @ git+{home()}@{release_tag()}'


def install_command() -> str:
    """The line of the install cell that names what to install (the next line installs ``BOOK``)."""
    return f'BOOK = "{requirement()}"'


def _notebooks():
    return sorted((ROOT / "chapters").glob("*.ipynb"))


def release_missing(url: str | None = None, tag: str | None = None) -> str | None:
    """Why the release tag cannot be installed from the home (``url``, default :func:`home`; ``tag``,
    default :func:`release_tag`), or None when ``git ls-remote`` finds it there."""
    url, tag = url or home(), tag or release_tag()
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true")   # never wait for a password
    try:
        found = subprocess.run(["git", "ls-remote", "--tags", url, f"refs/tags/{tag}"], env=env, text=True,
                               capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return f"{url} did not answer within 60 s"
    if found.returncode != 0:
        return f"{url} cannot be read: {(found.stderr.strip().splitlines() or [''])[-1]}"
    if f"refs/tags/{tag}" not in found.stdout:
        return f"{url} has no tag {tag}: push the release tag (or set repository.url in _config.yml)"
    return None


def disagreements() -> list[str]:
    bad = []
    for path in _notebooks():
        first = next(c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
        found = INSTALL.findall("".join(first["source"]))
        if found != [install_command()] or PIP not in "".join(first["source"]):
            bad.append(f"{path.name}: install cell has {found or 'no install line'}, not {install_command()}")
    readme = (ROOT / "README.md").read_text()
    if f'pip install "{requirement()}"' not in readme:
        bad.append(f'README.md: no line pip install "{requirement()}"')
    return bad


def write() -> None:
    for path in _notebooks():
        nb = json.loads(path.read_text())
        first = next(c for c in nb["cells"] if c["cell_type"] == "code")
        src = INSTALL.sub(install_command().replace("\\", "\\\\"), "".join(first["source"]))
        first["source"] = [line for line in re.split(r"(?<=\n)", src) if line]
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    readme = ROOT / "README.md"
    text = readme.read_text()
    if README_LINE.search(text):
        readme.write_text(README_LINE.sub(f'pip install "{requirement()}"', text))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="the book's public home, one setting")
    parser.add_argument("--write", action="store_true", help="rewrite the install cells and README line")
    parser.add_argument("--publish", action="store_true", help="also require the release tag at the home")
    args = parser.parse_args(argv)
    if args.write:
        write()
    bad = disagreements()
    missing = release_missing() if args.publish else None
    if missing:
        bad.append(f"not published: {missing}")
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
