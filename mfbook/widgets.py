"""One mechanism for every interactive demo in the book: live in a kernel, precomputed on the web.

``interact(draw, setup=setup, **controls)`` shows ``draw``'s picture for the values the reader picks.

* ``setup()`` builds, once, the figure and everything in it that no control changes: axes, limits,
  labels, reference lines, fixed legends. ``draw(fig, **values)`` then *adds* the artists that
  show the chosen values (``ax.plot``, ``ax.text``, ``ax.imshow``, a legend, ...). Before each call
  the artists added by the previous call are removed, so ``draw`` always starts from the figure of
  ``setup``. Only the added artists are drawn again, on an image of the rest kept from the
  first draw (blitting), which makes an update cost a few milliseconds instead of a full redraw.
  Autoscaling is switched off after ``setup``: limits belong there. If ``draw`` does change what
  ``setup`` built (the limits of an axes to fit a matrix of another shape, a title, a line's data),
  the change is detected and the whole figure is drawn again for that frame: the picture is always
  right, such frames are only slower. Fixed artists that belong above the added ones (spines, a
  reference line above a bar) are drawn again on top; ticks, grid lines and a legend made by
  ``setup`` stay beneath, so put a fixed legend where no curve goes.
* Without ``setup``, ``draw(**values)`` builds a whole new figure each time (simplest, slowest).
* In a running kernel (JupyterLab, Colab, Binder, nbval) it shows ipywidgets controls and an image
  that is replaced on every change; a :class:`ValueError` (bad matrix text, a diverging step) is
  shown as a message, never as a traceback; results are cached, so returning to a setting is instant.
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
import numpy as np

__all__ = ["interact", "Text", "static_mode", "MAX_FRAMES"]

MAX_FRAMES = 120


class Text:
    """A free-text control (for example a matrix typed by the reader); live only.

    Explained in: the pipeline chapter (how to use the demos).
    """

    def __init__(self, default: str, description: str | None = None):
        self.default = default
        self.description = description


def static_mode() -> bool:
    """True when the book build asked for precomputed frames (``MFBOOK_STATIC=1``).

    Explained in: the pipeline chapter (how to use the demos).
    """
    return os.environ.get("MFBOOK_STATIC", "") == "1"


def _encode(fig) -> bytes:
    """The figure's canvas as PNG bytes with a 256-colour palette (plots lose nothing visible; the
    images get several times lighter)."""
    from PIL import Image

    rgba = np.asarray(fig.canvas.buffer_rgba())
    image = Image.fromarray(rgba).convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    image.save(out, format="png")
    return out.getvalue()


def _own_canvas(fig, dpi):
    """Give ``fig`` its own Agg canvas and take it away from pyplot (no automatic display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    plt.close(fig)
    FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    return fig


class _Scene:
    """The figure of one demo and how to show a new frame on it (see the module docstring)."""

    def __init__(self, draw, setup=None, dpi=80):
        self.draw, self.setup, self.dpi = draw, setup, dpi
        self.fig = None

    def _artists(self):
        fig = self.fig
        out = [*fig.texts, *fig.legends, *fig.images, *fig.lines, *fig.patches]
        for ax in fig.axes:
            out += ax.get_children()
        return out

    @staticmethod
    def _axes_state(ax):
        """What an axes shows besides its artists: limits, ticks, tick labels, axis labels."""
        return (ax.get_xlim(), ax.get_ylim(), list(ax.get_xticks()), list(ax.get_yticks()),
                [t.get_text() for t in ax.get_xticklabels()], [t.get_text() for t in ax.get_yticklabels()],
                ax.get_xlabel(), ax.get_ylabel())

    def _changed(self, known):
        """Whether ``draw`` changed something already on the background (then the figure is drawn
        again in full): an existing artist marked stale, or an axes whose limits, ticks or labels
        differ (an axis is also marked stale when set to what it already was)."""
        from matplotlib.axis import Axis

        if any(a.stale and not isinstance(a, Axis) for a in known):
            return True
        return any((ax.xaxis.stale or ax.yaxis.stale) and self._axes_state(ax) != state
                   for ax, state in zip(self.fig.axes, self.states))

    def _draw_background(self):
        fig = self.fig
        fig.canvas.draw()         # everything but the added (animated) artists
        self.full_draws += 1
        self.background = fig.canvas.copy_from_bbox(fig.bbox)
        self.states = [self._axes_state(ax) for ax in fig.axes]
        added = set(map(id, self.added))
        for artist in self._artists():
            if id(artist) not in added:
                artist.stale = False

    def _start(self):
        fig = self.setup()
        if not hasattr(fig, "canvas"):
            raise TypeError("setup() must return a matplotlib figure")
        self.fig = _own_canvas(fig, self.dpi)
        for ax in fig.axes:
            ax.set_autoscale_on(False)
        self.added, self.overlay, self.background, self.full_draws = [], [], None, 0
        self.lowest = {}
        self.containers = [len(ax.containers) for ax in fig.axes]
        self.cycles = [self._cycle_positions(ax) for ax in fig.axes]

    @staticmethod
    def _cycle_positions(ax, positions=None):
        """Where the axes' colour cycles stand (or set them back there), so that every frame's
        artists get the colours a fresh figure would give them. Uses matplotlib internals; where
        they differ, frames just continue the cycle."""
        cycles = [getattr(getattr(ax, name, None), "_prop_cycle", None) for name in ("_get_lines", "_get_patches_for_fill")]
        if positions is None:
            return [getattr(c, "_idx", None) for c in cycles]
        for c, i in zip(cycles, positions):
            if c is not None and i is not None:
                c._idx = i

    def frame(self, values):
        """PNG bytes of the frame for ``values`` and the seconds ``draw`` itself took."""
        if self.setup is None:   # a whole new figure per frame
            start = time.perf_counter()
            out = self.draw(**values)
            seconds = time.perf_counter() - start
            fig = _own_canvas(out if hasattr(out, "canvas") else plt.gcf(), self.dpi)
            fig.canvas.draw()
            return _encode(fig), seconds
        if self.fig is None:
            self._start()
        fig = self.fig
        for artist in self.added:
            artist.remove()
        for ax, n, cycle in zip(fig.axes, self.containers, self.cycles):
            del ax.containers[n:]
            self._cycle_positions(ax, cycle)
        known = self._artists()
        known_ids, n_axes = set(map(id, known)), len(fig.axes)
        start = time.perf_counter()
        try:
            self.draw(fig, **values)
        finally:
            self.added = [a for a in self._artists() if id(a) not in known_ids]
        seconds = time.perf_counter() - start
        if len(fig.axes) != n_axes:
            raise RuntimeError("draw() added axes to the figure: create every axes in setup()")
        for artist in self.added:
            artist.set_animated(True)
        overlay = self._overlay()
        if [id(a) for a in overlay] != [id(a) for a in self.overlay]:
            for artist in self.overlay:
                artist.set_animated(False)
            for artist in overlay:
                artist.set_animated(True)
            self.overlay, self.background = overlay, None
        if self.background is None or self._changed(known):
            self._draw_background()
        else:
            fig.canvas.restore_region(self.background)
        self._draw_added()
        return _encode(fig), seconds

    def _overlay(self):
        """The fixed artists that belong above the added ones: for each axes with added artists,
        those with a higher z-order than the lowest of them (a reference line above a bar, a
        spine or a text above a line). They are left out of the kept image and drawn with the
        added artists, so matplotlib's layering holds. The exceptions are the axes' ticks and grid
        lines and a legend made by ``setup``: they stay beneath, since drawing them every frame
        would cost as much as the rest (put a fixed legend where no curve goes)."""
        from matplotlib.axis import Axis
        from matplotlib.legend import Legend
        from matplotlib.text import Text as TextArtist

        added = {id(a) for a in self.added}
        lowest = self.lowest     # over all frames so far, so that the overlay settles after a few
        for artist in self.added:
            if artist.axes is not None:
                lowest[id(artist.axes)] = min(lowest.get(id(artist.axes), np.inf), artist.get_zorder())
        renderer = self.fig.canvas.get_renderer()
        out = []
        for ax in self.fig.axes:
            if id(ax) not in lowest:
                continue
            spines = set(map(id, ax.spines.values()))
            for a in ax.get_children():
                if (id(a) in added or a is ax.patch or isinstance(a, (Axis, Legend)) or not a.get_visible()
                        or a.get_zorder() <= lowest[id(ax)] or (isinstance(a, TextArtist) and not a.get_text())
                        or (id(a) in spines and not (ax.axison and ax.get_frame_on()))):
                    continue
                # the added artists are clipped to the axes: what lies outside it (a title) stays as drawn
                if a.get_window_extent(renderer).overlaps(ax.bbox):
                    out.append(a)
        return out

    def _draw_added(self):
        """Draw the added artists and the overlay on the kept image, each axes' in z-order (at
        equal z-order the fixed ones first: they were added to the axes earlier)."""
        layers = [(a.get_zorder(), 0, i, a) for i, a in enumerate(self.overlay)]
        layers += [(a.get_zorder(), 1, i, a) for i, a in enumerate(self.added)]
        for *_, artist in sorted(layers, key=lambda z: z[:3]):
            self.fig.draw_artist(artist)


def _error_png(message: str) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.0, 0.5, message, color="#a00", fontsize=11, va="center", wrap=True)
    _own_canvas(fig, 80).canvas.draw()
    return _encode(fig)


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


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


