"""Campaign contacts: identifiers and phone numbers, CSV reading, import, and the ``outwire contacts`` commands."""
