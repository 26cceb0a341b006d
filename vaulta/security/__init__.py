"""Cross-cutting protections: response headers, session timeouts, rate limits, sign-in device
cookies and input checks. ``vaulta.security.setup.init_security(app)`` wires them into an
app; docs/security.md lists each protection, its configuration and the test that proves it.
"""
