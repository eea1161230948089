"""The interact mechanism: static frames computed by the same function, errors shown, not raised."""
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

import mfbook
from mfbook import widgets

# the book's style, as every chapter sets it (with matplotlib's default style the top and right spines
# are drawn above the added lines and the kept image settles after one more full drawing)
mfbook.set_style()


def draw(scale, kind, text="1 2"):
    if scale < 0:
        raise ValueError("scale must be >= 0")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, scale])
    ax.set_xlabel(kind)
    return fig


def test_static_html_has_one_frame_per_combination(monkeypatch):
    html = widgets.static_html(draw, {"scale": [-1.0, 1.0, 2.0], "kind": ["a", "b"],
                                      "text": widgets.Text("1 2")}, defaults={"scale": 1.0})
    assert 'class="mfbook-static-interact"' in html
    frames = json.loads(re.search(r'class="mfsi-data">(.*?)</script>', html).group(1))
    assert sorted(frames) == sorted(f"{i}_{j}" for i in range(3) for j in range(2))
    # four drawn frames differ; the two error frames (scale -1) show the same message
    assert len(set(frames.values())) == 5 and frames["0_0"] == frames["0_1"]
    assert 'value="1"' in html and '<select data-name="kind">' in html
    assert "type your own in the live notebook" in html


def test_too_many_frames_and_bad_controls_are_rejected():
    with pytest.raises(ValueError, match="too many"):
        widgets.static_html(draw, {"scale": list(range(200)), "kind": ["a"]})
    with pytest.raises(ValueError, match="non-empty list"):
        widgets.static_html(draw, {"scale": 3})
    with pytest.raises(ValueError, match="not among"):
        widgets.static_html(draw, {"scale": [1.0]}, defaults={"scale": 2.0})


def test_static_mode_follows_environment(monkeypatch):
    monkeypatch.setenv("MFBOOK_STATIC", "1")
    assert widgets.static_mode()
    monkeypatch.setenv("MFBOOK_STATIC", "0")
    assert not widgets.static_mode()


def test_live_mode_builds_controls_and_survives_errors(monkeypatch):
    monkeypatch.delenv("MFBOOK_STATIC", raising=False)
    box = widgets.interact(draw, scale=[1.0, -1.0], kind=["a", "b"]).box
    slider = box.children[0].children[0]
    slider.value = -1.0            # draw raises ValueError: shown as a message, no exception here
    slider.value = 1.0
    assert box.children[1].value == "" and len(box.children[2].value) > 1000   # the image is back


# a demo in the setup / draw style: setup builds the fixed parts once, draw adds what changes
def setup():
    fig, axes = plt.subplots(1, 2, figsize=(5, 2.5), layout="constrained")
    for ax in axes:
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 3)
    axes[1].plot([0, 1], [1, 1], color="gray")       # a fixed reference line, above the bars
    axes[1].grid(False)     # grid lines stay beneath added artists (the documented exception)
    return fig


def adds(fig, scale, title=False):
    if scale < 0:
        raise ValueError("scale must be >= 0")
    left, right = fig.axes
    left.plot([0, 1], [0, scale])
    left.plot([0, 1], [scale, 0])                     # takes the second colour of the cycle
    right.bar([0.5], [scale], 0.2)
    right.text(0.1, 2.5, f"scale {scale}")
    if title:
        left.set_title(f"scale {scale}")              # changes what setup built


def pixels(png):
    from PIL import Image
    import io
    import numpy as np

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


@pytest.mark.parametrize("title", [False, True])
def test_blitted_frames_match_a_fresh_drawing(title):
    scene = widgets._Scene(lambda fig, scale: adds(fig, scale, title), setup)
    frames = [scene.frame({"scale": s})[0] for s in (1.0, 2.0, 0.5, 2.0)]
    # adding artists only: one full drawing, every later frame reuses it; a changed title is
    # noticed and the figure drawn again in full each time
    assert scene.full_draws == (4 if title else 1)
    for s, png in zip((1.0, 2.0, 0.5, 2.0), frames):
        fig = widgets._own_canvas(setup(), 80)                  # the same figure drawn the plain way
        adds(fig, s, title)
        fig.canvas.draw()
        assert np.abs(pixels(png) - pixels(widgets._encode(fig))).max() <= 8   # same picture, colours
        # and layering included (the spines stay above the lines that start on them)
    assert np.abs(pixels(frames[1]) - pixels(frames[2])).max() > 100   # and the frames do differ


