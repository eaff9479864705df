//! The one error type of the API. Clients get `{"error": {"code", "message"}}` with a fitting status;
//! internal details stay in the log.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Rejection;
use engine::{EngineError, PaymentError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub(crate) message: String,
    pub retry_after_secs: Option<u64>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    pub(crate) error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable snake_case code, for example `sold_out` or `idempotency_key_reused`.
    pub(crate) code: String,
    /// A human sentence; wording may change.
    pub(crate) message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), retry_after_secs: None }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn invalid(field: &str, message: impl std::fmt::Display) -> ApiError {
        ApiError::bad_request("invalid_request", format!("{field}: {message}"))
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid bearer token is required")
    }

    pub fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after_secs = Some(secs.max(1));
        self
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> ApiError {
        let status = match &rejection {
            Rejection::Invalid { .. } => StatusCode::BAD_REQUEST,
            Rejection::Forbidden
            | Rejection::NotYours { .. }
            | Rejection::BlockedByRisk
            | Rejection::BannedFromEpisode => StatusCode::FORBIDDEN,
            Rejection::NotFound => StatusCode::NOT_FOUND,
            Rejection::PaymentDeclined { .. } => StatusCode::PAYMENT_REQUIRED,
            Rejection::InsufficientStock { .. }
            | Rejection::IdempotencyKeyReused
            | Rejection::SharesExceedWhole { .. }
            | Rejection::UnknownPartner { .. }
            | Rejection::WrongPickupCode { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Rejection::PickupCodeLocked { .. } => StatusCode::TOO_MANY_REQUESTS,
            Rejection::HandleTaken
            | Rejection::SoldOut { .. }
            | Rejection::LimitExceeded { .. }
            | Rejection::DropNotOpen
            | Rejection::CartExpired
            | Rejection::CartCheckedOut
            | Rejection::CartFull
            | Rejection::CartChanged
            | Rejection::CurrencyMismatch
            | Rejection::RefundExceedsPaid { .. }
            | Rejection::RefundNotPending { .. }
            | Rejection::OrderNotInReview
            | Rejection::EpisodeAlreadyLive
            | Rejection::EpisodeNotLive
            | Rejection::EpisodeEnded
            | Rejection::EpisodeOver
            | Rejection::NotInEpisode
            | Rejection::EpisodeFull
            | Rejection::AlreadyVoted
            | Rejection::QuestionClosed
            | Rejection::DemoRunning
            | Rejection::PollClosed
            | Rejection::TooManyTokens { .. }
            | Rejection::TooManyWebhookEndpoints { .. }
            | Rejection::WebhookEndpointDisabled
            | Rejection::FulfilmentTransition { .. }
            | Rejection::OrderInReview
            | Rejection::CaseDecided
            | Rejection::SplitNotAccepted { .. }
            | Rejection::ContractAnswered { .. }
            | Rejection::AlreadyDisputed
            | Rejection::DisputeNotOpen { .. }
            | Rejection::OrderDisputed
            | Rejection::ChargeUnused => StatusCode::CONFLICT,
        };
        let error = ApiError::new(status, rejection.code(), rejection.to_string());
        match rejection {
            Rejection::PickupCodeLocked { retry_after_secs } => error.retry_after(retry_after_secs),
            _ => error,
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> ApiError {
        match error {
            EngineError::Overloaded => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", error.to_string()).retry_after(1)
            }
            EngineError::ShuttingDown => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", error.to_string()).retry_after(5)
            }
            EngineError::Unavailable => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", error.to_string()).retry_after(30)
            }
            EngineError::Payment(PaymentError::UnknownPaymentMethod(method)) => ApiError::bad_request(
                "invalid_payment_method",
                format!("unknown payment method {method}; try pm_card_visa"),
            ),
            EngineError::Payment(PaymentError::Provider(message)) => {
                tracing::warn!(%message, "payment provider failed");
                ApiError::new(StatusCode::BAD_GATEWAY, "payment_provider_error", "the payment provider failed")
            }
            EngineError::Journal(_)
            | EngineError::Inconsistent(_)
            | EngineError::SigningKey(_)
            | EngineError::AdminConfig(_) => {
                tracing::error!(%error, "internal engine error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), code = self.code, message = %self.message, "request failed");
        }
        let body = ErrorBody { error: ErrorDetail { code: self.code.to_owned(), message: self.message } };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
