"""What every app shares: API authentication, errors, body parsing, schema helpers, roles."""
