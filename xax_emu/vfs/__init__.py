"""The virtual filesystem's Python side: tar images, RAM disk and origin routes (the profiles issue builds this)."""
