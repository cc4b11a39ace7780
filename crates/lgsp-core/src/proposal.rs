//! Catalog proposals (*đề nghị bổ sung, chỉnh sửa, rút*): the written procedure of Q5.2 as a
//! state machine. An agency proposes with a reason and its official letter; the operator
//! (Sở TTTT) returns it for revision or forwards it with a recommendation; the approver
//! (UBND tỉnh) approves or rejects it by a decision (*quyết định*). Only an approved decision
//! changes the catalog, from its effective date.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalog::{EntryCode, EntryContent};
use crate::identity::Role;
use crate::policy::Actor;
use crate::text::{ParseError, Text};
use crate::AgencyCode;

/// What a proposal asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProposalAction {
    /// Add a new entry.
    Add { entry: EntryContent },
    /// Replace an entry's content (same code).
    Modify { entry: EntryContent },
    /// Withdraw an entry from the catalog.
    Withdraw { code: EntryCode },
}

impl ProposalAction {
    pub fn code(&self) -> &EntryCode {
        match self {
            Self::Add { entry } | Self::Modify { entry } => &entry.code,
            Self::Withdraw { code } => code,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Add { .. } => "add",
            Self::Modify { .. } => "modify",
            Self::Withdraw { .. } => "withdraw",
        }
    }

    pub fn label_vi(&self) -> &'static str {
        match self {
            Self::Add { .. } => "Bổ sung",
            Self::Modify { .. } => "Chỉnh sửa",
            Self::Withdraw { .. } => "Rút khỏi danh mục",
        }
    }
}

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProposalState {
    /// Waiting for the operator's review.
    Submitted,
    /// Sent back to the agency for revision.
    Returned,
    /// Sent to the approver with the operator's recommendation.
    Forwarded,
    Approved,
    Rejected,
}

impl ProposalState {
    pub const ALL: [ProposalState; 5] = [
        Self::Submitted,
        Self::Returned,
        Self::Forwarded,
        Self::Approved,
        Self::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Returned => "returned",
            Self::Forwarded => "forwarded",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| ParseError::new(format!("unknown proposal state `{value}`")))
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Submitted => "Chờ Sở TTTT xem xét",
            Self::Returned => "Trả lại để chỉnh sửa",
            Self::Forwarded => "Đã trình UBND tỉnh",
            Self::Approved => "Đã phê duyệt",
            Self::Rejected => "Không phê duyệt",
        }
    }
}

/// A step of the procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Submit,
    Return,
    Resubmit,
    Forward,
    Approve,
    Reject,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Self::Submit,
        Self::Return,
        Self::Resubmit,
        Self::Forward,
        Self::Approve,
        Self::Reject,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Return => "return",
            Self::Resubmit => "resubmit",
            Self::Forward => "forward",
            Self::Approve => "approve",
            Self::Reject => "reject",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| ParseError::new(format!("unknown step `{value}`")))
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Submit => "Gửi đề nghị",
            Self::Return => "Trả lại để chỉnh sửa",
            Self::Resubmit => "Gửi lại đề nghị",
            Self::Forward => "Trình UBND tỉnh",
            Self::Approve => "Phê duyệt",
            Self::Reject => "Không phê duyệt",
        }
    }

    /// Who takes this step.
    fn role(self) -> Role {
        match self {
            Self::Submit | Self::Resubmit => Role::AgencyAdmin,
            Self::Return | Self::Forward => Role::Operator,
            Self::Approve | Self::Reject => Role::Approver,
        }
    }

    /// The state the step starts from (`None`: a new proposal) and the state it leads to.
    fn transition(self) -> (Option<ProposalState>, ProposalState) {
        use ProposalState::*;
        match self {
            Self::Submit => (None, Submitted),
            Self::Return => (Some(Submitted), Returned),
            Self::Resubmit => (Some(Returned), Submitted),
            Self::Forward => (Some(Submitted), Forwarded),
            Self::Approve => (Some(Forwarded), Approved),
            Self::Reject => (Some(Forwarded), Rejected),
        }
    }
}

/// Why a step was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The actor's role does not take this step (or, for an agency, not for this agency): 403.
    #[error("this role does not take the step `{}`", .0.as_str())]
    WrongRole(Step),
    /// The proposal is not in the state the step starts from: 409.
    #[error("the step `{}` cannot be taken from the state `{}`", .step.as_str(), .state.map_or("new", ProposalState::as_str))]
    WrongState {
        step: Step,
        state: Option<ProposalState>,
    },
}

/// Decides whether `actor` may take `step` on a proposal of `proposer` that is in `state`
/// (`None` for a proposal not yet submitted); returns the state it leads to. The role is checked
/// before the state, so a wrong role is told so whatever the state.
pub fn take_step(
    actor: &Actor,
    proposer: &AgencyCode,
    state: Option<ProposalState>,
    step: Step,
) -> Result<ProposalState, StepError> {
    let Actor::Person { assignment, .. } = actor else {
        return Err(StepError::WrongRole(step));
    };
    let role_ok = assignment.role() == step.role()
        && (step.role() != Role::AgencyAdmin || assignment.agency() == Some(proposer));
    if !role_ok {
        return Err(StepError::WrongRole(step));
    }
    let (from, to) = step.transition();
    if state != from {
        return Err(StepError::WrongState { step, state });
    }
    Ok(to)
}

