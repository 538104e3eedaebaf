"""The back office: the web app each spazioRegione office works its queue in."""
