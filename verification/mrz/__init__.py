"""ICAO Doc 9303 machine-readable zones.

`text` is pure: TD1/TD3 parsing, check digits and their repair. `lines` finds
the MRZ block among OCR'd lines, `glyphs` reads a band of OCR-B in an image
by matching the font's own glyphs, and `build` draws MRZs (the test corpus
and the round-trip tests use it).
"""
