"""superconv dashboard: the frame only (page config, shared sidebar, navigation).

Run with ``streamlit run app.py``. Each page lives in ``views/`` and is listed once in ``PAGES``;
adding a page is a one-line edit there. The folder is deliberately not called ``pages/``: Streamlit
treats a ``pages/`` folder next to the main script as its older folder-based navigation, and on a
fresh server a deep link (``/demo``) would then run that page alone, without this frame.
The sidebar shows the compute device from a cheap probe (``superconv.device``), so opening the app never
imports TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from superconv import __version__
from superconv.device import DeviceInfo, probe_device

# (script path, title, icon). The first entry is the landing page.
PAGES: list[tuple[str, str, str]] = [
    ("views/designer.py", "Schedule Designer", ":material/timeline:"),
    ("views/lr_finder.py", "LR Finder", ":material/search:"),
    ("views/train_compare.py", "Train & Compare", ":material/monitoring:"),
    ("views/demo.py", "Class demo", ":material/school:"),
]


@st.cache_resource(show_spinner=False)
def _device() -> DeviceInfo:
    return probe_device()


# A local image: a Material icon as favicon is fetched from fonts.gstatic.com, which fails offline (classrooms).
st.set_page_config(page_title="superconv", page_icon=str(Path(__file__).parent / "assets" / "favicon.png"),
                   layout="wide")

navigation = st.navigation(
    [st.Page(path, title=title, icon=icon, default=(i == 0)) for i, (path, title, icon) in enumerate(PAGES)]
)

with st.sidebar:
    device = _device()
    st.markdown("**Compute device**")
    st.caption(device.summary())
    if not device.gpus:
        st.caption("No NVIDIA GPU visible: training runs on the CPU.")
    st.caption(f"superconv {__version__} · 1cycle policy (Smith & Topin)")

navigation.run()
