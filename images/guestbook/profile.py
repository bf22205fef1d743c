"""The guestbook: glibc-dynamic, and /data (its entries) a RAM disk."""
from xax_emu.profiles import load
from xax_emu.syscalls.profile import Profile, RamDisk

GUESTBOOK = Profile("guestbook", extends=[load("glibc-dynamic")], routes={"/data": RamDisk(size=4 << 20)})
