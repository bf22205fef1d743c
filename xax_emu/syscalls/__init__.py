"""Declarative emulation profiles and the syscall catalogue (the profiles issue builds this)."""
