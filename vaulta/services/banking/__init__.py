"""Customers and their accounts: commands (writes) and queries (reads for pages)."""
