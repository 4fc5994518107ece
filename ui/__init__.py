"""Streamlit glue shared by `app.py` and `pages/`: state, caching, prose, HTML. No model math here."""
