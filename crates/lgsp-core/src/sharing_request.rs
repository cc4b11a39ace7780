//! Sharing requests (*yêu cầu chia sẻ dữ liệu theo yêu cầu đặc thù*, Q13.1, Q15.1.a, Q16.1): a
//! consumer agency asks a provider for a service or a hosted dataset shared `on_request`, with
//! its purpose, legal basis, the fields it wants, how much and how long. The provider approves
//! (a grant is created, never wider or longer than asked), returns it for more information
//! (the consumer amends and resubmits) or refuses — with a reason and a legal basis, or not at
//! all (Q15.1.a). The consumer may withdraw a request that is not decided yet.

use serde::{Deserialize, Serialize};

use crate::exchange::PurposeCode;
use crate::identity::Role;
use crate::policy::Actor;
use crate::text::{ParseError, Text};
use crate::AgencyCode;

/// Why the consumer asks: a purpose code, as the gateway will see it in `LGSP-Purpose`, and
/// the purpose in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestPurpose {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: PurposeCode,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub text: Text,
}

/// A provider's refusal (*từ chối*). Q15.1.a: a provider refuses only with a reason and the
/// legal basis it relies on; a refusal missing either cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refusal {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub reason: Text,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub legal_basis: Text,
}

impl Refusal {
    /// A refusal from what the provider typed; both parts are required and must be real text.
    pub fn new(reason: Option<&str>, legal_basis: Option<&str>) -> Result<Self, ParseError> {
        let part = |value: Option<&str>, name: &str| {
            Text::parse(value.unwrap_or_default())
                .map_err(|e| ParseError::new(format!("{name}: {e}")))
        };
        Ok(Self {
            reason: part(reason, "reason")?,
            legal_basis: part(legal_basis, "legal_basis")?,
        })
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Waiting for the provider's decision.
    Pending,
    /// Returned to the consumer for more information.
    Returned,
    /// Approved: its grants exist.
    Approved,
    /// Refused with a reason and a legal basis.
    Refused,
    /// Withdrawn by the consumer.
    Withdrawn,
}

impl RequestState {
    pub const ALL: [RequestState; 5] = [
        Self::Pending,
        Self::Returned,
        Self::Approved,
        Self::Refused,
        Self::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Returned => "returned",
            Self::Approved => "approved",
            Self::Refused => "refused",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| ParseError::new(format!("unknown request state `{value}`")))
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Pending => "Chờ bên cung cấp xem xét",
            Self::Returned => "Trả lại để bổ sung thông tin",
            Self::Approved => "Đã chấp thuận",
            Self::Refused => "Đã từ chối",
            Self::Withdrawn => "Đã rút yêu cầu",
        }
    }
}

/// A step of the procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestStep {
    Submit,
    Approve,
    Return,
    Resubmit,
    Refuse,
    Withdraw,
    /// The provider let the answer period pass: the platform hands the request to the
    /// operator. Nobody takes this step by hand; the request stays pending.
    Escalate,
}

/// Which side of a request takes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// An administrator of the consumer agency.
    Consumer,
    /// An administrator of the provider agency, or the operator.
    Provider,
    /// The platform itself, when a deadline passes.
    Platform,
}

impl RequestStep {
    pub const ALL: [RequestStep; 7] = [
        Self::Submit,
        Self::Approve,
        Self::Return,
        Self::Resubmit,
        Self::Refuse,
        Self::Withdraw,
        Self::Escalate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Approve => "approve",
            Self::Return => "return",
            Self::Resubmit => "resubmit",
            Self::Refuse => "refuse",
            Self::Withdraw => "withdraw",
            Self::Escalate => "escalate",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Submit => "Gửi yêu cầu",
            Self::Approve => "Chấp thuận",
            Self::Return => "Trả lại để bổ sung thông tin",
            Self::Resubmit => "Gửi lại yêu cầu",
            Self::Refuse => "Từ chối",
            Self::Withdraw => "Rút yêu cầu",
            Self::Escalate => "Quá hạn trả lời, chuyển đơn vị vận hành",
        }
    }

    fn side(self) -> Side {
        match self {
            Self::Submit | Self::Resubmit | Self::Withdraw => Side::Consumer,
            Self::Approve | Self::Return | Self::Refuse => Side::Provider,
            Self::Escalate => Side::Platform,
        }
    }

    /// Whether the step may start from `state` (`None`: a request not yet submitted).
    fn starts_from(self, state: Option<RequestState>) -> bool {
        use RequestState::*;
        match self {
            Self::Submit => state.is_none(),
            Self::Approve | Self::Return | Self::Refuse | Self::Escalate => state == Some(Pending),
            Self::Resubmit => state == Some(Returned),
            Self::Withdraw => matches!(state, Some(Pending | Returned)),
        }
    }

    fn leads_to(self) -> RequestState {
        match self {
            Self::Submit | Self::Resubmit | Self::Escalate => RequestState::Pending,
            Self::Approve => RequestState::Approved,
            Self::Return => RequestState::Returned,
            Self::Refuse => RequestState::Refused,
            Self::Withdraw => RequestState::Withdrawn,
        }
    }
}

