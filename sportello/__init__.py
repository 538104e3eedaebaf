"""sportello: the command line and the wiring of the parts (composition root)."""
