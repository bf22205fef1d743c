"""The one use the PAL makes of mprotect for rewriting system call sites (docs/rewrite.md):
making a page of the program's text writable.  The seal allowed that before rewriting
existed (any of the picoprocess's own memory): a program doing it to its own text, mapped
privately from the image fd, changes its own copy of the page, never the image that a
second picoprocess maps."""
import hashlib

from xax_emu.image import pack_image

from conftest import run_pico


def test_writing_its_own_text_changes_neither_the_image_nor_another_run(build, tmp_path):
    prog = build("hostile/text_write.c")
    (tmp_path / "app.toml").write_text(
        '[app]\nname = "textwrite"\nentry = "/bin/textwrite"\nargs = []\ncwd = "/"\nprofile = "static-libc"\n\n'
        f'[files]\n"/bin/textwrite" = "{prog}"\n')
    image = tmp_path / "textwrite.tar"
    pack_image(str(tmp_path / "app.toml"), str(image))
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    first = run_pico(image)
    second = run_pico(image)
    assert first.code == second.code == 0, (first.stderr, second.stderr)
    assert first.stdout == second.stdout  # the second run found the byte the first one wrote over
    found, wrote = first.stdout.split()[1].rstrip(b","), first.stdout.split()[5].rstrip(b",")
    assert int(found, 16) ^ 0xff == int(wrote, 16) and first.stdout.endswith(b"target 7\n")
    assert hashlib.sha256(image.read_bytes()).hexdigest() == digest
