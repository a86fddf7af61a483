"""Requests and decisions: an order flagged, held and posted; a vote authorised, recorded and carried out."""
