"""Every GraphQL document holdfast sends (a test validates each against Shopify's real schema)."""

from bot.shopify.draft_documents import (  # noqa: F401 - re-exported: callers use documents.<NAME>
    DRAFT_DOCUMENTS,
    DRAFT_ORDER_COMPLETE,
    DRAFT_ORDER_CREATE,
    DRAFT_ORDER_DELETE,
    DRAFT_ORDER_STATE,
    DRAFT_ORDERS_BY_TAG,
    PAYMENT_TERMS_TEMPLATES,
    PRODUCT_VARIANT_SEARCH,
    VARIANTS_BY_ID,
)

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
        fulfillAt
        fulfillmentHolds { id handle heldByRequestingApp }
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

TAGS_CHANGE = """
mutation TagsChange($id: ID!, $add: [String!]!, $remove: [String!]!) {
  tagsRemove(id: $id, tags: $remove) {
    node { id }
    userErrors { field message }
  }
  tagsAdd(id: $id, tags: $add) {
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


ORDER_NOTE = """
query OrderNote($id: ID!) {
  order(id: $id) {
    id
    note
  }
}
"""

ORDER_UPDATE_NOTE = """
mutation OrderUpdateNote($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id note }
    userErrors { field message }
  }
}
"""

ORDER_CANCEL = """
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $refundMethod: OrderCancelRefundMethodInput,
                     $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: $restock,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

ORDER_CANCEL_STATUS = """
query OrderCancelStatus($jobId: ID!, $orderId: ID!) {
  job(id: $jobId) { id done }
  order(id: $orderId) { id cancelledAt displayFinancialStatus }
}
"""

ORDER_CANCELLED_AT = """
query OrderCancelledAt($id: ID!) {
  order(id: $id) { id cancelledAt displayFinancialStatus }
}
"""


# Reconciliation (issue 7): orders changed since a watermark, the orders behind stored requests, and webhooks.
_reconcile_order_fields = """
    id
    legacyResourceId
    name
    createdAt
    updatedAt
    cancelledAt
    displayFulfillmentStatus
    displayFinancialStatus
    currencyCode
    email
    tags
    sourceName
    discountCodes
    customAttributes { key value }
    totalPriceSet { shopMoney { amount } }
    subtotalPriceSet { shopMoney { amount } }
    totalDiscountsSet { shopMoney { amount } }
    shippingAddress { countryCodeV2 }
    customer { firstName lastName tags numberOfOrders defaultEmailAddress { emailAddress } }
    lineItems(first: 10) {
      nodes { title quantity sku vendor originalUnitPriceSet { shopMoney { amount } } product { productType } }
    }
    fulfillmentOrders(first: 10) { nodes { id status fulfillmentHolds { id handle } } }
"""

RECONCILE_ORDERS = """
query ReconcileOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {""" + _reconcile_order_fields + """    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

ORDERS_STATE = """
query OrdersState($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Order {
      id
      cancelledAt
      displayFulfillmentStatus
      tags
      fulfillmentOrders(first: 10) { nodes { id status fulfillmentHolds { id handle } } }
    }
  }
}
"""

WEBHOOK_SUBSCRIPTIONS = """
query WebhookSubscriptions($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}
"""

WEBHOOK_SUBSCRIPTION_CREATE = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
"""


# What an orders/create webhook does not carry (orders.enrich): the customer's tags and number of orders (gone
# from order webhooks), product tags and type, whether a company bought it (B2B), and risk.
ORDER_ENRICHMENT = """
query OrderEnrichment($id: ID!) {
  order(id: $id) {
    id
    risk { recommendation assessments { riskLevel } }
    customer { tags numberOfOrders }
    purchasingEntity { __typename }
    lineItems(first: 100) { nodes { sku title product { tags productType } } }
  }
}
"""


# A fulfillment_orders/* webhook names a fulfillment order only: which order is it?
FULFILLMENT_ORDER_ORDER = """
query FulfillmentOrderOrder($id: ID!) {
  fulfillmentOrder(id: $id) { id status orderId }
}
"""




# `holdfast doctor`: the access scopes the merchant granted (write scopes bring their read scope, and Shopify lists
# both: https://shopify.dev/docs/api/admin-graphql/2025-10/queries/appinstallation).
APP_ACCESS_SCOPES = """
query AppAccessScopes {
  currentAppInstallation { id accessScopes { handle } }
}
"""


# `holdfast doctor`: is protected customer data granted? Shopify refuses a Customer (level 1) or a name or email
# (level 2) the app is not approved for with an ACCESS_DENIED error pointing at its protected customer data page,
# and serves the rest (https://shopify.dev/docs/apps/launch/protected-customer-data). The customer id needs not
# exist: access is checked before the lookup. The latest order, if any, shows the level-2 fields.
CUSTOMER_DATA_PROBE = """
query CustomerDataProbe($customer: ID!) {
  customer(id: $customer) { id }
  orders(first: 1, reverse: true) { nodes { id email customer { id displayName } } }
}
"""


ALL = {
    "OrderFulfillmentOrders": ORDER_FULFILLMENT_ORDERS,
    "FulfillmentOrderOrder": FULFILLMENT_ORDER_ORDER,
    "FulfillmentOrderHold": FULFILLMENT_ORDER_HOLD,
    "FulfillmentOrderReleaseHold": FULFILLMENT_ORDER_RELEASE_HOLD,
    "TagsAdd": TAGS_ADD,
    "TagsRemove": TAGS_REMOVE,
    "TagsChange": TAGS_CHANGE,
    "OrderNote": ORDER_NOTE,
    "OrderUpdateNote": ORDER_UPDATE_NOTE,
    "OrderCancel": ORDER_CANCEL,
    "OrderCancelStatus": ORDER_CANCEL_STATUS,
    "OrderCancelledAt": ORDER_CANCELLED_AT,
    "OrderEnrichment": ORDER_ENRICHMENT,
    "ReconcileOrders": RECONCILE_ORDERS,
    "OrdersState": ORDERS_STATE,
    "WebhookSubscriptions": WEBHOOK_SUBSCRIPTIONS,
    "WebhookSubscriptionCreate": WEBHOOK_SUBSCRIPTION_CREATE,
    "AppAccessScopes": APP_ACCESS_SCOPES,
    "CustomerDataProbe": CUSTOMER_DATA_PROBE,
    **DRAFT_DOCUMENTS,
}
