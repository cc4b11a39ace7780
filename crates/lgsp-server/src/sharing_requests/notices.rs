//! Who hears of each step of a sharing request: the other side's administrators, and the
//! operator when a request is escalated. The notice lands in their inbox, and `Store::notify`
//! queues the e-mail to the agency's focal officer.

use lgsp_core::sharing_request::RequestStep;
use lgsp_core::{AgencyCode, Role};
use lgsp_store::{RequestTarget, SharingRequest};

use crate::app::AppState;
use crate::portal::view::date_vi;

/// The link a notice points to.
pub fn link(request: &SharingRequest) -> String {
    format!("/console/sharing-requests#yeu-cau-{}", request.id)
}

fn target_vi(request: &SharingRequest) -> String {
    match &request.target {
        RequestTarget::Service { id } => format!("dịch vụ số {id}"),
        RequestTarget::Dataset { id } => format!("bộ dữ liệu {id}"),
    }
}

/// The last day of the answer period: `respond_by` is the midnight that ends it.
pub fn last_day_vi(request: &SharingRequest) -> Option<String> {
    request
        .respond_by
        .map(|end| date_vi(end - chrono::Duration::seconds(1)))
}

/// The two parties of a request as people name them.
struct Parties {
    consumer: String,
    provider: String,
}

impl Parties {
    async fn of(state: &AppState, request: &SharingRequest) -> Self {
        Self {
            consumer: agency_name(state, &request.consumer).await,
            provider: agency_name(state, &request.provider).await,
        }
    }
}

/// An agency as notices name it: its name, or its code if it cannot be read.
pub async fn agency_name(state: &AppState, code: &AgencyCode) -> String {
    match state.store.get_agency(code).await {
        Ok(agency) => agency.name.to_string(),
        Err(_) => code.to_string(),
    }
}

/// Who is told of `step` on `request`, and what.
fn notice<'a>(
    request: &'a SharingRequest,
    parties: &Parties,
    step: RequestStep,
) -> Vec<(Role, Option<&'a AgencyCode>, String, String)> {
    let id = request.id;
    let (consumer, provider) = (&parties.consumer, &parties.provider);
    let deadline = last_day_vi(request)
        .map(|day| format!(" Hạn trả lời: {day}."))
        .unwrap_or_default();
    let to_provider = |subject: String, body: String| {
        vec![(Role::AgencyAdmin, Some(&request.provider), subject, body)]
    };
    let to_consumer = |subject: String, body: String| {
        vec![(Role::AgencyAdmin, Some(&request.consumer), subject, body)]
    };
    match step {
        RequestStep::Submit => to_provider(
            format!("Yêu cầu chia sẻ dữ liệu số {id} từ {consumer}"),
            format!(
                "{consumer} đề nghị được chia sẻ {} cho mục đích: {}.{deadline}",
                target_vi(request),
                request.purpose.text
            ),
        ),
        RequestStep::Resubmit => to_provider(
            format!("Yêu cầu chia sẻ dữ liệu số {id} đã được bổ sung và gửi lại"),
            format!("{consumer} đã bổ sung thông tin theo đề nghị.{deadline}"),
        ),
        RequestStep::Withdraw => to_provider(
            format!("Yêu cầu chia sẻ dữ liệu số {id} đã được rút"),
            format!("{consumer} đã rút yêu cầu; không cần xem xét tiếp."),
        ),
        RequestStep::Approve => to_consumer(
            format!("Yêu cầu chia sẻ dữ liệu số {id} đã được chấp thuận"),
            format!(
                "{provider} đã chấp thuận chia sẻ {}; các hệ thống của đơn vị có thể khai thác qua nền tảng.",
                target_vi(request)
            ),
        ),
        RequestStep::Return => to_consumer(
            format!("Yêu cầu chia sẻ dữ liệu số {id} được trả lại để bổ sung thông tin"),
            format!(
                "{provider} đề nghị bổ sung: {}",
                request.decision_reason.as_deref().unwrap_or_default()
            ),
        ),
        RequestStep::Refuse => to_consumer(
            format!("Yêu cầu chia sẻ dữ liệu số {id} bị từ chối"),
            format!(
                "Lý do: {} Căn cứ pháp lý: {}",
                request.decision_reason.as_deref().unwrap_or_default(),
                request.refusal_legal_basis.as_deref().unwrap_or_default()
            ),
        ),
        RequestStep::Escalate => {
            let subject = format!("Yêu cầu chia sẻ dữ liệu số {id} quá hạn trả lời");
            let body = format!(
                "{provider} chưa trả lời yêu cầu của {consumer} về {}.{deadline} Yêu cầu đã được chuyển đơn vị vận hành để đôn đốc, giải quyết.",
                target_vi(request)
            );
            vec![
                (Role::Operator, None, subject.clone(), body.clone()),
                (Role::AgencyAdmin, Some(&request.provider), subject, body),
            ]
        }
    }
}

/// Tells those concerned of `step`, which has been taken: a failure to notify is logged, it
/// does not undo the step.
pub async fn tell(state: &AppState, request: &SharingRequest, step: RequestStep) {
    let link = link(request);
    let parties = Parties::of(state, request).await;
    for (role, agency, subject, body) in notice(request, &parties, step) {
        if let Err(error) = state
            .store
            .notify(role, agency, &subject, &body, Some(&link))
            .await
        {
            tracing::warn!(request = request.id, error = ?error, "could not notify a request step");
        }
    }
}
