"""The pre-moderation rules: which comments wait for a moderator, and which
are refused, before anyone reads them.

Each rule is a setting (config/settings.py): FORUM_PREMODERATION (everything),
FORUM_PREMODERATE_FIRST_COMMENTS (a new account's first N comments),
FORUM_PREMODERATE_LINKS_OVER (more than K links), and the words moderators list
in the admin (WordRule): a suspect word holds a comment, a banned word refuses
it with a message.

Words match as whole words, in any case, in any script, and through the usual
disguises: zero-width and other invisible characters, accents, look-alike
letters from other alphabets (Cyrillic "а" for Latin "a"), digits or signs
standing in for letters ("sp4m", "$pam"), and markup that does not show: both
the text as typed and the text readers see ("sp<b></b>am", "sp&#97;m") are read.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.html import strip_tags

from .models import Comment, Sanction, WordRule

# Look-alike letters, to the Latin letter they pass for. Unicode's own
# confusables list is far longer; these are the ones that fit in words.
_LOOKALIKES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "к": "k", "м": "m",
    "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
    "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "һ": "h", "ӏ": "l", "ь": "b",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "μ": "u",
    # Latin oddities NFKC leaves alone
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɡ": "g", "ɩ": "i", "ʏ": "y", "ł": "l",
    "ø": "o", "đ": "d", "ħ": "h", "ß": "ss",
    # Small capitals ("fancy text" generators; NFKC folds their bold and
    # circled letters, not these)
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g",
    "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n",
    "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v",
    "ᴡ": "w", "ᴢ": "z",
}  # fmt: skip
# Digits and signs written for letters, inside a word.
_STAND_INS = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
    "@": "a", "$": "s", "!": "i", "|": "l", "€": "e",
}  # fmt: skip
_LOOKALIKE_TABLE = str.maketrans(_LOOKALIKES)
_STAND_IN_TABLE = str.maketrans(_STAND_INS)
# A word with stand-ins in it: at least one real letter (so "2024" stays a
# number); "!" and "|" only before more of the word (so "spam!" keeps its "!"),
# "@", "$" and "€" at its end too ("a$$").
_PART = r"(?:\w|[@$€]|[!|](?=\w))"
_MIXED_WORD = re.compile(_PART + r"*[^\W\d_]" + _PART + "*")


def _accented(base):
    """Whether marks on ``base`` are accents a word keeps its identity
    without: Latin and Greek letters ("spám" is "spam"). Elsewhere marks make
    other letters (Cyrillic "й" is not "и", Devanagari vowel signs, Japanese
    voicing marks), so they stay."""
    code = ord(base)
    return (
        code <= 0x024F  # Latin, with its supplements and extensions A and B
        or 0x0370 <= code <= 0x03FF  # Greek
        or 0x1E00 <= code <= 0x1FFF  # Latin extended additional, Greek extended
    )


def _strip(text):
    """Casefolded, compatibility forms folded (full-width, ligatures), accents
    on Latin and Greek letters and invisible format characters (zero-width
    spaces, joiners, soft hyphens, direction marks) gone, look-alike letters
    made Latin."""
    kept, base = [], " "
    for ch in unicodedata.normalize("NFKD", text.casefold()):
        category = unicodedata.category(ch)
        if category == "Cf" or (category in ("Mn", "Me") and _accented(base)):
            continue
        if category not in ("Mn", "Me"):
            base = ch
        kept.append(ch)
    return unicodedata.normalize("NFKC", "".join(kept)).translate(_LOOKALIKE_TABLE)


def normalize(text):
    """The text as the rules read it: see _strip, then stand-ins read as the
    letters they stand for, inside words."""
    return _MIXED_WORD.sub(
        lambda m: m.group(0).translate(_STAND_IN_TABLE), _strip(text)
    )


def skeleton(text):
    """What ``text`` looks like, for telling look-alike names apart: two names
    with the same skeleton pass for each other ("Reader", "rеader" with a
    Cyrillic "е", "ｒｅａｄｅｒ", "r3ader"). See normalize; spaces dropped."""
    return "".join(normalize(text).split())


def _forms(text):
    """The two readings the rules match: stand-ins read as letters or not
    ("4chan" is a name; "sp4m" is spam)."""
    return {" ".join(_strip(text).split()), " ".join(normalize(text).split())}


@lru_cache(maxsize=8)
def _pattern(forms):
    """One regex for all ``forms``: each as whole words, the spaces between its
    words matching any run of spaces."""
    alternatives = sorted(
        {r"\s+".join(map(re.escape, form.split())) for form in forms if form},
        key=len,
        reverse=True,
    )
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


@dataclass
class WordLists:
    # Each listed phrase's forms (see _forms) -> the phrase as listed.
    banned: dict = field(default_factory=dict)
    suspect: dict = field(default_factory=dict)

    @classmethod
    def load(cls):
        lists = cls()
        for phrase, kind in WordRule.objects.values_list("phrase", "kind"):
            target = lists.banned if kind == WordRule.Kind.BANNED else lists.suspect
            for form in _forms(phrase):
                target[form] = phrase
        return lists

    def find(self, text, kind):
        """The listed phrases of ``kind`` found in ``text``, as listed."""
        phrases = getattr(self, kind)
        # Compiled once per list as it stands, not once per comment.
        pattern = _pattern(frozenset(phrases))
        if pattern is None:
            return []
        found = []
        for form in _forms(text):
            for match in pattern.finditer(form):
                listed = phrases.get(" ".join(match.group(0).split()))
                if listed and listed not in found:
                    found.append(listed)
        return found


def shown_text(body_html):
    """What readers read of the stored HTML: tags gone, character references
    decoded ("sp<b></b>am" and "sp&#97;m" both show as "spam")."""
    return unescape(strip_tags(body_html))


def _find(words, kind, *, body, body_html):
    """The listed phrases of ``kind`` in the text as typed (link addresses
    included) or as readers see it."""
    found = words.find(body, kind) + words.find(shown_text(body_html), kind)
    return list(dict.fromkeys(found))


def count_links(body_html):
    """Links in the stored HTML: what readers would be able to click."""
    return body_html.count("<a ")


def hold_reasons(*, author, body, body_html, sanctions, new_comment, words=None):
    """Why a comment by ``author`` should wait for a moderator ([] when it
    need not). Raises ValidationError on ``body`` when it has a banned word.

    ``sanctions`` are the kinds in force on the author; ``new_comment`` is False
    for an edit (a new account's first comments are counted when posted).
    Moderators are not screened; callers skip this for them.
    """
    words = words if words is not None else WordLists.load()
    banned = _find(words, "banned", body=body, body_html=body_html)
    if banned:
        quoted = ", ".join(f"“{w}”" for w in banned)
        raise ValidationError(
            {
                "body": f"Your comment contains {quoted}, which this forum does "
                "not accept. Please rephrase it."
            }
        )
    reasons = []
    if settings.FORUM_PREMODERATION:
        reasons.append("every comment is reviewed")
    if Sanction.Kind.PREMODERATE in sanctions:
        reasons.append("the author is always pre-moderated")
    first = settings.FORUM_PREMODERATE_FIRST_COMMENTS
    if new_comment and first and author is not None:
        approved = Comment.objects.filter(
            author=author, status=Comment.Status.PUBLISHED
        ).count()
        if approved < first:
            reasons.append(f"one of a new account's first {first} comments")
    over = settings.FORUM_PREMODERATE_LINKS_OVER
    links = count_links(body_html)
    if over is not None and links > over:
        reasons.append(f"{links} links (more than {over})")
    suspect = _find(words, "suspect", body=body, body_html=body_html)
    if suspect:
        reasons.append("suspect words: " + ", ".join(f"“{w}”" for w in suspect))
    return reasons
