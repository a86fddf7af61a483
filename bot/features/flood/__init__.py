"""A flooded channel: one summary message while its backlog is posted at Slack's pace."""
