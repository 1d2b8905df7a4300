"""How a Vietnamese reply addresses the customer: the form the conversation already uses ("chị Lan",
"dạ anh"), else the generic one ("anh/chị"). The forms are the knowledge base's (`answers.yaml`,
`address`)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from copilot.understand.config import Address


def _form_pattern(forms: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<![\w/])({alternatives})(?![\w/])", re.IGNORECASE)


def address_form(
    address: Address | None, agent_texts: Sequence[str], customer_name: str | None
) -> str | None:
    """The form to call the customer, or None when nothing in the conversation or the request tells."""
    if address is None or not address.forms:
        return None
    pattern = _form_pattern(address.forms)
    if customer_name:
        named = pattern.match(customer_name.strip())
        if named:
            return named.group(1).lower()
    counts = Counter(match.group(1).lower() for text in agent_texts for match in pattern.finditer(text))
    return counts.most_common(1)[0][0] if counts else None


def bare_name(address: Address | None, customer_name: str) -> str:
    """The customer's name without a leading form ("Chị Lan" -> "Lan"), so a template can put its own."""
    if address is None or not address.forms:
        return customer_name
    return _form_pattern(address.forms).sub("", customer_name, count=1).strip() or customer_name


def addressed(text: str, address: Address | None, form: str | None) -> str:
    """`text` with the generic form replaced by the known one, keeping a capital at a sentence's start."""
    if address is None or form is None:
        return text
    generic = re.compile(re.escape(address.generic), re.IGNORECASE)
    return generic.sub(lambda match: form.capitalize() if match.group(0)[0].isupper() else form, text)
