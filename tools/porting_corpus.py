"""The porting corpus: Debian programs the project never packed by hand, each with realistic
sample inputs, ported by `xax-emu init` alone.  tests/test_porting_corpus.py asserts every
run identical sealed with the generated files as they are; tools/gen_porting_doc.py reports
the lines generated and the calls still missing in docs/porting.md.  bootstrap.sh installs
the programs.

Each entry: (name, kind, program, runs), a run being (arguments, stdin file or None); the
inputs are made by make_inputs(directory), in the runs' working directory."""
from __future__ import annotations

import json
import math
import struct
import subprocess
import wave
import zlib
from pathlib import Path

PERL_SCRIPT = ("use List::Util qw(sum max); use POSIX qw(floor); my %n; while (<STDIN>) { my ($k, $v) = split /,/; "
               "$n{$k} += $v } printf(\"%s %d\\n\", $_, $n{$_}) for sort keys %n; "
               "printf(\"sum %d max %d floor %d\\n\", sum(values %n), max(values %n), floor(7 / 2));")
AWK_SCRIPT = 'BEGIN { FS = "," } { n[$1] += $2 } END { for (k in n) s = s sprintf("%s=%d;", k, n[k]); print s, NR }'

CORPUS = [
    ("jq", "text", "jq", [(["[.[] | select(.n > 40) | {name, twice: (.n * 2)}]", "records.json"], None),
                          (["-c", ".[0]"], "records.json")]),
    ("sed", "text", "sed", [(["-E", "s/([a-z]+)-([0-9]+)/\\2:\\1/g; /7/d", "words.txt"], None)]),
    ("grep", "text", "grep", [(["-n", "-E", "^(beta|delta)-1[0-9]*5 (beta|delta)$", "words.txt"], None)]),
    ("gawk", "text", "gawk", [([AWK_SCRIPT, "sales.csv"], None)]),
    ("bc", "text", "bc", [(["-l"], "calc.bc")]),
    ("xz", "compressor", "xz", [(["-c", "-6"], "words.txt"), (["-dc", "words.txt.xz"], None)]),
    ("gzip", "compressor", "gzip", [(["-c", "-9"], "words.txt"), (["-dc", "words.txt.gz"], None)]),
    ("zstd", "compressor", "zstd", [(["-q", "-c", "-19"], "words.txt"), (["-q", "-dc", "words.txt.zst"], None)]),
    ("flac", "audio", "flac", [(["-s", "-c", "--best", "-"], "tone.wav"), (["-s", "-d", "-c", "tone.flac"], None)]),
    ("lame", "audio", "lame", [(["--quiet", "-b", "64", "tone.wav", "-"], None)]),
    ("sox", "audio", "sox", [(["-D", "tone.wav", "-t", "wav", "-", "rate", "16000", "gain", "-3"], None)]),
    ("convert", "image", "/usr/bin/convert", [(["picture.png", "-resize", "50%", "-colorspace", "Gray", "gif:-"],
                                               None)]),
    ("xmllint", "document", "xmllint", [(["--format", "catalog.xml"], None),
                                        (["--xpath", "string(//book[2]/title)", "catalog.xml"], None)]),
    ("pdftotext", "document", "pdftotext", [(["-layout", "letter.pdf", "-"], None)]),
    ("perl", "interpreter", "perl", [(["-e", PERL_SCRIPT], "sales.csv")]),
]


def _png(path: Path, width: int = 48, height: int = 32) -> None:
    rows = b"".join(b"\0" + bytes(v for x in range(width) for v in (x * 5 % 256, y * 8 % 256, (x + y) * 3 % 256))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _wav(path: Path, seconds: float = 0.5, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * i / rate)))
                               for i in range(int(seconds * rate))))


def make_inputs(directory: Path) -> None:
    """The sample inputs, made here (the compressed and encoded ones with the host's own tools)."""
    d = Path(directory)
    names = ("alpha", "beta", "gamma", "delta")
    (d / "words.txt").write_text("".join(f"{names[i % 4]}-{i} {names[(i * 7) % 4]}\n" for i in range(400)))
    (d / "records.json").write_text(json.dumps([{"name": f"item{i}", "n": i * 7 % 50} for i in range(20)], indent=1))
    (d / "sales.csv").write_text("".join(f"{names[i % 3]},{i * 13 % 97}\n" for i in range(60)))
    (d / "calc.bc").write_text("scale=30\n4*a(1)\ne(1)\nsqrt(2)\nx=0\nfor (i=1; i<=20; i++) x += 1/i^2\nx\n")
    (d / "catalog.xml").write_text('<?xml version="1.0"?>\n<catalog><book id="1"><title>Xax</title></book>'
                                   '<book id="2"><title>Legacy code, in a browser</title><year>2008</year></book>'
                                   '</catalog>\n')
    _png(d / "picture.png")
    _wav(d / "tone.wav")
    for tool, suffix in (("xz", "xz"), ("gzip", "gz"), ("zstd", "zst")):
        with open(d / f"words.txt.{suffix}", "wb") as out:
            subprocess.run([tool, "-c", str(d / "words.txt")], stdout=out, check=True)
    subprocess.run(["flac", "-s", "-f", "-o", str(d / "tone.flac"), str(d / "tone.wav")], check=True)
    subprocess.run(["gs", "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-sDEVICE=pdfwrite",
                    f"-sOutputFile={d / 'letter.pdf'}", "-c",
                    "/Helvetica findfont 18 scalefont setfont 72 720 moveto (Leveraging legacy code) show "
                    "72 690 moveto (for Web browsers, 2008) show showpage"], check=True, capture_output=True)
