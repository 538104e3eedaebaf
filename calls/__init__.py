"""The identification call and the release of the PIN/PUK codes (issue 17).

At the booked call the operator compares the live face of the person on the
call — the holder on a `direct` form, the declarant on a `delegate` or
`guardian` form — with the photo on that person's identity document, read
from the stored blob at call time. The assists are here, the operator decides:

`calls.decision`  pure: face distance → band, when a decision needs a supervisor;
`calls.faces`     encodings of the live frame and of the document photo, in memory only;
`calls.liveness`  pure: a server-chosen challenge judged over a sequence of landmarks;
`calls.proof`     the one-time code that proves the channel, kept hashed in memory;
`calls.identification`  the call's record and its outcome, through db/lifecycle.py;
`calls.issuer`, `calls.channels`  the Region's code issuer and the SMS gateway, each an
                  interface with a local and a real implementation;
`calls.release`   `identified → released`, once, by the operator of the call.

Nothing here stores or logs a distance, a frame, an encoding, a one-time code,
a PIN or a PUK. Layered like scheduling/: it imports config, db, intake (the
outbox), verification (the face finder) and scheduling; only backoffice/ and
sportello/ import it.
"""
