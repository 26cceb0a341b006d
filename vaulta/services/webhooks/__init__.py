"""Webhooks: endpoints (commands and queries), signing, URL checks, dispatch and delivery."""
