"""Privacy webhooks: customers/data_request, customers/redact and shop/redact, answered as Shopify requires."""
