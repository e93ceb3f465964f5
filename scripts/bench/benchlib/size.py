"""5. Size: the zipped bootstrap as Lambda receives it, and the peak RSS of
each bootstrap after its warm series (measured in warm.py)."""

import io
import os
import zipfile

from .settings import HELLO, MEASURED, TARGETS, TOOLS
from .stats import ratio

TITLE = "bootstrap sizes"
NOTE = """\
- 5: zip of the x86_64 release bootstrap (deflate), as uploaded; peak RSS is
  VmHWM of the bootstrap process after its warm series."""


def zipped_mb(function):
    """The bootstrap as one deflated zip entry, in MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(os.path.join(TOOLS, function, "bootstrap"), "bootstrap")
    return len(buffer.getvalue()) / 1e6


def measure(calls, floors):
    return {function: zipped_mb(function) for function in MEASURED}


def rows(table, results):
    zipped = results["size"]
    # A partial run without the warm section has no RSS to show.
    rss = results.get("warm", {}).get("rss", {})
    shown = lambda f: f"{rss[f]:.1f} MB" if rss.get(f) is not None else "n/a"  # noqa: E731
    for f in MEASURED[1:]:
        table.row("5 size", f"{f}: zipped bootstrap / peak RSS (warm, VmHWM)",
                  f"{zipped[f]:.2f} MB / {shown(f)}",
                  f"hello {zipped[HELLO]:.2f} MB / {shown(HELLO)}", ratio(zipped[f], zipped[HELLO]),
                  f"{TARGETS['zip']} / {TARGETS['rss']}")
