"""tarram's profile: static-libc, its data read-only from the image, /tmp a RAM disk."""
from xax_emu.profiles import load
from xax_emu.syscalls.profile import Profile, RamDisk, Tar

TARRAM = Profile(
    "tarram",
    extends=[load("static-libc")],
    note="reads /data from the image, writes its report to a 1 MiB RAM disk at /tmp",
    routes={
        "/data": Tar("data"),  # the image's data/ directory, read-only
        "/tmp": RamDisk(size=1 << 20),
    },
)
