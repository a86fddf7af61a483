"""Pure Block Kit builders, Slack id enums and typed button values."""
