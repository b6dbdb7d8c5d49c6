"""Integrations of refreshauth with other Django packages, each an app of its own."""
