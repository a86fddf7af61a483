"""Every GraphQL document holdfast sends (a test validates each against Shopify's real schema)."""

ORDER_FULFILLMENT_ORDERS = """
query OrderFulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    name
    cancelledAt
    tags
    fulfillmentOrders(first: 50) {
      nodes {
        id
        status
        fulfillmentHolds { id handle reason }
      }
    }
  }
}
"""

FULFILLMENT_ORDER_HOLD = """
mutation FulfillmentOrderHold($id: ID!, $hold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $hold) {
    fulfillmentHold { id handle }
    fulfillmentOrder { id status }
    userErrors { field message code }
  }
}
"""

FULFILLMENT_ORDER_RELEASE_HOLD = """
mutation FulfillmentOrderReleaseHold($id: ID!, $holdIds: [ID!]) {
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) {
    fulfillmentOrder { id status }
    userErrors { field message code }
  }
}
"""

TAGS_ADD = """
mutation TagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}
"""

TAGS_REMOVE = """
mutation TagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}
"""

ALL = {
    "OrderFulfillmentOrders": ORDER_FULFILLMENT_ORDERS,
    "FulfillmentOrderHold": FULFILLMENT_ORDER_HOLD,
    "FulfillmentOrderReleaseHold": FULFILLMENT_ORDER_RELEASE_HOLD,
    "TagsAdd": TAGS_ADD,
    "TagsRemove": TAGS_REMOVE,
}
