"""One mechanism for every interactive demo in the book: live in a kernel, precomputed on the web.

``interact(draw, **controls)`` calls ``draw(**values)`` (which returns or draws a matplotlib
figure) for the values the reader picks.

* In a running kernel (JupyterLab, Colab, Binder, nbval) it shows ipywidgets controls and redraws
  on every change; a :class:`ValueError` (bad matrix text, a diverging step) is shown as a message,
  never as a traceback; results are cached, so returning to a setting is instant.
* When the book is built (environment variable ``MFBOOK_STATIC=1``, set by ``make book``) it
  renders ``draw`` for every combination of the listed control values, with the same code, and
  writes one HTML block (class ``mfbook-static-interact``) whose sliders and menus swap the
  precomputed images in the browser with no kernel. Free-text controls keep their default there.

Controls: a list or tuple of numbers becomes a slider over those values, a list of strings a
menu, and :class:`Text` a text box (live only). The first value of a list is the default unless
``defaults`` says otherwise.

Explained in: the pipeline chapter (how to use the demos); every chapter uses it.
"""
from __future__ import annotations

import base64
import html
import io
import itertools
import json
import os
import time
import uuid

import matplotlib.pyplot as plt

__all__ = ["interact", "Text", "static_mode", "MAX_FRAMES"]

MAX_FRAMES = 120


class Text:
    """A free-text control (for example a matrix typed by the reader); live only."""

    def __init__(self, default: str, description: str | None = None):
        self.default = default
        self.description = description


def static_mode() -> bool:
    """True when the book build asked for precomputed frames (``MFBOOK_STATIC=1``)."""
    return os.environ.get("MFBOOK_STATIC", "") == "1"


def _figure(draw, values):
    plt.close("all")
    out = draw(**values)
    fig = out if out is not None and hasattr(out, "savefig") else plt.gcf()
    return fig


