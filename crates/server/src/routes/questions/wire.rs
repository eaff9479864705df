//! The JSON shapes of an episode's Q&A queue.

use crate::wire::rfc3339;
use domain::Question;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AskRequest {
    #[schema(min_length = 1, max_length = 280, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub(crate) text: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct QuestionBody {
    /// Counts from 1 in the episode.
    pub(crate) number: u32,
    pub(crate) asked_by: String,
    pub(crate) text: String,
    pub(crate) upvotes: usize,
    /// `open`, `answered` or `dismissed`.
    pub(crate) status: String,
    pub(crate) asked_at: String,
}

impl From<&Question> for QuestionBody {
    fn from(question: &Question) -> QuestionBody {
        QuestionBody {
            number: question.number,
            asked_by: question.asked_by.to_string(),
            text: question.text.clone(),
            upvotes: question.upvoters.len(),
            status: question.status.as_str().to_owned(),
            asked_at: rfc3339(question.asked_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct QuestionsBody {
    /// Open questions first, most upvoted first (then in the order asked), then the answered and
    /// dismissed ones in the order asked.
    pub(crate) questions: Vec<QuestionBody>,
}
