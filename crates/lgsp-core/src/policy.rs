//! Who may do what: every authorisation decision of the platform, as pure functions.
//!
//! Handlers describe the request as an [`Actor`], an [`Action`] and a [`Resource`] and ask
//! [`authorize`]. Keeping the whole rule set in one function makes it reviewable in one place and
//! testable as a matrix (see the tests at the bottom).

use crate::catalog::AccessLevel;
use crate::identity::{Role, RoleAssignment, Username};
use crate::{AgencyCode, SystemId};

/// Whoever is making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// Nobody signed in: a citizen browsing the portal, or a script without credentials.
    Anonymous,
    /// A signed-in person acting in one role.
    Person {
        username: Username,
        assignment: RoleAssignment,
    },
    /// A consumer or provider system authenticated by its client credentials.
    System(SystemId),
}

impl Actor {
    pub fn role(&self) -> Option<Role> {
        match self {
            Self::Person { assignment, .. } => Some(assignment.role()),
            _ => None,
        }
    }

    fn agency_admin_of(&self, agency: &AgencyCode) -> bool {
        matches!(self, Self::Person { assignment, .. }
            if assignment.role() == Role::AgencyAdmin && assignment.agency() == Some(agency))
    }

    fn is(&self, role: Role) -> bool {
        self.role() == Some(role)
    }
}

/// What the actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Read,
    Create,
    Update,
    /// Disable a user or revoke a client; nothing is ever hard-deleted.
    Revoke,
    /// Record a connection-readiness assessment of a system (Q21.3).
    Assess,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Self::Read,
        Self::Create,
        Self::Update,
        Self::Revoke,
        Self::Assess,
    ];
}

