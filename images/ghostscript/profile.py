"""ghostscript's profile: glibc-dynamic, and /docs the origin's /docs/ directory, fetched on
first open through xabi_open_url (the Same Origin Policy: only the image's own origin)."""
from xax_emu.profiles import load
from xax_emu.syscalls.profile import Profile, origin

GHOSTSCRIPT = Profile(
    "ghostscript",
    extends=[load("glibc-dynamic")],
    note="the PDF to render is read from the image's origin, /docs/NAME.pdf",
    routes={"/docs": origin("/docs")},
)
