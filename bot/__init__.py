"""holdfast: Slack-first approval workflows for Shopify orders.

bot/ reads as four groups:
- wiring: app.py (create_app, the composition root), runtime.py, settings.py, slack.py (bolt and its middleware),
  slack_http.py (/slack/events in front of bolt), ingest.py (webhook group commit), clock.py, directory.py
  (Slack user groups), shopify/ (the Admin API client and its documents) and jobs/ (the worker, the job registry,
  Slack calls and the periodic scheduler: it imports no feature);
- the pure core: approvals/ (order facts, policies, the state machine, job kinds and keys), blocks/ (Block Kit),
  reports/ (figures, queries, export formats), and the throttle maths (shopify/throttle.py, jobs/pacing.py): no
  I/O, no clock;
- features/: one folder per feature, with its service, its job executors and its job kinds;
- cli/: the `holdfast` command and its subcommands.
"""
