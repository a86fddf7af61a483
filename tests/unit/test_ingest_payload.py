import json

import pytest

from bot.ingest import Delivery, job_payload

ORDER = {"id": 7, "note": "ünïcode", "tags": "a, b"}


@pytest.mark.parametrize("raw", [
    json.dumps(ORDER).encode(),                                  # as Shopify sends it
    json.dumps(ORDER, ensure_ascii=False, indent=2).encode(),    # raw UTF-8, other spacing
    b"\xef\xbb\xbf" + json.dumps(ORDER).encode(),                # a UTF-8 byte-order mark
    json.dumps(ORDER).encode("utf-16"),                          # JSON in UTF-16 (json.loads accepts it)
])
def test_the_job_payload_wraps_the_order_as_it_was_parsed(raw):
    d = Delivery("orders/create", "shop.myshopify.com", "w-1", None, json.loads(raw), raw)
    assert json.loads(job_payload(d)) == {"shop": "shop.myshopify.com", "topic": "orders/create",
                                          "webhook_id": "w-1", "order": ORDER}