/// Why a step was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestStepError {
    /// The actor is not on the side that takes this step: 403.
    #[error("this caller does not take the step `{}` on this request", .0.as_str())]
    WrongRole(RequestStep),
    /// The request is not in a state the step starts from: 409.
    #[error("the step `{}` cannot be taken from the state `{}`", .step.as_str(), .state.map_or("new", RequestState::as_str))]
    WrongState {
        step: RequestStep,
        state: Option<RequestState>,
    },
}

/// Decides whether `actor` may take `step` on a request of `consumer` to `provider` that is in
/// `state` (`None` for a new one); returns the state it leads to. The consumer agency's
/// administrators submit, resubmit and withdraw; the provider agency's administrators and the
/// operator decide. The role is checked before the state, so a wrong role is told so whatever
/// the state.
pub fn take_step(
    actor: &Actor,
    consumer: &AgencyCode,
    provider: &AgencyCode,
    state: Option<RequestState>,
    step: RequestStep,
) -> Result<RequestState, RequestStepError> {
    let Actor::Person { assignment, .. } = actor else {
        return Err(RequestStepError::WrongRole(step));
    };
    let admin_of = |agency: &AgencyCode| {
        assignment.role() == Role::AgencyAdmin && assignment.agency() == Some(agency)
    };
    let allowed = match step.side() {
        Side::Consumer => admin_of(consumer),
        Side::Provider => assignment.role() == Role::Operator || admin_of(provider),
        Side::Platform => false,
    };
    if !allowed {
        return Err(RequestStepError::WrongRole(step));
    }
    if !step.starts_from(state) {
        return Err(RequestStepError::WrongState { step, state });
    }
    Ok(step.leads_to())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{RoleAssignment, Username};
    use crate::{SystemCode, SystemId};

    fn code(s: &str) -> AgencyCode {
        AgencyCode::parse(s).unwrap()
    }

    fn person(role: Role, agency: Option<&str>) -> Actor {
        Actor::Person {
            username: Username::parse("someone").unwrap(),
            assignment: RoleAssignment::new(role, agency.map(code)).unwrap(),
        }
    }

    const CONSUMER: &str = "000.00.01.H35";
    const PROVIDER: &str = "000.00.03.H35";

    #[test]
    fn q15_1_a_a_refusal_needs_a_reason_and_a_legal_basis() {
        assert!(Refusal::new(None, Some("Luật Hộ tịch 2014")).is_err());
        assert!(Refusal::new(Some("Dữ liệu cá nhân"), None).is_err());
        assert!(Refusal::new(Some("  "), Some("Luật Hộ tịch 2014")).is_err());
        assert!(Refusal::new(Some("Dữ liệu cá nhân"), Some("")).is_err());
        let refusal = Refusal::new(Some(" Dữ liệu cá nhân "), Some("Nghị định 13/2023")).unwrap();
        assert_eq!(refusal.reason.as_str(), "Dữ liệu cá nhân");
    }

    /// Every step × every actor × every state: allowed exactly for the step's side from the
    /// states it starts from; a wrong side is 403 whatever the state, a wrong state is 409.
    #[test]
    fn q16_1_each_step_only_by_its_side_and_from_its_state() {
        let (consumer, provider) = (code(CONSUMER), code(PROVIDER));
        let actors = [
            ("anonymous", Actor::Anonymous, None),
            ("citizen", person(Role::Citizen, None), None),
            (
                "auditor",
                person(Role::Auditor, Some("000.00.20.H35")),
                None,
            ),
            (
                "approver",
                person(Role::Approver, Some("000.00.00.H35")),
                None,
            ),
            (
                "operator",
                person(Role::Operator, Some("000.00.11.H35")),
                Some(Side::Provider),
            ),
            (
                "consumer admin",
                person(Role::AgencyAdmin, Some(CONSUMER)),
                Some(Side::Consumer),
            ),
            (
                "provider admin",
                person(Role::AgencyAdmin, Some(PROVIDER)),
                Some(Side::Provider),
            ),
            (
                "other admin",
                person(Role::AgencyAdmin, Some("000.00.07.H35")),
                None,
            ),
            (
                "consumer system",
                Actor::System(SystemId {
                    agency: consumer.clone(),
                    code: SystemCode::parse("x").unwrap(),
                }),
                None,
            ),
        ];
        let states = [None]
            .into_iter()
            .chain(RequestState::ALL.into_iter().map(Some));
        for state in states {
            for step in RequestStep::ALL {
                for (name, actor, side) in &actors {
                    let outcome = take_step(actor, &consumer, &provider, state, step);
                    let expected = if *side != Some(step.side()) {
                        Err(RequestStepError::WrongRole(step))
                    } else if !step.starts_from(state) {
                        Err(RequestStepError::WrongState { step, state })
                    } else {
                        Ok(step.leads_to())
                    };
                    assert_eq!(outcome, expected, "{name} {step:?} from {state:?}");
                }
            }
        }
    }

    #[test]
    fn q16_1_decided_requests_are_final() {
        let (consumer, provider) = (code(CONSUMER), code(PROVIDER));
        let operator = person(Role::Operator, Some("000.00.11.H35"));
        let admin = person(Role::AgencyAdmin, Some(CONSUMER));
        for state in [
            RequestState::Approved,
            RequestState::Refused,
            RequestState::Withdrawn,
        ] {
            for step in RequestStep::ALL {
                assert!(take_step(&operator, &consumer, &provider, Some(state), step).is_err());
                assert!(take_step(&admin, &consumer, &provider, Some(state), step).is_err());
            }
        }
    }
}
