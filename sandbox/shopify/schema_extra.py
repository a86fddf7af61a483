"""Shopify Admin 2026-10 SDL, continued: enums, draft orders, products, webhook subscriptions."""

_COUNTRY_CODES = """
AC AD AE AF AG AI AL AM AN AO AR AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GW GY HK HM HN HR
HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK
LR LS LT LU LV LY MA MC MD ME MF MG MK ML MM MN MO MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG
NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PS PT PY QA RE RO RS RU RW SA SB SC SD SE SG
SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TA TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ VA VC VE VG VN VU WF WS XK YE YT ZA ZM ZW ZZ
"""

# Deprecated currencies (BYR, STD, VEF) are left out.
_CURRENCY_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
BZD CAD CDF CHF CLP CNY COP CRC CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP
GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JEP JMD JOD JPY KES KGS KHR KID KMF
KRW KWD KYD KZT LAK LBP LKR LRD LSL LTL LVL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR
SDG SEK SGD SHP SLL SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU
UZS VED VES VND VUV WST XAF XCD XOF XPF XXX YER ZAR ZMW
"""

# The standard connection arguments, spelled out on every connection field.
PAGE_ARGS = "after: String, before: String, first: Int, last: Int"

EXTRA_SDL = f"""
enum CountryCode {{ {_COUNTRY_CODES} }}
enum CurrencyCode {{ {_CURRENCY_CODES} }}

type DraftOrder implements LegacyInteroperability & Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  status: DraftOrderStatus!
  createdAt: DateTime!
  updatedAt: DateTime!
  completedAt: DateTime
  email: String
  phone: String
  note2: String
  poNumber: String
  tags: [String!]!
  ready: Boolean!
  invoiceUrl: URL
  currencyCode: CurrencyCode!
  presentmentCurrencyCode: CurrencyCode!
  discountCodes: [String!]!
  customAttributes: [Attribute!]!
  appliedDiscount: DraftOrderAppliedDiscount
  customer: Customer
  shippingAddress: MailingAddress
  order: Order
  subtotalPriceSet: MoneyBag!
  totalDiscountsSet: MoneyBag!
  totalLineItemsPriceSet: MoneyBag!
  totalPriceSet: MoneyBag!
  totalQuantityOfLineItems: Int!
  lineItems({PAGE_ARGS}, reverse: Boolean = false): DraftOrderLineItemConnection!
}}
enum DraftOrderStatus {{ COMPLETED INVOICE_SENT OPEN }}
type DraftOrderAppliedDiscount {{
  amountSet: MoneyBag! description: String! title: String value: Float!
  valueType: DraftOrderAppliedDiscountType!
}}
enum DraftOrderAppliedDiscountType {{ FIXED_AMOUNT PERCENTAGE }}
type DraftOrderLineItem implements Node {{
  id: ID! custom: Boolean! name: String! originalUnitPriceSet: MoneyBag! quantity: Int! sku: String
  title: String! variant: ProductVariant vendor: String
}}
type DraftOrderLineItemConnection {{
  edges: [DraftOrderLineItemEdge!]! nodes: [DraftOrderLineItem!]! pageInfo: PageInfo!
}}
type DraftOrderLineItemEdge {{ cursor: String! node: DraftOrderLineItem! }}
input MoneyInput {{ amount: Decimal! currencyCode: CurrencyCode! }}
input DraftOrderAppliedDiscountInput {{
  amountWithCurrency: MoneyInput description: String title: String value: Float!
  valueType: DraftOrderAppliedDiscountType!
}}
input DraftOrderLineItemInput {{
  appliedDiscount: DraftOrderAppliedDiscountInput customAttributes: [AttributeInput!]
  originalUnitPriceWithCurrency: MoneyInput quantity: Int! requiresShipping: Boolean sku: String
  taxable: Boolean title: String variantId: ID
}}
input DraftOrderInput {{
  appliedDiscount: DraftOrderAppliedDiscountInput
  customAttributes: [AttributeInput!]
  discountCodes: [String!]
  email: String
  lineItems: [DraftOrderLineItemInput!]
  note: String
  paymentTerms: PaymentTermsInput
  phone: String
  poNumber: String
  presentmentCurrencyCode: CurrencyCode
  shippingAddress: MailingAddressInput
  sourceName: String
  tags: [String!]
}}
input DraftOrderDeleteInput {{ id: ID! }}
input PaymentTermsInput {{ paymentTermsTemplateId: ID }}
enum PaymentTermsType {{ FIXED FULFILLMENT NET RECEIPT UNKNOWN }}
type PaymentTermsTemplate {{ description: String! dueInDays: Int id: ID! name: String! paymentTermsType: PaymentTermsType! }}
type DraftOrderCreatePayload {{ draftOrder: DraftOrder userErrors: [UserError!]! }}
type DraftOrderCompletePayload {{ draftOrder: DraftOrder userErrors: [UserError!]! }}
type DraftOrderDeletePayload {{ deletedId: ID userErrors: [UserError!]! }}

