"""The app's pages, one script each (run by st.navigation in ui/app.py; never imported)."""
