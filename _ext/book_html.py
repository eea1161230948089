"""Small fixes to the HTML pages of the book (a local Sphinx extension, see _config.yml).

* Drop repeated ``<script>`` entries. With Sphinx 7 and sphinx-thebe 0.3, the inline script that
  declares ``const THEBE_JS_URL`` is registered twice, and the second copy throws
  "Identifier 'THEBE_JS_URL' has already been declared" in the browser console on every page
  (found by tests/browser/run_browser_check.py).
* On pages that embed ipywidgets state (myst-nb then adds the widget manager), add a shim that
  lets the widget manager, written for MathJax 2, typeset with the book's MathJax 3; without it
  every widget with a label throws "Cannot read properties of undefined (reading 'Queue')".
"""
import pathlib

STATIC = pathlib.Path(__file__).parent / "static"
SHIM = "mathjax2-widgets-shim.js"


def _add_static_path(app):
    if str(STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC))


def _filename(js):
    return str(getattr(js, "filename", js) or "")   # inline scripts have None or ""


def _fix_scripts(app, pagename, templatename, context, doctree):
    files = context.get("script_files")
    if not isinstance(files, list):
        return
    if any(_filename(js).endswith("embed-amd.js") for js in files):
        # deferred scripts run in order: after MathJax (priority 500), before DOMContentLoaded,
        # which is when the widget manager renders
        app.add_js_file(SHIM, priority=510, defer="defer")
    _dedupe_scripts(app, pagename, templatename, context, doctree)


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    files = context.get("script_files")
    if not isinstance(files, list):
        return
    seen, kept = set(), []
    for js in files:
        key = (_filename(js),
               tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    files[:] = kept


def setup(app):
    app.connect("builder-inited", _add_static_path)
    app.connect("html-page-context", _fix_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
