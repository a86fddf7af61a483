"""Reports: /approvals queue, history, audit and stats, and the audit CSV."""
