"""App Home: a user's Home tab, drawn when opened and redrawn after the votes it shows."""
