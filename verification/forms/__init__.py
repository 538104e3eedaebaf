"""The three request forms: what they look like, and reading them back.

`layout` holds the wording and geometry of SPEC.md's three forms and draws
fillable and filled copies of them; `pdf_reader` reads a form from a PDF (its
widgets, else its text layer), `picture_reader` from a scan or a phone photo,
both through `text` (the words after each label) and `labels` (sections and
label positions); `marks` finds ticks and ink, `signature` the digital
signature and the codice fiscale on its certificate.
"""
