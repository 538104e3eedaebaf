"""Verification: classify → read → check → verdict for the pages of a request."""

import cv2

# OpenCV on one thread: requests are read side by side (a worker per mailbox),
# and its own thread pool on two cores spends ~15% more CPU for the same work.
cv2.setNumThreads(1)
