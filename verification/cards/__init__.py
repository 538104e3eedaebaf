"""Identity documents and health cards on a page: find them, classify them, read them.

`find` turns page images (from images.decode) into straightened card images and judges their
quality; `side` classifies one card side and reads it, `readers` says what to
read on each document side, `regions` OCRs a card region by region and
`fields` reads values beside their labels; `page` does it for every card on
one page image.
"""
