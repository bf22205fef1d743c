"""vfsbench's profile: static-libc; the image at / (tar route), a 48 MiB RAM disk at /ram."""
from xax_emu.profiles import load
from xax_emu.syscalls.profile import Profile, RamDisk

VFSBENCH = Profile(
    "vfsbench",
    extends=[load("static-libc")],
    note="reads /data and /usr/lib/python3.11 from the image, writes /ram",
    routes={"/ram": RamDisk(size=48 << 20)},
)
