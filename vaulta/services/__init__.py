"""Business rules as plain functions. Each write is one database transaction.

Services never read ``request``, ``session`` or ``current_user``: the acting user is an
argument. They raise the typed errors of ``vaulta.services.errors``.
"""