/// The approver's decision (*quyết định*) on a forwarded proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, try_from = "DecisionParts")]
pub struct Decision {
    /// e.g. "1234/QĐ-UBND".
    pub number: Text,
    pub date: NaiveDate,
    /// From when the catalog changes; not before the decision's date.
    pub effective_date: NaiveDate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionParts {
    number: Text,
    date: NaiveDate,
    effective_date: NaiveDate,
}

impl TryFrom<DecisionParts> for Decision {
    type Error = ParseError;
    fn try_from(p: DecisionParts) -> Result<Self, ParseError> {
        if p.effective_date < p.date {
            return Err(ParseError::new(
                "a decision cannot take effect before the date it is issued",
            ));
        }
        Ok(Self {
            number: p.number,
            date: p.date,
            effective_date: p.effective_date,
        })
    }
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

    #[test]
    fn q5_2_the_whole_procedure_in_order() {
        let proposer = code("000.00.06.H35");
        let admin = person(Role::AgencyAdmin, Some("000.00.06.H35"));
        let operator = person(Role::Operator, Some("000.00.11.H35"));
        let approver = person(Role::Approver, Some("000.00.00.H35"));
        let s = take_step(&admin, &proposer, None, Step::Submit).unwrap();
        let s = take_step(&operator, &proposer, Some(s), Step::Return).unwrap();
        let s = take_step(&admin, &proposer, Some(s), Step::Resubmit).unwrap();
        let s = take_step(&operator, &proposer, Some(s), Step::Forward).unwrap();
        assert_eq!(s, ProposalState::Forwarded);
        assert_eq!(
            take_step(&approver, &proposer, Some(s), Step::Approve),
            Ok(ProposalState::Approved)
        );
        assert_eq!(
            take_step(&approver, &proposer, Some(s), Step::Reject),
            Ok(ProposalState::Rejected)
        );
    }

    /// Every step × every actor × every state: allowed exactly for the step's role (and, for an
    /// agency, its own agency) from the step's starting state; a wrong role is 403 whatever the
    /// state, a right role in a wrong state is 409.
    #[test]
    fn q5_2_each_step_only_by_its_role_and_from_its_state() {
        let proposer = code("000.00.06.H35");
        let actors = [
            ("anonymous", Actor::Anonymous, None),
            ("citizen", person(Role::Citizen, None), None),
            (
                "auditor",
                person(Role::Auditor, Some("000.00.20.H35")),
                None,
            ),
            (
                "operator",
                person(Role::Operator, Some("000.00.11.H35")),
                Some(Role::Operator),
            ),
            (
                "approver",
                person(Role::Approver, Some("000.00.00.H35")),
                Some(Role::Approver),
            ),
            (
                "own admin",
                person(Role::AgencyAdmin, Some("000.00.06.H35")),
                Some(Role::AgencyAdmin),
            ),
            (
                "other admin",
                person(Role::AgencyAdmin, Some("000.00.07.H35")),
                None,
            ),
            (
                "system",
                Actor::System(SystemId {
                    agency: proposer.clone(),
                    code: SystemCode::parse("x").unwrap(),
                }),
                None,
            ),
        ];
        let states = [None]
            .into_iter()
            .chain(ProposalState::ALL.into_iter().map(Some));
        for state in states {
            for step in Step::ALL {
                for (name, actor, role) in &actors {
                    let outcome = take_step(actor, &proposer, state, step);
                    let (from, to) = step.transition();
                    let expected = if *role != Some(step.role()) {
                        Err(StepError::WrongRole(step))
                    } else if state != from {
                        Err(StepError::WrongState { step, state })
                    } else {
                        Ok(to)
                    };
                    assert_eq!(outcome, expected, "{name} {step:?} from {state:?}");
                }
            }
        }
        // Decided proposals are final.
        for step in Step::ALL {
            let approver = person(Role::Approver, None);
            assert!(take_step(&approver, &proposer, Some(ProposalState::Approved), step).is_err());
        }
    }

    #[test]
    fn decisions_take_effect_on_or_after_their_date() {
        let ok: Decision = serde_json::from_value(serde_json::json!(
            {"number": "1234/QĐ-UBND", "date": "2026-11-01", "effective_date": "2026-12-01"}
        ))
        .unwrap();
        assert_eq!(ok.effective_date.to_string(), "2026-12-01");
        assert!(serde_json::from_value::<Decision>(serde_json::json!(
            {"number": "1234/QĐ-UBND", "date": "2026-11-01", "effective_date": "2026-10-01"}
        ))
        .is_err());
    }

    #[test]
    fn actions_know_their_code() {
        let entry: EntryContent =
            serde_json::from_value(crate::catalog::tests::sample_entry_json()).unwrap();
        let add = ProposalAction::Add { entry };
        assert_eq!(add.code().as_str(), "CSDL.DATDAI");
        let withdraw: ProposalAction =
            serde_json::from_str(r#"{"action":"withdraw","code":"CSDL.DATDAI"}"#).unwrap();
        assert_eq!(withdraw.as_str(), "withdraw");
    }
}
