//! The OpenAPI document, generated from the handlers' annotations and the wire types.

use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::media::{MediaStatsBody, RecordingBody, RecordingsBody};
use crate::routes::{accounts, catalogue, checkout, drops, live, media, ops, refunds, risk, rooms, transparency};
use crate::wire::*;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "livedrop", description = "Live drops in audio rooms: claim, hold, check out, refund; room templates, episodes, the stage and the host's rituals."),
    paths(
        accounts::create_account, accounts::me,
        catalogue::create_product, catalogue::get_product, catalogue::create_room, catalogue::get_room,
        drops::create_drop, drops::get_drop, drops::close_drop, drops::create_claim,
        checkout::checkout, checkout::get_cart, checkout::get_order, checkout::review_order,
        refunds::create_refund, refunds::list_order_refunds, refunds::get_refund, refunds::approve_refund,
        refunds::reject_refund, risk::get_risk_rules, risk::put_risk_rules,
        transparency::keys, transparency::checkpoint, transparency::checkpoints, transparency::log,
        transparency::inclusion, transparency::consistency,
        rooms::create_template, rooms::get_template, rooms::create_episode, rooms::get_episode, rooms::get_stage,
        rooms::start_episode, rooms::end_episode, rooms::join, rooms::raise_hand, rooms::invite,
        rooms::move_to_audience, rooms::mute, rooms::unmute, rooms::remove, rooms::appoint_moderator,
        rooms::get_polls, rooms::vote, rooms::get_questions, rooms::ask, rooms::upvote, rooms::answer, rooms::dismiss,
        rooms::start_poll, rooms::close_poll, rooms::get_rituals, rooms::pin, rooms::unpin, rooms::start_demo,
        rooms::stop_demo,
        media::whip, media::whep, media::end_session, media::recordings, media::recording_file, media::stats,
        live::live, ops::healthz, ops::metrics, ops::openapi,
    ),
    components(schemas(
        ErrorBody, ErrorDetail, RecordingBody, RecordingsBody, MediaStatsBody, CreateAccountRequest, SignupRole, AccountBody, CreateProductRequest, FulfilmentWire,
        ProductBody, CreateRoomRequest, RoomBody, CreateDropRequest, DropBody, ClaimRequest, ClaimBody,
        CheckoutRequest, OrderBody, OrderLineBody, CartBody, HoldBody, CreateRefundRequest,
        RefundLineRequest, RejectRefundRequest, RefundBody, RefundLineBody, RefundApprovalBody, RefundRejectionBody,
        OrderRefundsBody, KeysBody, KeyBody, CheckpointsBody, LogBody, LogEntryBody, InclusionBody, ConsistencyBody,
        ::transparency::SignedCheckpoint, ::transparency::Receipt, ::transparency::ReceiptEntry,
        ReviewBody, ReviewRequest, ReviewDecision, RiskRulesRequest, RiskRulesBody, RiskRuleBody, RiskRulesErrorBody,
        RiskRulesErrorDetail, RuleErrorBody, SignalBody, TemplateRefBody, SlotKind, SlotBody, CreateTemplateRequest,
        TemplateBody, CreateEpisodeRequest, EpisodeBody, StageTargetRequest, StageMemberBody, StageBody, VoteRequest,
        PollBody, PollsBody, AskRequest, QuestionBody, QuestionsBody, PinRequest, DemoRequest, StartPollRequest,
        PinBody, DemoBody, RitualsBody,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
