//! Tickets (*phiếu yêu cầu hỗ trợ, phản ánh*, Q15.2.g, Q16.1.b, Q17.4, Q22.2, Q23): a party to
//! data sharing raises a technical problem, a dispute, a problem with the use of data, or a
//! proposal to simplify a procedure using shared data, with a provider agency or with the
//! operator (*Sở Thông tin và Truyền thông*). The parties talk in a thread; the one who answers
//! has a response deadline in working days; the opener may escalate to the operator, and a
//! ticket left unanswered past its deadline is escalated by the platform (Q23). Every refusal of
//! a sharing request opens a dispute with the operator, the body that resolves disputes
//! (Decree 47/2020 art. 48).

use serde::{Deserialize, Serialize};

use crate::identity::Role;
use crate::policy::Actor;
use crate::text::ParseError;
use crate::AgencyCode;

/// What a ticket is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    /// A technical problem with a connection, a service or the platform (Q15.2.g).
    Technical,
    /// A dispute between a consumer and a provider, e.g. over a refusal (Decree 47 art. 48).
    Dispute,
    /// A problem with how shared data is used or with the data itself (Q16.1.b).
    DataUse,
    /// A proposal to simplify an administrative procedure thanks to shared data (Q22.2); low
    /// priority.
    Simplification,
}

impl TicketKind {
    pub const ALL: [TicketKind; 4] = [
        Self::Technical,
        Self::Dispute,
        Self::DataUse,
        Self::Simplification,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Technical => "technical",
            Self::Dispute => "dispute",
            Self::DataUse => "data_use",
            Self::Simplification => "simplification",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == value)
            .ok_or_else(|| ParseError::new(format!("unknown ticket kind `{value}`")))
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Technical => "Sự cố kỹ thuật",
            Self::Dispute => "Tranh chấp, khiếu nại",
            Self::DataUse => "Vướng mắc về sử dụng dữ liệu",
            Self::Simplification => "Đề xuất đơn giản hóa thủ tục (ưu tiên thấp)",
        }
    }
}

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// Raised, not taken up yet.
    Open,
    /// Taken up by the one who answers.
    InProgress,
    /// Answered; the opener closes it or reopens it.
    Resolved,
    /// Closed: final.
    Closed,
}

impl TicketState {
    pub const ALL: [TicketState; 4] = [Self::Open, Self::InProgress, Self::Resolved, Self::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InProgress => "in_progress",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| ParseError::new(format!("unknown ticket state `{value}`")))
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Open => "Mới tiếp nhận",
            Self::InProgress => "Đang xử lý",
            Self::Resolved => "Đã trả lời",
            Self::Closed => "Đã đóng",
        }
    }

    /// Whether an answer is still awaited, so that the deadline runs.
    pub fn awaits_answer(self) -> bool {
        matches!(self, Self::Open | Self::InProgress)
    }
}

/// A step on a ticket; comments are steps that keep the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketStep {
    Open,
    Comment,
    /// The one who answers takes the ticket up.
    Start,
    /// The one who answers gives the answer.
    Resolve,
    /// The opener is not satisfied with the answer.
    Reopen,
    Close,
    /// The opener, or the platform when the deadline passed, hands the ticket to the operator.
    Escalate,
}

impl TicketStep {
    pub const ALL: [TicketStep; 7] = [
        Self::Open,
        Self::Comment,
        Self::Start,
        Self::Resolve,
        Self::Reopen,
        Self::Close,
        Self::Escalate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Comment => "comment",
            Self::Start => "start",
            Self::Resolve => "resolve",
            Self::Reopen => "reopen",
            Self::Close => "close",
            Self::Escalate => "escalate",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| ParseError::new(format!("unknown ticket step `{value}`")))
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Open => "Gửi phiếu",
            Self::Comment => "Trao đổi",
            Self::Start => "Tiếp nhận xử lý",
            Self::Resolve => "Trả lời",
            Self::Reopen => "Mở lại",
            Self::Close => "Đóng phiếu",
            Self::Escalate => "Chuyển Sở Thông tin và Truyền thông",
        }
    }

    /// Whether the step must carry a message: a comment, an answer, why it is reopened or
    /// escalated.
    pub fn needs_message(self) -> bool {
        matches!(
            self,
            Self::Open | Self::Comment | Self::Resolve | Self::Reopen | Self::Escalate
        )
    }
}

