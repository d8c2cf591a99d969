"""Concierge: the assistant layer (settings, service, agent, stores, API, CLI)."""