def test_scene_errors_are_values_or_programming_errors():
    scene = widgets._Scene(adds, setup)
    with pytest.raises(ValueError, match="scale"):
        scene.frame({"scale": -1.0})
    assert scene.frame({"scale": 1.0})[0][:4] == b"\x89PNG"       # recovers after an error

    def new_axes(fig, scale):
        fig.add_subplot(3, 3, 9)

    with pytest.raises(RuntimeError, match="create every axes in setup"):
        widgets._Scene(new_axes, setup).frame({"scale": 1.0})
    with pytest.raises(TypeError, match="must return a matplotlib figure"):
        widgets._Scene(adds, lambda: None).frame({"scale": 1.0})


def test_static_html_of_a_scene():
    html = widgets.static_html(adds, {"scale": [-1.0, 1.0, 2.0]}, setup=setup)
    frames = json.loads(re.search(r'class="mfsi-data">(.*?)</script>', html).group(1))
    assert sorted(frames) == ["0", "1", "2"] and len(set(frames.values())) == 3


def test_layering_settles_and_hidden_frames_stay_hidden():
    def setup_off():
        fig, axes = plt.subplots(1, 2, figsize=(4, 2), layout="constrained")
        axes[0].set_xlim(-0.5, 1.5)
        axes[0].set_ylim(1.5, -0.5)
        axes[0].axis("off")                              # its spines must not come back
        axes[1].set_xlim(0, 1)
        axes[1].set_ylim(0, 1)
        axes[1].grid(False)     # grid lines stay beneath added artists (the documented exception)
        return fig

    def image_or_text(fig, kind):
        left, right = fig.axes
        left.imshow(np.eye(2) * (2 if kind == "b" else 1), vmin=0, vmax=2)
        if kind == "text":                                # no bar this time: a lower z-order next time
            right.text(0.5, 0.5, "nothing here", ha="center")
        else:
            right.bar([0.5], [0.8], 0.3)

    scene = widgets._Scene(image_or_text, setup_off)
    for kind in ("text", "a", "text", "b", "a"):
        png = scene.frame({"kind": kind})[0]
        fig = widgets._own_canvas(setup_off(), 80)
        image_or_text(fig, kind)
        fig.canvas.draw()
        assert np.abs(pixels(png) - pixels(widgets._encode(fig))).max() <= 8
    assert scene.full_draws == 2      # the first frame, and once more when the bars came


def test_a_live_demo_is_displayed_once(monkeypatch):
    """interact displays its box; its return value, the last value of a cell, displays nothing."""
    from IPython.core.formatters import DisplayFormatter

    monkeypatch.delenv("MFBOOK_STATIC", raising=False)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    demo = widgets.interact(draw, scale=[1.0, -1.0], kind=["a", "b"])
    assert len(shown) == 1 and shown[0] is demo.box
    data, _ = DisplayFormatter().format(demo)        # what Jupyter would show for the cell's value
    assert data == {}


def test_each_demo_of_a_chapter_shows_one_widget_view_in_a_live_kernel(tmp_path):
    """Executed by a Jupyter kernel as a reader's notebook is (no MFBOOK_STATIC), every demo cell of
    the pipeline chapter outputs exactly one widget view: not two (a displayed box and the cell's
    value), not none."""
    import os
    import pathlib

    import nbformat
    from nbclient import NotebookClient

    chapter = pathlib.Path(__file__).resolve().parents[1] / "chapters" / "00_pipeline.ipynb"
    nb = nbformat.read(chapter, as_version=4)
    env = {k: v for k, v in os.environ.items() if k != "MFBOOK_STATIC"}
    old = os.environ.copy()
    try:
        os.environ.clear()
        os.environ.update(env)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(chapter.parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    views = [sum("application/vnd.jupyter.widget-view+json" in out.get("data", {}) for out in cell.outputs)
             for cell in nb.cells if cell.cell_type == "code" and "interact(" in cell.source]
    assert views and all(v == 1 for v in views), views
