"""Durable jobs: the worker that runs effects, and the periodic job list."""
