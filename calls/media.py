"""The call's media: the server is a WebRTC peer of each end (aiortc) and relays one to the other.

Each browser — the citizen's call page, the operator's console — makes one
peer connection with the server, not with the other browser. The server
receives the citizen's camera itself, so the frames the face assist and the
liveness challenge judge are frames the server decoded from the citizen's own
connection, never a picture the operator's browser could substitute; and it
forwards each end's audio and video to the other (decoded, re-stamped,
re-encoded by aiortc), so the operator sees exactly the stream that is checked.

`Feed` holds the latest frame of one incoming track (memory only: a frame is
dropped as soon as the next arrives); `Forward` is the outgoing track that
replays the other end's feed, or black frames and silence while that end is
not (yet, or any more) connected — so either end may join first, leave and
come back without renegotiation.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

log = logging.getLogger(__name__)

VIDEO_RATE = 90000
AUDIO_RATE = 48000
AUDIO_SAMPLES = 960  # 20 ms at 48 kHz
BLANK_FPS = 10
BLANK_SIZE = (240, 320)


class Feed:
    """The frames of one end's incoming track: the latest one, and a wake-up for whoever waits for the next."""

    def __init__(self, kind: str):
        self.kind = kind
        self.frame: Any = None
        self.count = 0
        self._arrived = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def live(self) -> bool:
        return self._task is not None and not self._task.done()

    def attach(self, track: MediaStreamTrack) -> None:
        self.detach()
        self._task = asyncio.ensure_future(self._pump(track))

    def detach(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.frame = None

    async def _pump(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                self.frame = frame
                self.count += 1
                arrived, self._arrived = self._arrived, asyncio.Event()
                arrived.set()
        except (MediaStreamError, asyncio.CancelledError):
            pass
        finally:
            self.frame = None

    async def next(self, timeout: float) -> Any:
        """The next frame to arrive within `timeout` seconds, else None."""
        arrived = self._arrived
        try:
            await asyncio.wait_for(arrived.wait(), timeout)
        except asyncio.TimeoutError:
            return None
        return self.frame

    def image(self) -> np.ndarray | None:
        """The latest video frame as an RGB array (a copy: the frame itself is not kept)."""
        frame = self.frame
        if frame is None or self.kind != "video":
            return None
        return frame.to_ndarray(format="rgb24")


class Forward(MediaStreamTrack):
    """What one end receives: the other end's feed, re-stamped on this track's own clock; blank while it is absent."""

    def __init__(self, feed: Feed):
        super().__init__()
        self.kind = feed.kind
        self.feed = feed
        self._t0: float | None = None
        self._samples = 0

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self._t0 is None:
            self._t0 = time.monotonic()
        if self.kind == "video":
            frame = await self.feed.next(1 / BLANK_FPS) if self.feed.live else None
            if frame is None:
                if not self.feed.live:
                    await asyncio.sleep(1 / BLANK_FPS)
                frame = av.VideoFrame.from_ndarray(np.zeros((*BLANK_SIZE, 3), np.uint8), format="rgb24")
            frame.pts = int((time.monotonic() - self._t0) * VIDEO_RATE)
            frame.time_base = fractions.Fraction(1, VIDEO_RATE)
            return frame
        frame = await self.feed.next(AUDIO_SAMPLES / AUDIO_RATE * 2) if self.feed.live else None
        if frame is None:
            # silence, paced on this track's clock
            due = self._t0 + self._samples / AUDIO_RATE
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            frame = av.AudioFrame(format="s16", layout="stereo", samples=AUDIO_SAMPLES)
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.sample_rate = AUDIO_RATE
        frame.pts = self._samples
        frame.time_base = fractions.Fraction(1, frame.sample_rate)
        self._samples += frame.samples
        return frame


class End:
    """One end of a call on the server: its peer connection and the feeds of what it sends."""

    def __init__(self, role: str):
        self.role = role
        self.video, self.audio = Feed("video"), Feed("audio")
        self.pc: RTCPeerConnection | None = None

    @property
    def connected(self) -> bool:
        return self.pc is not None and self.pc.connectionState == "connected"

    async def close(self) -> None:
        pc, self.pc = self.pc, None
        self.video.detach()
        self.audio.detach()
        if pc is not None:
            with contextlib.suppress(Exception):
                await pc.close()


def ice_configuration(servers: list[dict]) -> RTCConfiguration:
    return RTCConfiguration(iceServers=[RTCIceServer(urls=s["urls"], username=s.get("username"),
                                                     credential=s.get("credential")) for s in servers])


async def answer(end: End, other: End, offer_sdp: str, ice_servers: list[dict]) -> str:
    """Accept `end`'s offer: its tracks feed `end`, the other end's feeds are sent back. Returns the answer's SDP.

    Non-trickle: the browser sends its offer once its candidates are gathered,
    aiortc answers with all of its own.
    """
    await end.close()
    pc = RTCPeerConnection(configuration=ice_configuration(ice_servers))
    end.pc = pc

    @pc.on("track")
    def _on_track(track):
        (end.video if track.kind == "video" else end.audio).attach(track)

    @pc.on("connectionstatechange")
    async def _on_state():
        if pc.connectionState in ("failed", "closed") and end.pc is pc:
            end.video.detach()
            end.audio.detach()

    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
    for transceiver in pc.getTransceivers():
        if transceiver.sender.track is None:
            pc.addTrack(Forward(other.video if transceiver.kind == "video" else other.audio))
    await pc.setLocalDescription(await pc.createAnswer())
    return pc.localDescription.sdp
