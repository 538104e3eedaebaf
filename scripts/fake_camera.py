"""Chromium's fake camera for trying the call of the demo: a Y4M of the face on a request's identity document.

    .venv/bin/python scripts/fake_camera.py SR-MB-2026-000001 /tmp/citizen.y4m [--still]
    chromium --use-fake-ui-for-media-stream --use-fake-device-for-media-stream \\
             --use-file-for-fake-video-capture=/tmp/citizen.y4m CITIZEN-LINK

The face is cut from the document photo of the person on the call (the holder,
or the declarant of a delegate or guardian form), as calls.faces reads it; the
video blinks once every loop (the "blink" challenge passes) unless --still,
a photo held up, which fails every challenge. Demo and tests only.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference")
    parser.add_argument("out", type=Path)
    parser.add_argument("--still", action="store_true", help="a still photo (fails the liveness challenge)")
    args = parser.parse_args()

    from calls.faces import document_image
    from db.app import App
    from tests.calls import fakecam
    from verification.images.faces import face_locations

    app = App.from_config(os.environ.get("SPORTELLO_CONFIG"))  # the embedded default when unset, as the CLI
    img = document_image(app, args.reference)
    boxes = face_locations(img)
    if not boxes:
        print("no face on the document photo", file=sys.stderr)
        return 1
    x, y, w, h = boxes[0]
    pad = int(0.6 * max(w, h))
    face = img[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad]
    frames = fakecam.still(face) if args.still else fakecam.blinking(face)
    fakecam.write_y4m(args.out, frames)
    print(f"wrote {args.out} ({len(frames)} frames, {'still' if args.still else 'blinking'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
