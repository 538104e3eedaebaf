"""Verification: classify → read → check → verdict for the pages of a request."""
