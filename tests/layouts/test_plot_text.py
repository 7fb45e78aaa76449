"""Names from data on Plotly charts are text: Plotly renders <b>, <a href>, <br> in labels."""

from __future__ import annotations

import pandas as pd

from layouts.common import plot_text
from layouts.statistics import label_breakdown


def test_plot_text_escapes_what_plotly_would_read_as_markup() -> None:
    assert plot_text("</textarea><b>x</b> & co") == "&lt;/textarea&gt;&lt;b&gt;x&lt;/b&gt; &amp; co"
    assert plot_text("和平里街道") == "和平里街道"


def test_breakdown_labels_from_names_are_escaped() -> None:
    frame = pd.DataFrame({"region": ["110101001"], "reported": [3]})
    names = {"110101001": '<a href="https://evil">和平里</a>'}
    [label] = label_breakdown(frame, "region", names, "zh")
    assert "<a" not in label and "和平里" in label
