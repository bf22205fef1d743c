"""xax-emu: legacy native programs in a sealed picoprocess (the Xax system on Linux x86-64)."""
__version__ = "0.1.0"
