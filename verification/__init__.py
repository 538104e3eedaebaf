"""Verification: classify → read → check → verdict for the pages of a request.

Subpackages by what they read: `forms` (the three request forms), `cards`
(identity documents and health cards), `mrz` (ICAO 9303 zones), `images`
(PDF pages, sheets, OCR, barcodes, faces) and `rules` (pure checks over the
evidence). At the top, the typed stages: `attachment` reads one attachment
into `readings`, `assemble` turns them into `evidence`, `verdict` runs the
rules into `findings` and a status; `codice_fiscale` and `names` are the
domain helpers every stage shares.
"""

import cv2

# OpenCV on one thread: requests are read side by side (a worker per mailbox),
# and its own thread pool on two cores spends ~15% more CPU for the same work.
cv2.setNumThreads(1)
