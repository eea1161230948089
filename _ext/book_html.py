"""Small fixes to the HTML pages of the book (a local Sphinx extension, see _config.yml).

* Drop repeated ``<script>`` entries. With Sphinx 7 and sphinx-thebe 0.3, the inline script that
  declares ``const THEBE_JS_URL`` is registered twice, and the second copy throws
  "Identifier 'THEBE_JS_URL' has already been declared" in the browser console on every page
  (found by tests/browser/run_browser_check.py).
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    files = context.get("script_files")
    if not isinstance(files, list):
        return
    seen, kept = set(), []
    for js in files:
        key = (str(getattr(js, "filename", js) or ""),  # inline scripts: None or ""
               tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    files[:] = kept


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