/// What the action is applied to, with the facts the decision depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// The agency registry, or one agency in it.
    Agency(Option<&'a AgencyCode>),
    /// An information system of an agency (`None`: the registry across agencies).
    System(Option<&'a AgencyCode>),
    /// A person's account: the agency it belongs to, the role it has (or would get) and its
    /// username when it exists. `None` agency with no role: the user directory as a whole.
    User {
        agency: Option<&'a AgencyCode>,
        role: Option<Role>,
        username: Option<&'a Username>,
    },
    /// Client credentials of a system of an agency (`None`: the list across agencies).
    Client(Option<&'a AgencyCode>),
    /// Catalog proposals of an agency (`None`: across agencies).
    Proposal(Option<&'a AgencyCode>),
    /// The hosted records of a dataset owned by an agency, at its access level. Reading open and
    /// public data needs nobody (Q13.2); other levels need a grant (not yet: the owner and the
    /// operator only). Changing records or their schema is the owner's.
    Records {
        owner: &'a AgencyCode,
        access: crate::catalog::AccessLevel,
    },
    /// Error reports on a dataset owned by an agency, at its access level (Q16.2.c). Whoever
    /// may read the dataset reports errors in it — citizens too, without signing in, for open
    /// and public data — but not systems, whose errors are their agency's people's to report.
    /// The owner agency (its administrators) and the operator read and handle the reports.
    ErrorReports {
        owner: &'a AgencyCode,
        access: crate::catalog::AccessLevel,
    },
    /// A service of a provider agency (Q7.2, Q8.1). Published services, their OpenAPI
    /// documents and connection guides are public (Q12); drafts and retired ones are the
    /// provider's.
    Service {
        owner: &'a AgencyCode,
        published: bool,
    },
    /// A grant on a provider agency's service or dataset to a consumer agency's system
    /// (Q13.1, Q15.1.c). The provider grants, suspends and terminates; both sides see it.
    Grant {
        provider: &'a AgencyCode,
        consumer: &'a AgencyCode,
    },
    /// A sharing request of a consumer agency to a provider agency (Q13.1, Q16.1). Both sides,
    /// the operator and the auditor read it; its steps are decided by
    /// [`crate::sharing_request::take_step`].
    SharingRequest {
        provider: &'a AgencyCode,
        consumer: &'a AgencyCode,
    },
    /// A consumer system's subscription to a resource shared by default (Decree 47's *chia sẻ
    /// mặc định*): the system itself, its agency's administrator or the operator subscribe.
    Subscription { consumer: &'a SystemId },
    /// A citizen's consent to share their records held by a provider agency with a consumer
    /// agency (Q15.2.h; Decree 13/2023 art. 11). Only the citizen gives and revokes it; the
    /// citizen and both agencies' administrators read it.
    Consent {
        subject: &'a Username,
        provider: &'a AgencyCode,
        consumer: &'a AgencyCode,
    },
    /// Webhook subscriptions of an agency to datasets' changes (`None`: across agencies).
    /// Subscribing also needs read access to the dataset's records, asked separately.
    Webhook(Option<&'a AgencyCode>),
    /// Security events, e.g. refused state-secret registrations (Q1.2, Q20).
    SecurityEvents,
    /// Content held by the state-secret guard (Q20.3): suspected state secrets are the
    /// police's to examine and decide on (read, and update: confirm or release), no one
    /// else's.
    Quarantine,
    /// The health of every connected system and its readiness (Q7.5, Q21.3): the operator
    /// watches it, the auditor reads it.
    Monitoring,
    /// The annual report to the People's Committee (Q17.6): the operator builds it and marks
    /// it sent (create).
    AnnualReport,
    /// The dashboards' figures (Q7.5, Q15.2.e, Q17.6): exchanges, latency, requests, reports,
    /// tickets and availability, province-wide (`None`) or of one agency. The operator, the
    /// People's Committee (approver) and the auditor read every agency's; an agency's
    /// administrators read their own agency's only.
    Statistics(Option<&'a AgencyCode>),
    /// The signed-in console.
    Console,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// Nobody is signed in, and the resource is not public: 401.
    #[error("authentication required")]
    Unauthenticated,
    /// Signed in, but not allowed: 403.
    #[error("not allowed")]
    Forbidden,
}

/// Whether `actor` sees the personal-data fields of records owned by `owner` (Decree
/// 13/2023): only the owner and the operator until grants and consents exist.
pub fn may_see_personal_fields(actor: &Actor, owner: &AgencyCode) -> bool {
    actor.is(Role::Operator) || actor.agency_admin_of(owner)
}

/// Decides whether `actor` may perform `action` on `resource`.
pub fn authorize(actor: &Actor, action: Action, resource: Resource<'_>) -> Result<(), Denial> {
    if allows(actor, action, resource) {
        Ok(())
    } else if *actor == Actor::Anonymous {
        Err(Denial::Unauthenticated)
    } else {
        Err(Denial::Forbidden)
    }
}

fn allows(actor: &Actor, action: Action, resource: Resource<'_>) -> bool {
    use Action::*;
    let operator = actor.is(Role::Operator);
    match (resource, action) {
        // The agency registry and focal officers are public (Q8.2, Q12).
        (Resource::Agency(_), Read) => true,
        (Resource::Agency(_), Create) => operator,
        (Resource::Agency(Some(agency)), Update) => operator || actor.agency_admin_of(agency),
        (Resource::Agency(_), _) => false,

        // Agencies look up each other's systems to connect (Q7.1, Q7.3); the public does not
        // see internal addresses.
        (Resource::System(_), Read) => {
            operator
                || actor.is(Role::Approver)
                || actor.is(Role::Auditor)
                || actor.is(Role::AgencyAdmin)
        }
        (Resource::System(Some(agency)), Create | Update | Revoke) => {
            operator || actor.agency_admin_of(agency)
        }
        (Resource::System(Some(_)), Assess) => operator,
        (Resource::System(_), _) => false,

        (
            Resource::User {
                agency,
                role,
                username,
            },
            action,
        ) => {
            let is_self = matches!((actor, username),
                (Actor::Person { username: me, .. }, Some(them)) if me == them);
            let admin_of_target = agency.is_some_and(|agency| actor.agency_admin_of(agency));
            match action {
                Read => {
                    operator
                        || actor.is(Role::Auditor)
                        || is_self
                        || admin_of_target
                        || (agency.is_none() && role.is_none() && actor.is(Role::AgencyAdmin))
                }
                // An agency administrator manages the administrators of its own agency only;
                // every other role is given by the operator.
                Create | Update | Revoke => {
                    operator || (admin_of_target && role == Some(Role::AgencyAdmin) && !is_self)
                }
                Assess => false,
            }
        }

        (Resource::Client(agency), Read) => {
            operator
                || actor.is(Role::Auditor)
                || match agency {
                    Some(agency) => actor.agency_admin_of(agency),
                    None => actor.is(Role::AgencyAdmin),
                }
        }
        (Resource::Client(Some(agency)), Create | Update | Revoke) => {
            operator || actor.agency_admin_of(agency)
        }
        (Resource::Client(_), _) => false,

        // Proposals are seen by the bodies of the procedure and by the proposing agency;
        // the steps themselves are decided by `proposal::take_step`.
        (Resource::Proposal(agency), Read) => {
            operator
                || actor.is(Role::Approver)
                || actor.is(Role::Auditor)
                || match agency {
                    Some(agency) => actor.agency_admin_of(agency),
                    None => actor.is(Role::AgencyAdmin),
                }
        }
        (Resource::Proposal(_), _) => false,

        (
            Resource::Records {
                access: AccessLevel::Open | AccessLevel::Public,
                ..
            },
            Read,
        ) => true,
        (Resource::Records { owner, .. }, Read | Update) => {
            operator || actor.agency_admin_of(owner)
        }
        (Resource::Records { .. }, _) => false,

        (Resource::ErrorReports { owner, access }, Create) => {
            !matches!(actor, Actor::System(_))
                && allows(actor, Read, Resource::Records { owner, access })
        }
        (Resource::ErrorReports { owner, .. }, Read | Update) => {
            operator || actor.agency_admin_of(owner)
        }
        (Resource::ErrorReports { .. }, _) => false,
        (
            Resource::Service {
                published: true, ..
            },
            Read,
        ) => true,
        (Resource::Service { owner, .. }, Read) => {
            operator || actor.is(Role::Auditor) || actor.agency_admin_of(owner)
        }
        // Assess: run the conformance check, whose findings are measured, not declared.
        (Resource::Service { owner, .. }, Create | Update | Assess) => {
            operator || actor.agency_admin_of(owner)
        }
        (Resource::Service { .. }, Revoke) => false,

        (Resource::Grant { provider, consumer }, Read) => {
            operator
                || actor.is(Role::Auditor)
                || actor.agency_admin_of(provider)
                || actor.agency_admin_of(consumer)
                || matches!(actor, Actor::System(system) if &system.agency == consumer)
        }
        (Resource::Grant { provider, .. }, Create | Update) => {
            operator || actor.agency_admin_of(provider)
        }
        (Resource::Grant { .. }, _) => false,

        (Resource::SharingRequest { provider, consumer }, Read) => {
            operator
                || actor.is(Role::Auditor)
                || actor.agency_admin_of(provider)
                || actor.agency_admin_of(consumer)
        }
        (Resource::SharingRequest { .. }, _) => false,

        (Resource::Subscription { consumer }, Create) => {
            operator
                || actor.agency_admin_of(&consumer.agency)
                || matches!(actor, Actor::System(system) if system == consumer)
        }
        (Resource::Subscription { .. }, _) => false,

        (
            Resource::Consent {
                subject,
                provider,
                consumer,
            },
            action,
        ) => {
            let is_subject = matches!(actor, Actor::Person { username, assignment }
                if username == subject && assignment.role() == Role::Citizen);
            match action {
                Read => {
                    is_subject || actor.agency_admin_of(provider) || actor.agency_admin_of(consumer)
                }
                Create | Revoke => is_subject,
                Update | Assess => false,
            }
        }
        // An agency's administrators manage its subscriptions; the operator any; the auditor
        // reads them.
        (Resource::Webhook(agency), Read) => {
            operator
                || actor.is(Role::Auditor)
                || match agency {
                    Some(agency) => actor.agency_admin_of(agency),
                    None => actor.is(Role::AgencyAdmin),
                }
        }
        (Resource::Webhook(Some(agency)), Create | Update | Revoke) => {
            operator || actor.agency_admin_of(agency)
        }
        (Resource::Webhook(_), _) => false,

        (Resource::SecurityEvents, Read) => operator || actor.is(Role::Auditor),
        (Resource::SecurityEvents, _) => false,

        (Resource::Quarantine, Read | Update) => actor.is(Role::Auditor),
        (Resource::Quarantine, _) => false,

        (Resource::Monitoring, Read) => operator || actor.is(Role::Auditor),
        (Resource::Monitoring, _) => false,

        (Resource::AnnualReport, Read | Create) => operator,
        (Resource::AnnualReport, _) => false,
        (Resource::Statistics(agency), Read) => {
            operator
                || actor.is(Role::Approver)
                || actor.is(Role::Auditor)
                || agency.is_some_and(|agency| actor.agency_admin_of(agency))
        }
        (Resource::Statistics(_), _) => false,

        (Resource::Console, Read) => matches!(actor, Actor::Person { .. }),
        (Resource::Console, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SystemCode;
    use proptest::prelude::*;

    fn code(s: &str) -> AgencyCode {
        AgencyCode::parse(s).unwrap()
    }

    const OWN: &str = "000.00.05.H35";
    const OTHER: &str = "000.00.06.H35";

    fn person(name: &str, role: Role, agency: Option<&str>) -> Actor {
        Actor::Person {
            username: Username::parse(name).unwrap(),
            assignment: RoleAssignment::new(role, agency.map(code)).unwrap(),
        }
    }

    /// The actors of the matrix, in column order.
    fn actors() -> Vec<(&'static str, Actor)> {
        vec![
            ("anon", Actor::Anonymous),
            ("citizen", person("citizen", Role::Citizen, None)),
            (
                "operator",
                person("operator", Role::Operator, Some("000.00.12.H35")),
            ),
            (
                "approver",
                person("approver", Role::Approver, Some("000.00.00.H35")),
            ),
            (
                "auditor",
                person("auditor", Role::Auditor, Some("000.00.20.H35")),
            ),
            ("admin", person("admin", Role::AgencyAdmin, Some(OWN))),
            (
                "system",
                Actor::System(SystemId {
                    agency: code(OWN),
                    code: SystemCode::parse("mot-cua").unwrap(),
                }),
            ),
        ]
    }

    /// The role × resource × action matrix. Columns: anon, citizen, operator, approver, auditor,
    /// agency admin of the agency "own", a system of "own". `Y` allowed, `.` refused.
    /// Resources name the agency they belong to: "own" or "other".
    const MATRIX: &str = "
        agency(all)      read    Y Y Y Y Y Y Y
        agency(all)      create  . . Y . . . .
        agency(own)      update  . . Y . . Y .
        agency(other)    update  . . Y . . . .
        agency(own)      revoke  . . . . . . .
        system(all)      read    . . Y Y Y Y .
        system(own)      read    . . Y Y Y Y .
        system(other)    read    . . Y Y Y Y .
        system(own)      create  . . Y . . Y .
        system(other)    create  . . Y . . . .
        system(own)      update  . . Y . . Y .
        system(other)    update  . . Y . . . .
        system(own)      revoke  . . Y . . Y .
        system(own)      assess  . . Y . . . .
        user(all)        read    . . Y . Y Y .
        user(own-admin)  read    . . Y . Y Y .
        user(other-admin) read   . . Y . Y . .
        user(own-admin)  create  . . Y . . Y .
        user(other-admin) create . . Y . . . .
        user(own-operator) create . . Y . . . .
        user(own-admin)  update  . . Y . . Y .
        user(own-admin)  revoke  . . Y . . Y .
        user(self)       read    . . Y . Y Y .
        user(self)       revoke  . . Y . . . .
        client(all)      read    . . Y . Y Y .
        client(own)      read    . . Y . Y Y .
        client(other)    read    . . Y . Y . .
        client(own)      create  . . Y . . Y .
        client(other)    create  . . Y . . . .
        client(own)      revoke  . . Y . . Y .
        proposal(all)    read    . . Y Y Y Y .
        proposal(own)    read    . . Y Y Y Y .
        proposal(other)  read    . . Y Y Y . .
        proposal(own)    create  . . . . . . .
        records(open)    read    Y Y Y Y Y Y Y
        records(personal) read   . . Y . . Y .
        records(other-personal) read . . Y . . . .
        records(open)    update  . . Y . . Y .
        records(other-open) update . . Y . . . .
        reports(open)    create  Y Y Y Y Y Y .
        reports(public)  create  Y Y Y Y Y Y .
        reports(personal) create . . Y . . Y .
        reports(other-personal) create . . Y . . . .
        reports(open)    read    . . Y . . Y .
        reports(other-open) read . . Y . . . .
        reports(open)    update  . . Y . . Y .
        reports(other-open) update . . Y . . . .
        reports(open)    revoke  . . . . . . .
        reports(open)    assess  . . . . . . .
        service(own-published) read   Y Y Y Y Y Y Y
        service(own-draft) read  . . Y . Y Y .
        service(other-draft) read . . Y . Y . .
        service(own-draft) create . . Y . . Y .
        service(other-draft) create . . Y . . . .
        service(own-draft) update . . Y . . Y .
        service(other-published) update . . Y . . . .
        service(own-published) assess . . Y . . Y .
        service(other-published) assess . . Y . . . .
        service(own-published) revoke . . . . . . .
        grant(own-provides) read  . . Y . Y Y .
        grant(own-consumes) read  . . Y . Y Y Y
        grant(others) read        . . Y . Y . .
        grant(own-provides) create . . Y . . Y .
        grant(own-consumes) create . . Y . . . .
        grant(others) create      . . Y . . . .
        grant(own-provides) update . . Y . . Y .
        grant(own-consumes) update . . Y . . . .
        grant(own-provides) revoke . . . . . . .
        subscription(own-system) create . . Y . . Y Y
        subscription(own-other-system) create . . Y . . Y .
        subscription(other-system) create . . Y . . . .
        subscription(own-system) read . . . . . . .
        consent(mine-own-provides) read . Y . . . Y .
        consent(mine-own-consumes) read . Y . . . Y .
        consent(mine-others) read . Y . . . . .
        consent(theirs-own-provides) read . . . . . Y .
        consent(mine-others) create . Y . . . . .
        consent(theirs-others) create . . . . . . .
        consent(mine-own-provides) revoke . Y . . . . .
        consent(theirs-own-provides) revoke . . . . . . .
        consent(mine-others) update . . . . . . .
        webhook(all)     read    . . Y . Y Y .
        webhook(own)     read    . . Y . Y Y .
        webhook(other)   read    . . Y . Y . .
        webhook(own)     create  . . Y . . Y .
        webhook(other)   create  . . Y . . . .
        webhook(own)     revoke  . . Y . . Y .
        webhook(own)     update  . . Y . . Y .
        webhook(all)     create  . . . . . . .
        webhook(own)     assess  . . . . . . .
        security-events  read    . . Y . Y . .
        quarantine       read    . . . . Y . .
        quarantine       update  . . . . Y . .
        quarantine       create  . . . . . . .
        monitoring       read    . . Y . Y . .
        monitoring       update  . . . . . . .
        annual-report    read    . . Y . . . .
        annual-report    create  . . Y . . . .
        annual-report    update  . . . . . . .
        statistics(all)  read    . . Y Y Y . .
        statistics(own)  read    . . Y Y Y Y .
        statistics(other) read   . . Y Y Y . .
        statistics(own)  update  . . . . . . .
        console          read    . Y Y Y Y Y .
        console          update  . . . . . . .
    ";

    #[test]
    fn role_resource_action_matrix() {
        let own = code(OWN);
        let other = code(OTHER);
        let colleague = Username::parse("colleague").unwrap();
        let admin = Username::parse("admin").unwrap();
        // The matrix's citizen actor is `citizen`: "mine" consents are theirs.
        let citizen = Username::parse("citizen").unwrap();
        let system_of = |agency: &AgencyCode, code: &str| SystemId {
            agency: agency.clone(),
            code: SystemCode::parse(code).unwrap(),
        };
        // The matrix's system actor is `mot-cua` of the agency "own".
        let own_system = system_of(&own, "mot-cua");
        let own_other_system = system_of(&own, "bao-cao");
        let other_system = system_of(&other, "mot-cua");
        for line in MATRIX.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let cells: Vec<&str> = line.split_whitespace().collect();
            let (resource_name, action_name, expected) = (cells[0], cells[1], &cells[2..]);
            let resource = match resource_name {
                "agency(all)" => Resource::Agency(None),
                "agency(own)" => Resource::Agency(Some(&own)),
                "agency(other)" => Resource::Agency(Some(&other)),
                "system(all)" => Resource::System(None),
                "system(own)" => Resource::System(Some(&own)),
                "system(other)" => Resource::System(Some(&other)),
                "user(all)" => Resource::User {
                    agency: None,
                    role: None,
                    username: None,
                },
                "user(own-admin)" => Resource::User {
                    agency: Some(&own),
                    role: Some(Role::AgencyAdmin),
                    username: Some(&colleague),
                },
                "user(other-admin)" => Resource::User {
                    agency: Some(&other),
                    role: Some(Role::AgencyAdmin),
                    username: Some(&colleague),
                },
                "user(own-operator)" => Resource::User {
                    agency: Some(&own),
                    role: Some(Role::Operator),
                    username: None,
                },
                // The agency administrator's own account; other actors see a colleague's.
                "user(self)" => Resource::User {
                    agency: Some(&own),
                    role: Some(Role::AgencyAdmin),
                    username: Some(&admin),
                },
                "client(all)" => Resource::Client(None),
                "client(own)" => Resource::Client(Some(&own)),
                "client(other)" => Resource::Client(Some(&other)),
                "proposal(all)" => Resource::Proposal(None),
                "proposal(own)" => Resource::Proposal(Some(&own)),
                "proposal(other)" => Resource::Proposal(Some(&other)),
                "records(open)" => Resource::Records {
                    owner: &own,
                    access: crate::catalog::AccessLevel::Open,
                },
                "records(personal)" => Resource::Records {
                    owner: &own,
                    access: crate::catalog::AccessLevel::Personal,
                },
                "records(other-personal)" => Resource::Records {
                    owner: &other,
                    access: crate::catalog::AccessLevel::Personal,
                },
                "records(other-open)" => Resource::Records {
                    owner: &other,
                    access: crate::catalog::AccessLevel::Open,
                },
                "reports(open)" => Resource::ErrorReports {
                    owner: &own,
                    access: crate::catalog::AccessLevel::Open,
                },
                "reports(public)" => Resource::ErrorReports {
                    owner: &own,
                    access: crate::catalog::AccessLevel::Public,
                },
                "reports(personal)" => Resource::ErrorReports {
                    owner: &own,
                    access: crate::catalog::AccessLevel::Personal,
                },
                "reports(other-personal)" => Resource::ErrorReports {
                    owner: &other,
                    access: crate::catalog::AccessLevel::Personal,
                },
                "reports(other-open)" => Resource::ErrorReports {
                    owner: &other,
                    access: crate::catalog::AccessLevel::Open,
                },
                "service(own-published)" => Resource::Service {
                    owner: &own,
                    published: true,
                },
                "service(own-draft)" => Resource::Service {
                    owner: &own,
                    published: false,
                },
                "service(other-draft)" => Resource::Service {
                    owner: &other,
                    published: false,
                },
                "service(other-published)" => Resource::Service {
                    owner: &other,
                    published: true,
                },
                "grant(own-provides)" => Resource::Grant {
                    provider: &own,
                    consumer: &other,
                },
                "grant(own-consumes)" => Resource::Grant {
                    provider: &other,
                    consumer: &own,
                },
                "grant(others)" => Resource::Grant {
                    provider: &other,
                    consumer: &other,
                },
                "subscription(own-system)" => Resource::Subscription {
                    consumer: &own_system,
                },
                "subscription(own-other-system)" => Resource::Subscription {
                    consumer: &own_other_system,
                },
                "subscription(other-system)" => Resource::Subscription {
                    consumer: &other_system,
                },
                "consent(mine-own-provides)" => Resource::Consent {
                    subject: &citizen,
                    provider: &own,
                    consumer: &other,
                },
                "consent(mine-own-consumes)" => Resource::Consent {
                    subject: &citizen,
                    provider: &other,
                    consumer: &own,
                },
                "consent(mine-others)" => Resource::Consent {
                    subject: &citizen,
                    provider: &other,
                    consumer: &other,
                },
                "consent(theirs-own-provides)" => Resource::Consent {
                    subject: &colleague,
                    provider: &own,
                    consumer: &other,
                },
                "consent(theirs-others)" => Resource::Consent {
                    subject: &colleague,
                    provider: &other,
                    consumer: &other,
                },
                "webhook(all)" => Resource::Webhook(None),
                "webhook(own)" => Resource::Webhook(Some(&own)),
                "webhook(other)" => Resource::Webhook(Some(&other)),
                "security-events" => Resource::SecurityEvents,
                "quarantine" => Resource::Quarantine,
                "monitoring" => Resource::Monitoring,
                "annual-report" => Resource::AnnualReport,
                "statistics(all)" => Resource::Statistics(None),
                "statistics(own)" => Resource::Statistics(Some(&own)),
                "statistics(other)" => Resource::Statistics(Some(&other)),
                "console" => Resource::Console,
                other => panic!("unknown resource {other}"),
            };
            let action = match action_name {
                "read" => Action::Read,
                "create" => Action::Create,
                "update" => Action::Update,
                "revoke" => Action::Revoke,
                "assess" => Action::Assess,
                other => panic!("unknown action {other}"),
            };
            let actors = actors();
            assert_eq!(expected.len(), actors.len(), "{line}");
            for ((name, actor), cell) in actors.iter().zip(expected) {
                let allowed = authorize(actor, action, resource).is_ok();
                assert_eq!(
                    allowed,
                    *cell == "Y",
                    "{name} {action_name} {resource_name}: expected {cell}"
                );
            }
        }
    }

    #[test]
    fn anonymous_refusals_are_unauthenticated_and_others_forbidden() {
        assert_eq!(
            authorize(&Actor::Anonymous, Action::Read, Resource::System(None)),
            Err(Denial::Unauthenticated)
        );
        assert_eq!(
            authorize(
                &person("citizen", Role::Citizen, None),
                Action::Read,
                Resource::System(None)
            ),
            Err(Denial::Forbidden)
        );
    }

    fn any_role() -> impl Strategy<Value = Role> {
        proptest::sample::select(Role::ALL.to_vec())
    }

    fn any_action() -> impl Strategy<Value = Action> {
        proptest::sample::select(Action::ALL.to_vec())
    }

    proptest! {
        /// Nothing an agency administrator does reaches into another agency's systems, clients,
        /// staff, services or the grants on them.
        #[test]
        fn agency_admin_never_writes_to_another_agency(
            own_group in 0u8..50, other_group in 50u8..99, role in any_role(), action in any_action()
        ) {
            prop_assume!(action != Action::Read);
            let own = code(&format!("000.00.{own_group:02}.H35"));
            let other = code(&format!("000.00.{other_group:02}.H35"));
            let admin = Actor::Person {
                username: Username::parse("admin").unwrap(),
                assignment: RoleAssignment::new(Role::AgencyAdmin, Some(own.clone())).unwrap(),
            };
            for resource in [
                Resource::Agency(Some(&other)),
                Resource::System(Some(&other)),
                Resource::Client(Some(&other)),
                Resource::User { agency: Some(&other), role: Some(role), username: None },
                Resource::Service { owner: &other, published: true },
                Resource::Grant { provider: &other, consumer: &own },
                Resource::Webhook(Some(&other)),
            ] {
                prop_assert_eq!(authorize(&admin, action, resource), Err(Denial::Forbidden));
            }
        }

        /// The only things open to anonymous callers are reading the agency registry and
        /// published services.
        #[test]
        fn anonymous_reads_only_the_agency_registry(
            action in any_action(), group in 0u8..99, published in any::<bool>()
        ) {
            let agency = code(&format!("000.00.{group:02}.H35"));
            let system = SystemId { agency: agency.clone(), code: SystemCode::parse("x").unwrap() };
            for resource in [
                Resource::Agency(Some(&agency)),
                Resource::System(Some(&agency)),
                Resource::Client(Some(&agency)),
                Resource::User { agency: Some(&agency), role: None, username: None },
                Resource::Service { owner: &agency, published },
                Resource::Grant { provider: &agency, consumer: &agency },
                Resource::Subscription { consumer: &system },
                Resource::Webhook(Some(&agency)),
                Resource::Console,
            ] {
                let expected = matches!(
                    (resource, action),
                    (Resource::Agency(_), Action::Read)
                        | (Resource::Service { published: true, .. }, Action::Read)
                );
                prop_assert_eq!(authorize(&Actor::Anonymous, action, resource).is_ok(), expected);
            }
        }

        /// Q16.2.c: without signing in one may report errors in open and public data only, and
        /// never read or handle reports; an agency administrator handles only its own agency's.
        #[test]
        fn q16_2_c_error_reports_by_anyone_handled_by_the_owner(
            action in any_action(),
            access in proptest::sample::select(crate::catalog::AccessLevel::ALL.to_vec()),
            own_group in 0u8..50, other_group in 50u8..99,
        ) {
            use crate::catalog::AccessLevel;
            let own = code(&format!("000.00.{own_group:02}.H35"));
            let other = code(&format!("000.00.{other_group:02}.H35"));
            let anonymous = authorize(
                &Actor::Anonymous, action, Resource::ErrorReports { owner: &own, access },
            );
            let expected = action == Action::Create
                && matches!(access, AccessLevel::Open | AccessLevel::Public);
            prop_assert_eq!(anonymous.is_ok(), expected);
            if !expected {
                prop_assert_eq!(anonymous, Err(Denial::Unauthenticated));
            }
            let admin = Actor::Person {
                username: Username::parse("admin").unwrap(),
                assignment: RoleAssignment::new(Role::AgencyAdmin, Some(own.clone())).unwrap(),
            };
            if matches!(action, Action::Read | Action::Update) {
                let own_reports = Resource::ErrorReports { owner: &own, access };
                prop_assert!(authorize(&admin, action, own_reports).is_ok());
                prop_assert_eq!(
                    authorize(&admin, action, Resource::ErrorReports { owner: &other, access }),
                    Err(Denial::Forbidden)
                );
            }
        }
    }
}
