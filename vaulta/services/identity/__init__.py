"""Sign-in identities: users, passwords and their policy, one-time codes, the second factor,
password reset and API keys."""
