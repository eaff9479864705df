//! The OpenAPI document, generated from the handlers' annotations and the wire types.

use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{accounts, catalogue, checkout, drops, live, ops, risk};
use crate::wire::*;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "livedrop", description = "Live drops in audio rooms: claim, hold, check out."),
    paths(
        accounts::create_account, accounts::me,
        catalogue::create_product, catalogue::get_product, catalogue::create_room, catalogue::get_room,
        drops::create_drop, drops::get_drop, drops::close_drop, drops::create_claim,
        checkout::checkout, checkout::get_cart, checkout::get_order, checkout::review_order,
        risk::get_risk_rules, risk::put_risk_rules,
        live::live, ops::healthz, ops::metrics, ops::openapi,
    ),
    components(schemas(
        ErrorBody, ErrorDetail, CreateAccountRequest, SignupRole, AccountBody, CreateProductRequest, FulfilmentWire,
        ProductBody, CreateRoomRequest, RoomBody, CreateDropRequest, DropBody, ClaimRequest, ClaimBody,
        CheckoutRequest, OrderBody, ReceiptBody, OrderLineBody, CartBody, HoldBody, ReviewBody, ReviewRequest,
        ReviewDecision, RiskRulesRequest, RiskRulesBody, RiskRuleBody, RiskRulesErrorBody, RiskRulesErrorDetail,
        RuleErrorBody, SignalBody,
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
