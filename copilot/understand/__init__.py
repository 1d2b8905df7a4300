"""The understand stage: what the customer needs, read once for drafts and triage alike."""
