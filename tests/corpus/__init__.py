"""A deterministic synthetic corpus of requests: people, documents, captures, forms, e-mails (see cases.py)."""
