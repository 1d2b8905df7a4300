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
