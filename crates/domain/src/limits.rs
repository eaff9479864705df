//! Input limits of the domain, named with their unit last. The server checks requests against the
//! same constants, so a request that passes validation never reaches a shard only to be refused for
//! its shape.

pub const HANDLE_CHARS_MIN: usize = 3;
pub const HANDLE_CHARS_MAX: usize = 32;
pub const TITLE_CHARS_MAX: usize = 200;
/// Ten billion units of the largest common minor unit; far above any real price, far below `i64::MAX`
/// even when multiplied by `DROP_QUANTITY_MAX`.
pub const PRICE_MINOR_MAX: i64 = 1_000_000_000_000;
pub const PRODUCT_STOCK_MAX: u64 = 1_000_000_000;
pub const DROP_QUANTITY_MAX: u64 = 1_000_000;
pub const PER_BUYER_LIMIT_MAX: u32 = 1_000;
pub const HOLD_SECONDS_MIN: u64 = 10;
pub const HOLD_SECONDS_MAX: u64 = 3_600;
/// A drop may be scheduled at most a year ahead and last at most a year.
pub const SCHEDULE_AHEAD_MS_MAX: i64 = 366 * 24 * 3_600 * 1_000;
/// Live (neither revoked nor expired) bearer tokens one account may have at once, the sign-up
/// token included.
pub const ACCOUNT_TOKENS_MAX: usize = 20;
/// Tokens an account may ever be issued, live or not: revoked and expired tokens are kept (a
/// listing and an audit show them), so issuing short-lived tokens in a loop must end somewhere.
pub const ACCOUNT_TOKENS_ISSUED_MAX: usize = 1_000;
/// A token issued with an expiry expires at most this long after it is issued.
pub const TOKEN_LIFETIME_MS_MAX: i64 = 366 * 24 * 3_600 * 1_000;
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 255;
/// Webhook endpoints one account may have live at once, and ever (disabled ones are kept).
pub const WEBHOOK_ENDPOINTS_MAX: usize = 16;
pub const WEBHOOK_ENDPOINTS_CREATED_MAX: usize = 200;
/// A webhook URL's length at most.
pub const WEBHOOK_URL_CHARS_MAX: usize = 2_048;
/// A replaced webhook secret keeps signing this long, so receivers can switch without a gap.
pub const WEBHOOK_SECRET_OVERLAP_MS: i64 = 24 * 3_600 * 1_000;
/// A recorded attempt's error text at most (longer ones are cut by the engine).
pub const WEBHOOK_ERROR_CHARS_MAX: usize = 200;
/// A message id (`webhook-id`) at most.
pub const WEBHOOK_MESSAGE_ID_CHARS_MAX: usize = 64;
/// Stripe keeps idempotency keys for 24 hours; after that a key may be reused for a new request.
pub const IDEMPOTENCY_TTL_MS: u64 = 24 * 3_600 * 1_000;
/// Expired idempotency records forgotten per `advance` at most, bounding the pause of one shard turn;
/// the rest go on the next turns (lookups already ignore them).
pub const IDEMPOTENCY_FORGOTTEN_PER_ADVANCE_MAX: usize = 4_096;
/// Holds per cart: a cart is a session basket, not a warehouse.
pub const CART_HOLDS_MAX: usize = 100;
/// A refund's reason (and a rejection's), in characters.
pub const REFUND_REASON_CHARS_MAX: usize = 500;
/// A creator's reason for disputing a hub's stock count.
pub const CASE_REASON_CHARS_MAX: usize = 500;
/// An edition's label.
pub const EDITION_LABEL_CHARS_MAX: usize = 80;
/// Refunds of more than this many minor units (in the order's currency, whatever it is: 50.00 EUR,
/// 50.00 USD, but 5 000 JPY) need a platform admin's and the creator's sign-off; `livedrop serve
/// --refund-approval-threshold-minor` overrides it.
pub const REFUND_APPROVAL_THRESHOLD_MINOR_DEFAULT: i64 = 5_000;
/// A fraud rule text at most (the HTTP body limit is the same).
pub const RISK_RULES_BYTES_MAX: usize = 16 * 1_024;
/// Payout rules' text at most, as for fraud rules.
pub const PAYOUT_RULES_BYTES_MAX: usize = 16 * 1_024;
/// A room template's name, in characters (names are matched exactly: one name, one version line).
pub const TEMPLATE_NAME_CHARS_MAX: usize = 100;
/// Slots per template (and so per room): a room is a handful of widgets, not a page builder.
pub const TEMPLATE_SLOTS_MAX: usize = 12;
/// Versions one template name may have; each save is kept whole, so this bounds a creator's history.
pub const TEMPLATE_VERSIONS_MAX: u32 = 1_000;
/// The only lengths a demo window may have, in seconds (the product's countdown in the room).
pub const DEMO_SECONDS_ALLOWED: [u32; 2] = [60, 90];
pub const POLL_OPTIONS_MIN: usize = 2;
pub const POLL_OPTIONS_MAX: usize = 6;
pub const POLL_OPTION_CHARS_MAX: usize = 100;
/// Episodes a room may ever schedule: the room's reply lists them all.
pub const ROOM_EPISODES_MAX: usize = 500;
/// An episode lasts at most a day from its scheduled start.
pub const EPISODE_LENGTH_MS_MAX: i64 = 24 * 3_600 * 1_000;
/// Accounts in one episode's stage at once (host, moderators, speakers and listeners). The stage is
/// answered whole by stage calls, so it stays small enough to send in one reply.
pub const EPISODE_MEMBERS_MAX: usize = 1_000;
/// A question in an episode's Q&A queue, in characters.
pub const QUESTION_CHARS_MAX: usize = 280;
/// Questions one episode's Q&A queue takes at most (answered and dismissed ones count).
pub const EPISODE_QUESTIONS_MAX: usize = 500;
/// Accounts banned from one episode at most; a ban beyond it is refused rather than grow the state.
pub const EPISODE_BANS_MAX: usize = 1_000;
/// Polls the host and moderators may start during one episode (closed ones count): each is kept
/// whole with its votes, and `GET …/polls` answers them all.
pub const EPISODE_LIVE_POLLS_MAX: usize = 50;
/// The slot number of an episode's first live poll; the n-th (from 0) is this plus n. Template
/// slots are numbered 0..`TEMPLATE_SLOTS_MAX`, so the two ranges never meet, whatever the room's
/// slots, and a slot number alone tells a live poll from a template one.
pub const LIVE_POLL_SLOT_FIRST: u32 = 1_000;
const _: () = assert!(LIVE_POLL_SLOT_FIRST as usize > TEMPLATE_SLOTS_MAX, "live poll slots never meet template slots");
/// Partners one split contract may name: a venue, a logistics partner and a curator, with room to spare.
pub const SPLIT_PARTNERS_MAX: usize = 8;
/// Basis points: 10 000 is the whole.
pub const BPS_WHOLE: u32 = 10_000;
/// Split contracts a creator may propose in all (each is kept whole and listed).
pub const CREATOR_CONTRACTS_MAX: usize = 1_000;
/// A payout profile delays earnings (and holds a reserve) at most this many days.
pub const PAYOUT_DAYS_MAX: u32 = risk::PAYOUT_DAYS_MAX;
/// A day, for payout delays.
pub const DAY_MS: u64 = 24 * 3_600 * 1_000;
/// A partner's service terms promise within a week at most.
pub const SERVICE_HOURS_MAX: u32 = 168;
/// Postcode prefixes a partner's terms list at most.
pub const SERVICE_AREAS_MAX: usize = 64;
/// Payouts of fewer minor units than this wait for a later window (`livedrop serve
/// --payout-minimum-minor`).
pub const PAYOUT_MINIMUM_MINOR_DEFAULT: i64 = 100;
/// The platform's fee on each sale in basis points (`livedrop serve --platform-fee-bps`).
pub const PLATFORM_FEE_BPS_DEFAULT: u32 = 1_000;
/// Orders whose earnings `GET /v1/earnings` lists at most, the newest (each order one line or more).
pub const EARNINGS_LISTED_MAX: usize = 500;
