"""Image and PDF plumbing the readers stand on; none of it knows a document.

`decode` turns bytes into page images (pictures and PDF pages, within the
decoding `budget`), `pdf` shows a PDF's pages as characters, words, paths and
pictures, `boxes` is the word-with-its-box both text layers and OCR give, `sheet`
finds and straightens a sheet of paper in a photo, `ocr` runs tesseract on
small regions, `barcode` decodes Code 39/128, `faces` finds faces on ID
photos.
"""
