"""What pages leave in the browser console: every browser test fails on an error there."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage


class BrowserConsole:
    """The errors pages logged to the console (a failed request such as a missing favicon, a
    CSP violation, an htmx error) or raised in JavaScript; none may be left at teardown."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.expected: list[str] = []

    def expect(self, text: str) -> None:
        """One error the test causes on purpose (``"status of 404"`` for a missing page)."""
        self.expected.append(text)

    def record(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} ({message.location.get('url', '?')})")

    def unexpected(self) -> list[str]:
        left = list(self.errors)
        for text in self.expected:
            found = [error for error in left if text in error]
            assert found, f"expected an error with {text!r} in the console: {self.errors}"
            left.remove(found[0])
        return left
