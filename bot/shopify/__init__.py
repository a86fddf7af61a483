"""Shopify Admin GraphQL: documents, pure throttle maths, and the async client."""