/// The parties of a ticket, as far as the rules need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketParties<'a> {
    /// The opener's agency; `None` for a citizen.
    pub opener_agency: Option<&'a AgencyCode>,
    /// The account that opened it (a citizen's own ticket).
    pub opened_by: &'a str,
    /// The agency that answers; `None` for the operator.
    pub assignee: Option<&'a AgencyCode>,
    /// The other side of a dispute, which reads and comments.
    pub counterparty: Option<&'a AgencyCode>,
    /// Whether the ticket was escalated to the operator.
    pub escalated: bool,
}

/// How an actor stands towards a ticket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// The opener's side: the opener's agency's administrators, or the citizen who opened it.
    pub opener: bool,
    /// Answers: the assignee agency's administrators, or the operator.
    pub answers: bool,
    /// The other side of a dispute.
    pub counterparty: bool,
    /// Reads every ticket without taking part (the operator takes part; the auditor reads).
    pub reads: bool,
}

impl Standing {
    /// Whether the actor may read the ticket at all.
    pub fn may_read(self) -> bool {
        self.opener || self.answers || self.counterparty || self.reads
    }
}

/// How `actor` stands towards a ticket with `parties`.
pub fn standing(actor: &Actor, parties: &TicketParties<'_>) -> Standing {
    let Actor::Person {
        username,
        assignment,
    } = actor
    else {
        return Standing::default();
    };
    let role = assignment.role();
    let admin_of = |agency: Option<&AgencyCode>| {
        role == Role::AgencyAdmin && agency.is_some() && assignment.agency() == agency
    };
    let operator = role == Role::Operator;
    Standing {
        opener: admin_of(parties.opener_agency)
            || (parties.opener_agency.is_none() && username.as_str() == parties.opened_by)
            || (operator && parties.opened_by == username.as_str()),
        answers: operator || admin_of(parties.assignee),
        counterparty: admin_of(parties.counterparty),
        reads: operator || role == Role::Auditor,
    }
}

/// Why a step was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketStepError {
    /// The actor does not take this step on this ticket: 403.
    #[error("this caller does not take the step `{}` on this ticket", .0.as_str())]
    WrongRole(TicketStep),
    /// The ticket is not in a state the step starts from: 409.
    #[error("the step `{}` cannot be taken from the state `{}`{}", .step.as_str(), .state.as_str(), if *.escalated { " (already with the operator)" } else { "" })]
    WrongState {
        step: TicketStep,
        state: TicketState,
        escalated: bool,
    },
}

