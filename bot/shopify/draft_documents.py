"""The GraphQL documents of internal orders (/order-request): the modal's variant search, the draft order's life,
and the payment terms a "due on receipt" draft is completed with. bot/shopify/documents.py re-exports them and
lists them in its ALL, which the contract tests validate against Shopify's 2026-10 schema."""

# Internal orders (/order-request): variant search for the modal, the draft's life, and tagging its order.
PRODUCT_VARIANT_SEARCH = """
query ProductVariantSearch($query: String!, $first: Int!) {
  productVariants(first: $first, query: $query) {
    nodes {
      id
      title
      displayName
      sku
      inventoryQuantity
      price
      product { id title status }
    }
  }
}
"""

VARIANTS_BY_ID = """
query VariantsById($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on ProductVariant { id displayName sku }
  }
}
"""

# What a draft's request needs to know of it: shared by creating it and finding it again after a lost reply.
_draft_fields = """
      id
      legacyResourceId
      name
      status
      totalPriceSet { shopMoney { amount currencyCode } }
      lineItems(first: 50) { nodes { name quantity sku } }
"""

DRAFT_ORDER_CREATE = """
mutation DraftOrderCreate($input: DraftOrderInput!) {
  draftOrderCreate(input: $input) {
    draftOrder {""" + _draft_fields + """    }
    userErrors { field message }
  }
}
"""

DRAFT_ORDER_STATE = """
query DraftOrderState($id: ID!) {
  draftOrder(id: $id) {
    id
    status
    tags
    order { id name legacyResourceId }
  }
}
"""

DRAFT_ORDER_COMPLETE = """
mutation DraftOrderComplete($id: ID!, $sourceName: String) {
  draftOrderComplete(id: $id, sourceName: $sourceName) {
    draftOrder {
      id
      status
      order { id name legacyResourceId }
    }
    userErrors { field message }
  }
}
"""

DRAFT_ORDER_DELETE = """
mutation DraftOrderDelete($input: DraftOrderDeleteInput!) {
  draftOrderDelete(input: $input) {
    deletedId
    userErrors { field message }
  }
}
"""

DRAFT_ORDERS_BY_TAG = """
query DraftOrdersByTag($query: String!) {
  draftOrders(first: 5, query: $query) {
    nodes {""" + _draft_fields + """    }
  }
}
"""


PAYMENT_TERMS_TEMPLATES = """
query PaymentTermsTemplates($type: PaymentTermsType) {
  paymentTermsTemplates(paymentTermsType: $type) { id name paymentTermsType }
}
"""


DRAFT_DOCUMENTS = {
    "ProductVariantSearch": PRODUCT_VARIANT_SEARCH,
    "VariantsById": VARIANTS_BY_ID,
    "DraftOrderCreate": DRAFT_ORDER_CREATE,
    "DraftOrderState": DRAFT_ORDER_STATE,
    "DraftOrderComplete": DRAFT_ORDER_COMPLETE,
    "DraftOrderDelete": DRAFT_ORDER_DELETE,
    "DraftOrdersByTag": DRAFT_ORDERS_BY_TAG,
    "PaymentTermsTemplates": PAYMENT_TERMS_TEMPLATES,
}
