"""The interact mechanism: static frames computed by the same function, errors shown, not raised."""
import json
import re

import matplotlib.pyplot as plt
import pytest

from mfbook import widgets


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
    box = widgets.interact(draw, scale=[1.0, -1.0], kind=["a", "b"])
    slider = box.children[0].children[0]
    slider.value = -1.0            # draw raises ValueError: shown as a message, no exception here
    slider.value = 1.0
