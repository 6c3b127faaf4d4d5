"""LinkedIn's "little text" format for post commentary: what Publora's text becomes.

LinkedIn parses `commentary` as little text, where `| { } @ [ ] ( ) < > # \\ * _ ~` are reserved
and must be escaped with a backslash, or the text is cut or misread
(https://learn.microsoft.com/linkedin/marketing/community-management/shares/little-text-format).
Two things are kept as markup, written as Publora documents them:

- mentions `@{urn:li:person:ID|Name}` and `@{urn:li:organization:ID|Company}` become
  `@[Name](urn:li:person:ID)`;
- hashtags `#word` become `{hashtag|\\#|word}`.

Everything else is escaped. One left-to-right pass with patterns that cannot backtrack, so the
work is linear in the text's length.
"""

from __future__ import annotations

import re

RESERVED = frozenset("|{}@[]()<>#\\*_~")
_MARKUP = re.compile(
    r"@\{(?P<urn>urn:li:(?:person|organization):[A-Za-z0-9_-]{1,100})\|(?P<name>[^|{}]{1,200})\}"
    r"|(?<![\w#&])#(?P<tag>\w{1,200})"
)


def escape(text: str) -> str:
    """`text` with every reserved character backslash-escaped."""
    return "".join("\\" + c if c in RESERVED else c for c in text)


def commentary(text: str) -> str:
    """Publora post text as LinkedIn little text: mentions and hashtags kept, the rest escaped."""
    out: list[str] = []
    at = 0
    for match in _MARKUP.finditer(text):
        out.append(escape(text[at : match.start()]))
        if match.group("urn"):
            out.append(f"@[{escape(match.group('name').strip())}]({match.group('urn')})")
        else:
            out.append(f"{{hashtag|\\#|{escape(match.group('tag'))}}}")
        at = match.end()
    out.append(escape(text[at:]))
    return "".join(out)


def mentions(text: str) -> list[str]:
    """The URNs `text` mentions, in order."""
    return [m.group("urn") for m in _MARKUP.finditer(text) if m.group("urn")]