type Product implements LegacyInteroperability & Node {{
  id: ID! legacyResourceId: UnsignedInt64! title: String! handle: String! vendor: String!
  productType: String! tags: [String!]! status: ProductStatus!
}}
enum ProductStatus {{ ACTIVE ARCHIVED DRAFT }}
type ProductVariant implements LegacyInteroperability & Node {{
  id: ID! legacyResourceId: UnsignedInt64! title: String! displayName: String! sku: String
  price: Money! inventoryQuantity: Int availableForSale: Boolean! createdAt: DateTime!
  updatedAt: DateTime! product: Product!
}}
type ProductVariantConnection {{ edges: [ProductVariantEdge!]! nodes: [ProductVariant!]! pageInfo: PageInfo! }}
type ProductVariantEdge {{ cursor: String! node: ProductVariant! }}
enum ProductVariantSortKeys {{ ID SKU TITLE }}

type WebhookSubscription implements LegacyInteroperability & Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  topic: WebhookSubscriptionTopic!
  format: WebhookSubscriptionFormat!
  uri: String!
  endpoint: WebhookSubscriptionEndpoint! @deprecated(reason: "Use `uri` instead.")
  callbackUrl: URL! @deprecated(reason: "Use `uri` instead.")
  filter: String
  includeFields: [String!]!
  apiVersion: ApiVersion!
  createdAt: DateTime!
  updatedAt: DateTime!
}}
union WebhookSubscriptionEndpoint = WebhookHttpEndpoint
type WebhookHttpEndpoint {{ callbackUrl: URL! }}
type ApiVersion {{ displayName: String! handle: String! supported: Boolean! }}
type WebhookSubscriptionConnection {{
  edges: [WebhookSubscriptionEdge!]! nodes: [WebhookSubscription!]! pageInfo: PageInfo!
}}
type WebhookSubscriptionEdge {{ cursor: String! node: WebhookSubscription! }}
enum WebhookSubscriptionFormat {{ JSON XML }}
enum WebhookSubscriptionSortKeys {{ CREATED_AT ID }}
enum WebhookSubscriptionTopic {{
  APP_UNINSTALLED DRAFT_ORDERS_CREATE DRAFT_ORDERS_DELETE DRAFT_ORDERS_UPDATE
  FULFILLMENT_ORDERS_HOLD_RELEASED FULFILLMENT_ORDERS_ORDER_ROUTING_COMPLETE
  FULFILLMENT_ORDERS_PLACED_ON_HOLD FULFILLMENT_ORDERS_SCHEDULED_FULFILLMENT_ORDER_READY
  ORDERS_CANCELLED ORDERS_CREATE ORDERS_DELETE ORDERS_EDITED
  ORDERS_FULFILLED ORDERS_PAID ORDERS_UPDATED
}}
# `uri` replaced `callbackUrl` (https://shopify.dev/changelog/consolidate-webhook-graphql-surfaces).
input WebhookSubscriptionInput {{
  callbackUrl: URL @deprecated(reason: "Use `uri` instead.") filter: String format: WebhookSubscriptionFormat
  includeFields: [String!] uri: String
}}
type WebhookSubscriptionCreatePayload {{ userErrors: [UserError!]! webhookSubscription: WebhookSubscription }}

# B2B: who an order was bought for (a company for B2B orders, else the customer).
union PurchasingEntity = Customer | PurchasingCompany
type PurchasingCompany {{ company: Company! contact: CompanyContact location: CompanyLocation! }}
type Company implements Node {{ id: ID! name: String! }}
type CompanyLocation implements Node {{ company: Company! id: ID! name: String! }}
type CompanyContact implements Node {{ company: Company! customer: Customer! id: ID! isMainContact: Boolean! title: String }}
# An order's payment terms (B2B net terms); payment schedules are left out.
type PaymentTerms implements Node {{
  due: Boolean! dueInDays: Int id: ID! order: Order overdue: Boolean! paymentTermsName: String!
  paymentTermsType: PaymentTermsType! translatedName: String!
}}
"""
