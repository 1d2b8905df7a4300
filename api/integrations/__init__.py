"""Helpdesk integrations: clients of outside systems (Chatwoot) that the API's routers call."""
