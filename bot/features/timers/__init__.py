"""Timers: a pending request's reminders, escalation (with its copies) and expiry."""
