"""Writes nfc.txt, the canonical (NFC) data UnicodeNfc.cs reads, from Python's unicodedata.

Lines: "<cp> <ccc>" for code points with a non-zero canonical combining class, and
"<cp> <kind> <a> [<b>]" for canonical decompositions (hex), kind "c" when the code point is a primary composite
(NFC recomposes it), "d" otherwise (singletons, non-starter decompositions, composition exclusions).
Hangul syllables are algorithmic and not listed.
"""
import sys
import unicodedata

out = [f"# Unicode {unicodedata.unidata_version} canonical data for NFC, from make_nfc_table.py"]
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF or 0xAC00 <= cp <= 0xD7A3:
        continue
    ch = chr(cp)
    ccc = unicodedata.combining(ch)
    if ccc:
        out.append(f"{cp:X} {ccc}")
    d = unicodedata.decomposition(ch)
    if d and not d.startswith("<"):
        parts = d.split()
        kind = "c" if len(parts) == 2 and unicodedata.normalize("NFC", ch) == ch else "d"
        out.append(f"{cp:X} {kind} " + " ".join(parts))
open("nfc.txt", "w").write("\n".join(out) + "\n")
