"""Template slots ({customer_name}, {agent_name}, {brand}): filling them, and recognising left-over ones."""

from __future__ import annotations

import re

from copilot.text import fold

SLOT = re.compile(r"\{(\w+)\}")
_SLOT_HINTS = (
    ("agent_name", ("your name", "agent", "ten ban", "ten nhan vien", "nhan vien", "ten em", "my name")),
    ("customer_name", ("customer", "khach", "client", "merchant", "buyer", "name", "ten")),
    ("brand", ("brand", "company", "thuong hieu", "cong ty", "shop name", "ten shop", "store name")),
)


def fill(template: str, values: dict[str, str]) -> str | None:
    """`template` with its slots filled, or None when a slot has no value (callers then pick another line)."""
    needed = SLOT.findall(template)
    if any(not values.get(name) for name in needed):
        return None
    return SLOT.sub(lambda match: values[match.group(1)], template)


def slot_for(placeholder: str) -> str | None:
    """Which known slot a left-over placeholder such as `[Customer's Name]` or `<name>` stands for."""
    inner = fold(placeholder.strip("[]{}<> "))
    inner = re.sub(r"[^a-z0-9 ]+", " ", inner.replace("_", " ")).strip()
    for slot, hints in _SLOT_HINTS:
        if inner == slot.replace("_", " ") or any(hint in inner for hint in hints):
            return slot
    return None


# A slot the sentence stands without ("Thanks for waiting, {customer_name}."): only the name goes when it is
# missing. Any other missing slot takes its clause with it ("em là {agent_name}" would leave "em là").
VOCATIVE_SLOTS = frozenset({"customer_name"})
_MISSING = "\x00"
_CLAUSE = re.compile(r"[^,.!?;:]*[,.!?;:]*")
# Words a clause cannot end on (lower case, with diacritics: "ạ" is not "a"): what a removed slot would complete.
DANGLING_ENDS = frozenset(["from", "at", "with", "to", "the", "a", "an", "of", "by", "named",
                           "là", "của", "bên", "từ", "tại", "với"])
DANGLING_PAIRS = frozenset({("this", "is"), ("name", "is"), ("i", "am"), ("i", "m"), ("here", "is")})
_PREPOSITION = re.compile(r"\s*\b(from|at|with|to|của|bên|từ|tại)\s+(the\s+)?" + _MISSING + r"(?=\s*([,.!?;:]|$))",
                          re.IGNORECASE)


def write_around_slots(template: str, values: dict[str, str]) -> str:
    """Fill known slots; a missing name is left out, any other missing slot with its clause, so no customer ever
    reads "Hi, this is." or "em là."."""
    text = SLOT.sub(lambda m: values.get(m.group(1)) or ("" if m.group(1) in VOCATIVE_SLOTS else _MISSING), template)
    text = _PREPOSITION.sub("", text)
    kept: list[str] = []
    for clause in _CLAUSE.findall(text):
        if _MISSING not in clause:
            kept.append(clause)
        elif kept and re.search(r"[.!?]\s*$", clause) and kept[-1].rstrip().endswith(","):
            kept[-1] = kept[-1].rstrip()[:-1] + clause.strip()[-1] + " "  # "A, B {x}." -> "A."
    text = "".join(kept)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    text = re.sub(r",\s*([,.!?;:])", r"\1", text)
    text = re.sub(r"([.!?])[.!?,;:]+", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text).strip().lstrip(",;: ")
    return _capitalised_sentences(text) if fold(text).strip(" .,!?") else ""


def _capitalised_sentences(text: str) -> str:
    return re.sub(r"(^|[.!?]\s+)([a-zà-ỹđ])", lambda m: m.group(1) + m.group(2).upper(), text)


def dangling_words(text: str) -> list[str]:
    """Clauses of `text` that end on a word a missing slot would have completed ("this is.", "em là,")."""
    found = []
    for clause in re.split(r"[,.!?;:]", text):
        tokens = re.findall(r"\w+", clause.lower())
        if tokens and (tokens[-1] in DANGLING_ENDS or tuple(tokens[-2:]) in DANGLING_PAIRS):
            found.append(clause.strip())
    return found
