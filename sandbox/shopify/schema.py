"""The sandbox's GraphQL schema: a hand-written subset of Shopify's Admin API 2026-10.

Every type, field, argument, enum value and input field below exists in Shopify's
real schema with the same type reference and the same deprecations (a test proves it against the
published SDL); nothing is invented. Descriptions are omitted.
"""

from graphql import GraphQLSchema, build_schema

from .schema_extra import EXTRA_SDL, PAGE_ARGS as _PAGE

API_VERSION = "2026-10"
# The stable versions Shopify serves in December 2026: each is supported for at least 12 months after its quarterly
# release (https://shopify.dev/docs/api/usage/versioning, "Release schedule"), so 2025-10 left in October 2026.
SUPPORTED_API_VERSIONS = ("2026-01", "2026-04", "2026-07", "2026-10")

SDL = f"""
schema {{ query: QueryRoot mutation: Mutation }}

scalar DateTime
scalar Decimal
scalar Money
scalar URL
scalar UnsignedInt64

interface Node {{ id: ID! }}
interface LegacyInteroperability {{ legacyResourceId: UnsignedInt64! }}
interface DisplayableError {{ field: [String!] message: String! }}

type QueryRoot {{
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  order(id: ID!): Order
  orders({_PAGE}, query: String, reverse: Boolean = false, sortKey: OrderSortKeys = PROCESSED_AT): OrderConnection!
  fulfillmentOrder(id: ID!): FulfillmentOrder
  customer(id: ID!): Customer
  draftOrder(id: ID!): DraftOrder
  draftOrders({_PAGE}, query: String, reverse: Boolean = false, sortKey: DraftOrderSortKeys = ID): DraftOrderConnection!
  paymentTermsTemplates(paymentTermsType: PaymentTermsType): [PaymentTermsTemplate!]!
  job(id: ID!): Job
  product(id: ID!): Product
  productVariant(id: ID!): ProductVariant
  productVariants({_PAGE}, query: String, reverse: Boolean = false, sortKey: ProductVariantSortKeys = ID): ProductVariantConnection!
  shop: Shop!
  currentAppInstallation: AppInstallation!
  webhookSubscriptions(
    {_PAGE}, callbackUrl: URL @deprecated(reason: "Use `uri` instead."), format: WebhookSubscriptionFormat,
    query: String, reverse: Boolean = false, sortKey: WebhookSubscriptionSortKeys = CREATED_AT,
    topics: [WebhookSubscriptionTopic!], uri: String
  ): WebhookSubscriptionConnection!
}}

type Mutation {{
  fulfillmentOrderHold(fulfillmentHold: FulfillmentOrderHoldInput!, id: ID!): FulfillmentOrderHoldPayload
  fulfillmentOrderReleaseHold(externalId: String, holdIds: [ID!], id: ID!): FulfillmentOrderReleaseHoldPayload
  tagsAdd(id: ID!, tags: [String!]!): TagsAddPayload
  tagsRemove(id: ID!, tags: [String!]!): TagsRemovePayload
  orderUpdate(input: OrderInput!): OrderUpdatePayload
  orderCancel(
    notifyCustomer: Boolean = false, orderId: ID!, reason: OrderCancelReason!,
    refund: Boolean @deprecated(reason: "Use `refundMethod` instead."), refundMethod: OrderCancelRefundMethodInput,
    restock: Boolean!, staffNote: String = null
  ): OrderCancelPayload
  draftOrderCreate(input: DraftOrderInput!): DraftOrderCreatePayload
  draftOrderComplete(id: ID!, paymentGatewayId: ID, sourceName: String): DraftOrderCompletePayload
  draftOrderDelete(input: DraftOrderDeleteInput!): DraftOrderDeletePayload
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload
}}

type PageInfo {{ endCursor: String hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String }}
type MoneyV2 {{ amount: Decimal! currencyCode: CurrencyCode! }}
type MoneyBag {{ presentmentMoney: MoneyV2! shopMoney: MoneyV2! }}
type Attribute {{ key: String! value: String }}
type UserError implements DisplayableError {{ field: [String!] message: String! }}

type Shop implements Node {{
  id: ID! name: String! myshopifyDomain: String! email: String! currencyCode: CurrencyCode!
  ianaTimezone: String! url: URL!
}}

type App implements Node {{ id: ID! title: String! handle: String apiKey: String! }}
type AppInstallation implements Node {{ id: ID! accessScopes: [AccessScope!]! }}
type AccessScope {{ handle: String! }}

type Order implements LegacyInteroperability & Node {{
  id: ID!
  metafield(key: String!, namespace: String): Metafield
  legacyResourceId: UnsignedInt64!
  name: String!
  createdAt: DateTime!
  updatedAt: DateTime!
  processedAt: DateTime!
  cancelledAt: DateTime
  cancelReason: OrderCancelReason
  closed: Boolean!
  closedAt: DateTime
  email: String
  phone: String
  note: String
  poNumber: String
  tags: [String!]!
  test: Boolean!
  sourceName: String
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  currencyCode: CurrencyCode!
  presentmentCurrencyCode: CurrencyCode!
  subtotalLineItemsQuantity: Int!
  totalPriceSet: MoneyBag!
  currentTotalPriceSet: MoneyBag!
  subtotalPriceSet: MoneyBag
  currentSubtotalPriceSet: MoneyBag!
  totalDiscountsSet: MoneyBag
  currentTotalDiscountsSet: MoneyBag!
  totalShippingPriceSet: MoneyBag!
  totalTaxSet: MoneyBag
  discountCode: String
  discountCodes: [String!]!
  customAttributes: [Attribute!]!
  customer: Customer
  purchasingEntity: PurchasingEntity
  paymentTerms: PaymentTerms
  shippingAddress: MailingAddress
  billingAddress: MailingAddress
  risk: OrderRiskSummary!
  lineItems({_PAGE}, reverse: Boolean = false): LineItemConnection!
  fulfillmentOrders({_PAGE}, displayable: Boolean = false, reverse: Boolean = false): FulfillmentOrderConnection!
}}
type OrderConnection {{ edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }}
type OrderEdge {{ cursor: String! node: Order! }}
type DraftOrderConnection {{ edges: [DraftOrderEdge!]! nodes: [DraftOrder!]! pageInfo: PageInfo! }}
type DraftOrderEdge {{ cursor: String! node: DraftOrder! }}
enum DraftOrderSortKeys {{ ID NUMBER }}
enum OrderSortKeys {{ CREATED_AT ID ORDER_NUMBER PROCESSED_AT UPDATED_AT }}
enum OrderDisplayFinancialStatus {{
  AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED
}}
enum OrderDisplayFulfillmentStatus {{
  FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT REQUEST_DECLINED
  RESTOCKED SCHEDULED UNFULFILLED
}}
enum OrderCancelReason {{ CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }}

type OrderRiskSummary {{ assessments: [OrderRiskAssessment!]! recommendation: OrderRiskRecommendationResult! }}
type OrderRiskAssessment {{ facts: [RiskFact!]! provider: App riskLevel: RiskAssessmentResult! }}
type RiskFact {{ description: String! sentiment: RiskFactSentiment! }}
enum RiskFactSentiment {{ NEGATIVE NEUTRAL POSITIVE }}
enum RiskAssessmentResult {{ HIGH LOW MEDIUM NONE PENDING }}
enum OrderRiskRecommendationResult {{ ACCEPT CANCEL INVESTIGATE NONE }}

type Customer implements LegacyInteroperability & Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  createdAt: DateTime!
  displayName: String!
  firstName: String
  lastName: String
  email: String @deprecated(reason: "Use `defaultEmailAddress.emailAddress` instead.")
  defaultEmailAddress: CustomerEmailAddress
  note: String
  tags: [String!]!
  numberOfOrders: UnsignedInt64!
  amountSpent: MoneyV2!
}}
type CustomerEmailAddress {{ emailAddress: String! }}

type MailingAddress implements Node {{
  id: ID! address1: String address2: String city: String company: String country: String
  countryCodeV2: CountryCode firstName: String lastName: String name: String phone: String
  province: String provinceCode: String zip: String
}}

type LineItem implements Node {{
  id: ID!
  name: String!
  title: String!
  sku: String
  quantity: Int!
  currentQuantity: Int!
  vendor: String
  variantTitle: String
  requiresShipping: Boolean!
  customAttributes: [Attribute!]!
  originalUnitPriceSet: MoneyBag!
  originalTotalSet: MoneyBag!
  totalDiscountSet: MoneyBag!
  product: Product
  variant: ProductVariant
}}
type LineItemConnection {{ edges: [LineItemEdge!]! nodes: [LineItem!]! pageInfo: PageInfo! }}
type LineItemEdge {{ cursor: String! node: LineItem! }}

type FulfillmentOrder implements Node {{
  id: ID!
  createdAt: DateTime!
  updatedAt: DateTime!
  status: FulfillmentOrderStatus!
  fulfillAt: DateTime
  requestStatus: FulfillmentOrderRequestStatus!
  fulfillmentHolds: [FulfillmentHold!]!
  order: Order!
  orderId: ID!
  orderName: String!
  lineItems({_PAGE}, reverse: Boolean = false): FulfillmentOrderLineItemConnection!
}}
type FulfillmentOrderConnection {{ edges: [FulfillmentOrderEdge!]! nodes: [FulfillmentOrder!]! pageInfo: PageInfo! }}
type FulfillmentOrderEdge {{ cursor: String! node: FulfillmentOrder! }}
enum FulfillmentOrderStatus {{ CANCELLED CLOSED INCOMPLETE IN_PROGRESS ON_HOLD OPEN SCHEDULED }}
enum FulfillmentOrderRequestStatus {{
  ACCEPTED CANCELLATION_ACCEPTED CANCELLATION_REJECTED CANCELLATION_REQUESTED CLOSED REJECTED
  SUBMITTED UNSUBMITTED
}}
type FulfillmentOrderLineItem implements Node {{
  id: ID! lineItem: LineItem! productTitle: String! remainingQuantity: Int! requiresShipping: Boolean!
  sku: String totalQuantity: Int! variantTitle: String vendor: String
}}
type FulfillmentOrderLineItemConnection {{
  edges: [FulfillmentOrderLineItemEdge!]! nodes: [FulfillmentOrderLineItem!]! pageInfo: PageInfo!
}}
type FulfillmentOrderLineItemEdge {{ cursor: String! node: FulfillmentOrderLineItem! }}

type FulfillmentHold implements Node {{
  id: ID! displayReason: String! handle: String heldByApp: App heldByRequestingApp: Boolean!
  reason: FulfillmentHoldReason! reasonNotes: String
}}
enum FulfillmentHoldReason {{
  AWAITING_PAYMENT AWAITING_RETURN_ITEMS HIGH_RISK_OF_FRAUD INCORRECT_ADDRESS INVENTORY_OUT_OF_STOCK
  ONLINE_STORE_POST_PURCHASE_CROSS_SELL OTHER UNKNOWN_DELIVERY_DATE
}}
input FulfillmentOrderHoldInput {{
  externalId: String
  fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!] = []
  handle: String = ""
  notifyMerchant: Boolean = false
  reason: FulfillmentHoldReason!
  reasonNotes: String
}}
input FulfillmentOrderLineItemInput {{ id: ID! quantity: Int! }}
type FulfillmentOrderHoldPayload {{
  fulfillmentHold: FulfillmentHold fulfillmentOrder: FulfillmentOrder
  remainingFulfillmentOrder: FulfillmentOrder userErrors: [FulfillmentOrderHoldUserError!]!
}}
type FulfillmentOrderHoldUserError implements DisplayableError {{
  code: FulfillmentOrderHoldUserErrorCode field: [String!] message: String!
}}
enum FulfillmentOrderHoldUserErrorCode {{
  DUPLICATE_FULFILLMENT_HOLD_HANDLE FULFILLMENT_ORDER_HOLD_LIMIT_REACHED FULFILLMENT_ORDER_NOT_FOUND
  FULFILLMENT_ORDER_NOT_SPLITTABLE GREATER_THAN_ZERO INVALID_LINE_ITEM_QUANTITY TAKEN
}}
type FulfillmentOrderReleaseHoldPayload {{
  fulfillmentOrder: FulfillmentOrder userErrors: [FulfillmentOrderReleaseHoldUserError!]!
}}
type FulfillmentOrderReleaseHoldUserError implements DisplayableError {{
  code: FulfillmentOrderReleaseHoldUserErrorCode field: [String!] message: String!
}}
enum FulfillmentOrderReleaseHoldUserErrorCode {{ FULFILLMENT_ORDER_NOT_FOUND INVALID_ACCESS }}

type TagsAddPayload {{ node: Node userErrors: [UserError!]! }}
type TagsRemovePayload {{ node: Node userErrors: [UserError!]! }}

input AttributeInput {{ key: String! value: String! }}
input MailingAddressInput {{
  address1: String address2: String city: String company: String countryCode: CountryCode
  firstName: String lastName: String phone: String provinceCode: String zip: String
}}
input OrderInput {{
  customAttributes: [AttributeInput!] email: String id: ID! metafields: [MetafieldInput!] note: String
  poNumber: String shippingAddress: MailingAddressInput tags: [String!]
}}
input MetafieldInput {{ id: ID key: String namespace: String type: String value: String }}
type Metafield {{ id: ID! key: String! namespace: String! type: String! value: String! }}
type OrderUpdatePayload {{ order: Order userErrors: [UserError!]! }}
# https://shopify.dev/docs/api/admin-graphql/latest/input-objects/OrderCancelRefundMethodInput (less storeCredit)
input OrderCancelRefundMethodInput @oneOf {{ originalPaymentMethodsRefund: Boolean }}
type OrderCancelPayload {{ job: Job orderCancelUserErrors: [OrderCancelUserError!]! }}
type OrderCancelUserError implements DisplayableError {{
  code: OrderCancelUserErrorCode field: [String!] message: String!
}}
enum OrderCancelUserErrorCode {{ INVALID NOT_FOUND NO_REFUND_PERMISSION }}
type Job {{ done: Boolean! id: ID! query: QueryRoot }}
"""


def build_sandbox_schema() -> GraphQLSchema:
    """Build the executable-schema skeleton (resolvers are attached by `resolvers.install`)."""
    return build_schema(SDL + EXTRA_SDL)
