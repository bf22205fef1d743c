"""lighttpd: glibc-dynamic, and /var/tmp (where it keeps request bodies too large for memory,
server.upload-dirs) a RAM disk."""
from xax_emu.profiles import load
from xax_emu.syscalls.profile import Profile, RamDisk

LIGHTTPD = Profile("lighttpd", extends=[load("glibc-dynamic")], routes={"/var/tmp": RamDisk(size=16 << 20)})
