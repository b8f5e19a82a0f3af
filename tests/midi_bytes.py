"""Raw Standard MIDI File bytes for tests of hostile files (what a decoder sees, byte by byte)."""

from __future__ import annotations

import struct

END_OF_TRACK = b"\x00\xff\x2f\x00"


def vlq(value: int) -> bytes:
    """``value`` as a MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def smf(file_format: int, tpq: int, tracks: list[bytes]) -> bytes:
    """A file of ``tracks`` (each the events of one MTrk chunk) with this header."""
    header = b"MThd" + struct.pack(">IHHH", 6, file_format, len(tracks), tpq)
    return header + b"".join(b"MTrk" + struct.pack(">I", len(t)) + t for t in tracks)
