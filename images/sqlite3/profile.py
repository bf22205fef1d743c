"""sqlite3's profile: glibc-dynamic, its databases on a 4 MiB RAM disk at /data."""
from xax_emu.profiles import load
from xax_emu.syscalls.profile import Profile, RamDisk

SQLITE3 = Profile(
    "sqlite3",
    extends=[load("glibc-dynamic")],
    note="sqlite3 with its databases (and their journals) on a RAM disk at /data",
    routes={"/data": RamDisk(size=4 << 20)},
)