def static_html(draw, controls, defaults=None, setup=None, dpi=80) -> str:
    """The precomputed-frames HTML block for ``draw`` over every combination of listed values."""
    listed, fixed = _split(controls, defaults)
    names = list(listed)
    combos = list(itertools.product(*(range(len(listed[k])) for k in names)))
    if len(combos) > MAX_FRAMES:
        raise ValueError(f"{len(combos)} frames are too many for a static page (at most {MAX_FRAMES}): "
                         "offer fewer values per control")
    scene = _Scene(draw, setup, dpi)
    frames, seconds, with_image = {}, [], []
    for combo in combos:
        values = dict(fixed, **{k: listed[k][i] for k, i in zip(names, combo)})
        start_time = time.perf_counter()
        try:
            png, callback = scene.frame(values)
            seconds.append(callback)                                  # the callback itself
            with_image.append(time.perf_counter() - start_time)       # and its image: a live update
        except ValueError as err:
            png = _error_png(str(err))
        frames["_".join(map(str, combo))] = _b64(png)
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


def interact(draw, setup=None, defaults: dict | None = None, **controls):
    """Show an interactive demo of ``draw``; see the module docstring.

    Parameters
    ----------
    draw : callable
        ``draw(fig, **values)`` adds the changing artists to the figure made by ``setup``; without
        ``setup``, ``draw(**values)`` returns a new matplotlib figure (or draws on the current one).
    setup : callable, optional
        ``setup()`` returns the figure with everything no control changes.
    defaults : dict, optional
        Starting value of some listed controls.
    **controls
        ``name=[v1, v2, ...]`` or ``name=Text("default")``.

    Returns
    -------
    Demo or None
        Live: a handle on the displayed box (``.box``); it displays nothing itself, so a demo shows
        once even when ``interact(...)`` is the last line of a cell. Static: None.

    Explained in: the pipeline chapter (how to use the demos).
    """
    from IPython.display import HTML, display

    if static_mode():
        display(HTML(static_html(draw, controls, defaults, setup)))
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
    image = w.Image(format="png")
    message = w.HTML()
    scene = _Scene(draw, setup, dpi=90)
    cache = {}

    def refresh(**values):
        key = tuple(sorted((k, repr(v)) for k, v in values.items()))
        if key not in cache:
            try:
                cache[key] = ("png", scene.frame(values)[0])
            except ValueError as err:
                cache[key] = ("error", str(err))
        kind, payload = cache[key]
        if kind == "png":
            image.value = payload
            image.layout.display = None
            message.value = ""
        else:
            image.layout.display = "none"
            message.value = f'<p style="color:#a00">{html.escape(payload)}</p>'

    w.interactive_output(refresh, widgets)
    box = w.VBox([w.HBox(list(widgets.values()), layout=w.Layout(flex_flow="row wrap")), message, image])
    display(box)
    return Demo(box)


class Demo:
    """What :func:`interact` returns in a live kernel: the displayed box, as ``.box``.

    Jupyter shows a cell's last value; an ipywidgets box returned there would be shown a second
    time below the first. A ``Demo`` tells IPython that it has nothing to display.
    """

    def __init__(self, box):
        self.box = box

    def _ipython_display_(self):
        pass
