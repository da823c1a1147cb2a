"""Characters no stored text may hold: the door refuses them (pastdue/http/strict.py), and a notice
replaces any that text stored earlier still holds (pastdue/notices/render.py)."""

from __future__ import annotations

import re

# C0, DEL, C1, and the Unicode line/paragraph separators (a line break would split a mail header).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A UTF-16 surrogate on its own ("\ud800" in JSON) is not a character: no e-mail, no UTF-8 can carry it.
SURROGATE = re.compile(r"[\ud800-\udfff]")