/// Decides whether an actor standing `standing` towards a ticket in `state` may take `step`;
/// returns the state it leads to. The role is checked before the state.
///
/// - anyone taking part comments, until the ticket is closed;
/// - the one who answers (the assignee agency or the operator) starts and resolves;
/// - the opener reopens an answered ticket, and escalates one awaiting an answer from an agency
///   to the operator, once;
/// - the opener or the operator closes.
pub fn take_step(
    standing: Standing,
    parties: &TicketParties<'_>,
    state: TicketState,
    step: TicketStep,
) -> Result<TicketState, TicketStepError> {
    use TicketState::*;
    let allowed = match step {
        TicketStep::Open => false,
        TicketStep::Comment => standing.opener || standing.answers || standing.counterparty,
        TicketStep::Start | TicketStep::Resolve => standing.answers,
        TicketStep::Reopen | TicketStep::Escalate => standing.opener,
        TicketStep::Close => standing.opener || (standing.answers && standing.reads),
    };
    if !allowed {
        return Err(TicketStepError::WrongRole(step));
    }
    let wrong = || TicketStepError::WrongState {
        step,
        state,
        escalated: parties.escalated,
    };
    match (step, state) {
        (TicketStep::Comment, Open | InProgress | Resolved) => Ok(state),
        (TicketStep::Start, Open) => Ok(InProgress),
        (TicketStep::Resolve, Open | InProgress) => Ok(Resolved),
        (TicketStep::Reopen, Resolved) => Ok(Open),
        (TicketStep::Close, Open | InProgress | Resolved) => Ok(Closed),
        (TicketStep::Escalate, Open | InProgress)
            if !parties.escalated && parties.assignee.is_some() =>
        {
            Ok(state)
        }
        _ => Err(wrong()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{RoleAssignment, Username};

    fn code(s: &str) -> AgencyCode {
        AgencyCode::parse(s).unwrap()
    }

    fn person(name: &str, role: Role, agency: Option<&str>) -> Actor {
        Actor::Person {
            username: Username::parse(name).unwrap(),
            assignment: RoleAssignment::new(role, agency.map(code)).unwrap(),
        }
    }

    const CONSUMER: &str = "000.00.01.H35";
    const PROVIDER: &str = "000.00.03.H35";

    #[test]
    fn q15_2_g_standing_follows_the_agencies_of_the_ticket() {
        let (consumer, provider) = (code(CONSUMER), code(PROVIDER));
        let parties = TicketParties {
            opener_agency: Some(&consumer),
            opened_by: "tieuthu",
            assignee: Some(&provider),
            counterparty: None,
            escalated: false,
        };
        let of = |actor: &Actor| standing(actor, &parties);
        assert!(of(&person("xyz", Role::AgencyAdmin, Some(CONSUMER))).opener);
        let provider_admin = of(&person("yyy", Role::AgencyAdmin, Some(PROVIDER)));
        assert!(provider_admin.answers && !provider_admin.opener);
        let operator = of(&person("opr", Role::Operator, Some("000.00.11.H35")));
        assert!(operator.answers && operator.reads && !operator.opener);
        let auditor = of(&person("cat", Role::Auditor, Some("000.00.20.H35")));
        assert!(auditor.may_read() && !auditor.answers);
        assert!(!of(&person("zzz", Role::AgencyAdmin, Some("000.00.07.H35"))).may_read());
        assert!(!of(&person("dan", Role::Citizen, None)).may_read());
        assert!(!of(&Actor::Anonymous).may_read());

        // A citizen's own ticket, and nobody else's.
        let citizen = TicketParties {
            opener_agency: None,
            opened_by: "dan",
            ..parties.clone()
        };
        assert!(standing(&person("dan", Role::Citizen, None), &citizen).opener);
        assert!(!standing(&person("khac", Role::Citizen, None), &citizen).may_read());
    }

    #[test]
    fn q23_steps_follow_the_state_machine_and_escalate_once() {
        let (consumer, provider) = (code(CONSUMER), code(PROVIDER));
        let parties = TicketParties {
            opener_agency: Some(&consumer),
            opened_by: "tieuthu",
            assignee: Some(&provider),
            counterparty: None,
            escalated: false,
        };
        let opener = Standing {
            opener: true,
            ..Standing::default()
        };
        let assignee = Standing {
            answers: true,
            ..Standing::default()
        };
        use TicketState::{Closed, InProgress, Resolved};
        use TicketStep::{Close, Comment, Escalate, Reopen, Resolve, Start};
        let open = TicketState::Open;
        assert_eq!(take_step(assignee, &parties, open, Start), Ok(InProgress));
        assert_eq!(
            take_step(assignee, &parties, InProgress, Resolve),
            Ok(Resolved)
        );
        assert_eq!(take_step(opener, &parties, Resolved, Reopen), Ok(open));
        assert_eq!(take_step(opener, &parties, Resolved, Close), Ok(Closed));
        assert_eq!(take_step(opener, &parties, open, Escalate), Ok(open));
        assert_eq!(
            take_step(opener, &parties, open, Resolve),
            Err(TicketStepError::WrongRole(Resolve))
        );
        assert_eq!(
            take_step(assignee, &parties, open, Escalate),
            Err(TicketStepError::WrongRole(Escalate))
        );
        // The assignee agency does not close; the operator does.
        assert!(take_step(assignee, &parties, Resolved, Close).is_err());
        let operator = Standing {
            answers: true,
            reads: true,
            ..Standing::default()
        };
        assert_eq!(take_step(operator, &parties, Resolved, Close), Ok(Closed));
        for step in [Comment, Start, Resolve, Reopen, Close, Escalate] {
            assert!(take_step(operator, &parties, Closed, step).is_err());
            assert!(take_step(opener, &parties, Closed, step).is_err());
        }
        let escalated = TicketParties {
            escalated: true,
            ..parties.clone()
        };
        assert!(matches!(
            take_step(opener, &escalated, open, Escalate),
            Err(TicketStepError::WrongState {
                escalated: true,
                ..
            })
        ));
        let with_operator = TicketParties {
            assignee: None,
            ..parties.clone()
        };
        assert!(take_step(opener, &with_operator, open, Escalate).is_err());
        assert!(take_step(Standing::default(), &parties, open, Comment).is_err());
    }

    #[test]
    fn kinds_states_and_steps_round_trip() {
        for kind in TicketKind::ALL {
            assert_eq!(TicketKind::parse(kind.as_str()), Ok(kind));
        }
        for state in TicketState::ALL {
            assert_eq!(TicketState::parse(state.as_str()), Ok(state));
        }
        for step in TicketStep::ALL {
            assert_eq!(TicketStep::parse(step.as_str()), Ok(step));
        }
        assert!(TicketKind::parse("other").is_err());
    }
}
