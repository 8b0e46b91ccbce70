"""Scrubbing text of secret values, and of the values a user names for ``provkernel redact --value``."""

from __future__ import annotations

from provkernel.secrets import REDACTED, Secrets


def test_a_given_value_inside_a_secret_leaves_nothing_of_the_secret():
    secrets = Secrets({"API_TOKEN": "abcdSECRETvalue1234", "HOME": "/root"}, read=None)
    scrub = secrets.scrubber(["SECRET", ""])
    assert scrub("x abcdSECRETvalue1234 y SECRET z") == f"x {REDACTED} y {REDACTED} z"
    assert secrets.scrub("token abcdSECRETvalue1234") == f"token {REDACTED}"
    assert scrub("https://ana:pw@host/data.csv") == secrets.scrub("https://ana:pw@host/data.csv")
