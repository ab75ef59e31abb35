"""custdb's entry point: ``streamlit run dashboard/app.py``.

Every run: sign-in gate, then the menu for the signed-in user's current role, then the page.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import warmup
from dashboard.access import USER_KEY
from dashboard.auth import sign_out_button, signed_in_user
from dashboard.collector import freeze_imports
from dashboard.navigation import build_navigation
from db.admin import settings

# A file of our own, served by this server: a ":material/…:" or emoji page icon makes every
# visitor's browser fetch the favicon from fonts.gstatic.com (the menu's Material icons come
# from Streamlit's bundled font and stay local).
FAVICON = Path(__file__).with_name("favicon.png")
# The company's name (a setting) titles the browser tab and heads the menu; plain text only.
company = settings.current().company_name
st.set_page_config(page_title=f"{company} · custdb" if company else "custdb",
                   page_icon=str(FAVICON), layout="wide")

user = signed_in_user()
st.session_state[USER_KEY] = user
# Once per server process, after the sign-in form is drawn: the pages' imports, while the
# visitor types (see the module).
warmup.start()
if user is None:
    st.stop()

page = build_navigation(user.actor)
if company:
    st.sidebar.text(company)
signed_in_as = f"Signed in as {user.username} ({user.role})"
st.sidebar.text(signed_in_as)
sign_out_button(user)
page.run()
# After the page's imports, before Streamlit's collection after this run (see the module).
freeze_imports()