def _png(fig, dpi=80) -> str:
    """The figure as a base64 PNG with a 256-colour palette (plots lose nothing visible; the
    static pages get several times lighter)."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    buf.seek(0)
    image = Image.open(buf).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


def _error_png(message: str) -> str:
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.0, 0.5, message, color="#a00", fontsize=11, va="center", wrap=True)
    return _png(fig)


def _label(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _split(controls, defaults):
    listed, fixed = {}, {}
    for name, spec in controls.items():
        if isinstance(spec, Text):
            fixed[name] = spec.default
        elif isinstance(spec, (list, tuple)) and len(spec) > 0:
            listed[name] = list(spec)
        else:
            raise ValueError(f"control {name!r} must be a non-empty list of values or a Text(...)")
    for name, value in (defaults or {}).items():
        if name in listed and value not in listed[name]:
            raise ValueError(f"default {value!r} of {name!r} is not among its values")
    return listed, fixed


def _log_timing(draw, seconds, image_seconds):
    """Append the times of one widget's frames (the callback alone, and the callback plus the
    figure's rendering to an image, which a live update also pays) to the JSON-lines file named
    by MFBOOK_WIDGET_TIMES."""
    path = os.environ.get("MFBOOK_WIDGET_TIMES")
    if path and seconds:
        with open(path, "a") as fh:
            fh.write(json.dumps({"widget": getattr(draw, "__qualname__", str(draw)),
                                 "notebook": os.environ.get("MFBOOK_NOTEBOOK", os.getcwd()),
                                 "seconds": seconds, "with_image": image_seconds}) + "\n")


def static_html(draw, controls, defaults=None, dpi=80) -> str:
    """The precomputed-frames HTML block for ``draw`` over every combination of listed values."""
    listed, fixed = _split(controls, defaults)
    names = list(listed)
    combos = list(itertools.product(*(range(len(listed[k])) for k in names)))
    if len(combos) > MAX_FRAMES:
        raise ValueError(f"{len(combos)} frames are too many for a static page (at most {MAX_FRAMES}): "
                         "offer fewer values per control")
    frames, seconds, with_image = {}, [], []
    for combo in combos:
        values = dict(fixed, **{k: listed[k][i] for k, i in zip(names, combo)})
        start_time = time.perf_counter()
        try:
            fig = _figure(draw, values)
            seconds.append(time.perf_counter() - start_time)   # the callback itself
            frames["_".join(map(str, combo))] = _png(fig, dpi)
            with_image.append(time.perf_counter() - start_time)  # and its image: a live update
        except ValueError as err:
            frames["_".join(map(str, combo))] = _error_png(str(err))
    _log_timing(draw, seconds, with_image)
    start = [listed[k].index(defaults[k]) if defaults and k in defaults else 0 for k in names]
    uid = "mfsi-" + uuid.uuid4().hex[:10]
    parts = [f'<div class="mfbook-static-interact" id="{uid}">', '<div class="mfsi-controls">']
    for k, s in zip(names, start):
        opts = listed[k]
        labels = [html.escape(_label(v)) for v in opts]
        if all(isinstance(v, str) for v in opts):
            options = "".join(f'<option value="{i}"{" selected" if i == s else ""}>{lab}</option>'
                              for i, lab in enumerate(labels))
            parts.append(f'<label>{html.escape(k)} <select data-name="{k}">{options}</select></label> ')
        else:
            parts.append(f'<label>{html.escape(k)} <input type="range" data-name="{k}" min="0" '
                         f'max="{len(opts) - 1}" step="1" value="{s}" data-labels=\'{json.dumps(labels)}\'>'
                         f' <output>{labels[s]}</output></label> ')
    if fixed:
        shown = ", ".join(f"{k} = {html.escape(str(v))}" for k, v in fixed.items())
        parts.append(f'<div class="mfsi-note">({shown}; type your own in the live notebook)</div>')
    parts.append("</div>")
    key0 = "_".join(map(str, start))
    parts.append(f'<img class="mfsi-frame" alt="interactive figure" src="data:image/png;base64,{frames[key0]}">')
    parts.append(f'<script type="application/json" class="mfsi-data">{json.dumps(frames)}</script>')
    parts.append(
        "<script>(function(){var root=document.getElementById('%s');"
        "var frames=JSON.parse(root.querySelector('.mfsi-data').textContent);"
        "var ctl=root.querySelectorAll('[data-name]');var img=root.querySelector('.mfsi-frame');"
        "function upd(){var key=[];ctl.forEach(function(c){key.push(c.value);"
        "if(c.type==='range'){c.nextElementSibling.textContent=JSON.parse(c.dataset.labels)[c.value];}});"
        "img.src='data:image/png;base64,'+frames[key.join('_')];}"
        "ctl.forEach(function(c){c.addEventListener('input',upd);c.addEventListener('change',upd);});})();"
        "</script></div>" % uid
    )
    return "".join(parts)


def interact(draw, defaults: dict | None = None, **controls):
    """Show an interactive demo of ``draw(**values)``; see the module docstring.

    Parameters
    ----------
    draw : callable
        ``draw(**values)`` returns a matplotlib figure (or draws on the current one).
    defaults : dict, optional
        Starting value of some listed controls.
    **controls
        ``name=[v1, v2, ...]`` or ``name=Text("default")``.

    Returns
    -------
    The displayed ipywidgets box (live), or None (static).
    """
    from IPython.display import HTML, display

    if static_mode():
        display(HTML(static_html(draw, controls, defaults)))
        return None
    import ipywidgets as w

    listed, fixed = _split(controls, defaults)
    widgets = {}
    for k, opts in listed.items():
        start = (defaults or {}).get(k, opts[0])
        if all(isinstance(v, str) for v in opts):
            widgets[k] = w.Dropdown(options=opts, value=start, description=k)
        else:
            widgets[k] = w.SelectionSlider(options=[(_label(v), v) for v in opts], value=start, description=k,
                                           continuous_update=False)
    for k, spec in controls.items():
        if isinstance(spec, Text):
            widgets[k] = w.Text(value=spec.default, description=spec.description or k, continuous_update=False)
    out = w.Output()
    cache = {}

    def refresh(**values):
        key = tuple(sorted((k, repr(v)) for k, v in values.items()))
        with out:
            out.clear_output(wait=True)
            if key not in cache:
                try:
                    cache[key] = ("png", _png(_figure(draw, values), dpi=90))
                except ValueError as err:
                    plt.close("all")
                    cache[key] = ("error", str(err))
            kind, payload = cache[key]
            if kind == "png":
                display(HTML(f'<img src="data:image/png;base64,{payload}">'))
            else:
                display(HTML(f'<p style="color:#a00">{html.escape(payload)}</p>'))

    w.interactive_output(refresh, widgets)
    box = w.VBox([w.HBox(list(widgets.values()), layout=w.Layout(flex_flow="row wrap")), out])
    display(box)
    return box
