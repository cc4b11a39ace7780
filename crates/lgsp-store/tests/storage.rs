//! The storage story, run on SQLite always and on PostgreSQL with `--ignored`
//! (`TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`): each run gets a
//! fresh database that is dropped afterwards.

use lgsp_core::identity::RoleAssignment;
use lgsp_core::{
    AgencyCode, AgencyKind, ConnectionModel, Email, FocalOfficer, HttpUrl, NewAgency, NewSystem,
    Phone, Readiness, Role, SecurityLevel, SystemCode, SystemId, Text, Username,
};
use lgsp_store::{
    AgencyPatch, NewClient, NewUser, SessionKind, Store, StoreError, SystemPatch, UserPatch,
};

fn code(s: &str) -> AgencyCode {
    AgencyCode::parse(s).unwrap()
}

fn officer(name: &str) -> FocalOfficer {
    FocalOfficer {
        name: Text::parse(name).unwrap(),
        title: Text::parse("Chuyên viên").unwrap(),
        phone: Phone::parse("0226 3852 701").unwrap(),
        email: Email::parse("dau.moi@hanam.gov.vn").unwrap(),
    }
}

fn agency(c: &str, name: &str, parent: Option<&str>) -> NewAgency {
    NewAgency {
        code: code(c),
        name: Text::parse(name).unwrap(),
        parent: parent.map(code),
        kind: AgencyKind::Department,
        focal_officer: officer("Nguyễn Văn An"),
    }
}

fn system(c: &str) -> NewSystem {
    NewSystem {
        code: SystemCode::parse(c).unwrap(),
        name: Text::parse("Hệ thống một cửa điện tử").unwrap(),
        security_level: SecurityLevel::parse(3).unwrap(),
        connection: ConnectionModel::Lgsp,
        base_url: HttpUrl::parse("https://motcua.hanam.gov.vn").unwrap(),
        health_url: None,
    }
}

/// The whole story, on whichever backend `store` runs.
async fn story(store: Store) {
    store.migrate().await.unwrap();
    // Migrating twice is harmless: the server migrates at every start.
    store.migrate().await.unwrap();
    store.ping().await.unwrap();

    q8_2_agency_is_stored_with_its_focal_officer_and_keeps_history(&store).await;
    agency_hierarchy_rejects_missing_and_circular_parents(&store).await;
    q7_1_systems_are_registered_per_agency_and_q21_3_assessed(&store).await;
    users_sessions_and_login_throttle(&store).await;
    clients_are_tied_to_systems_and_revocable(&store).await;
    q5_2_q5_4_catalog_changes_only_by_decision_from_its_effective_date(&store).await;
    records_are_typed_and_readable_as_of_any_instant(&store).await;
    records_answer_the_query_language(&store).await;
    q5_3_b_pushes_are_leased_to_one_node_at_a_time(&store).await;
    q13_1_services_grants_and_quotas(&store).await;
    q16_1_sharing_requests_move_once_and_approval_grants_atomically(&store).await;
    q4_transparency_log_appends_in_batches_and_proves(&store).await;
    q16_2_c_error_reports_move_once_and_notify(&store).await;
    store.close().await;
}

async fn q8_2_agency_is_stored_with_its_focal_officer_and_keeps_history(store: &Store) {
    let ubnd = store
        .insert_agency(&agency(
            "000.00.00.H35",
            "Ủy ban nhân dân tỉnh Hà Nam",
            None,
        ))
        .await
        .unwrap();
    assert_eq!(ubnd.focal_officer.name.as_str(), "Nguyễn Văn An");
    let tp = store
        .insert_agency(&agency(
            "000.00.05.H35",
            "Sở Tư pháp",
            Some("000.00.00.H35"),
        ))
        .await
        .unwrap();
    assert_eq!(tp.parent, Some(code("000.00.00.H35")));

    let duplicate = store
        .insert_agency(&agency("000.00.05.H35", "Trùng mã", None))
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(_))),
        "{duplicate:?}"
    );
    // The failed insert left nothing behind: still one agency with that code, one officer.
    assert_eq!(store.list_agencies().await.unwrap().len(), 2);
    assert_eq!(
        store
            .focal_officer_history(&code("000.00.05.H35"))
            .await
            .unwrap()
            .len(),
        1
    );

    let changed = store
        .change_focal_officer(
            &code("000.00.05.H35"),
            &officer("Trần Thị Bình"),
            "operator",
        )
        .await
        .unwrap();
    assert_eq!(changed.focal_officer.name.as_str(), "Trần Thị Bình");
    let history = store
        .focal_officer_history(&code("000.00.05.H35"))
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].officer.name.as_str(), "Trần Thị Bình");
    assert!(history[0].valid_to.is_none());
    assert_eq!(history[0].changed_by.as_deref(), Some("operator"));
    assert_eq!(history[1].officer.name.as_str(), "Nguyễn Văn An");
    assert_eq!(history[1].valid_to, Some(history[0].valid_from));

    let renamed = store
        .update_agency(
            &code("000.00.05.H35"),
            &AgencyPatch {
                name: Some(Text::parse("Sở Tư pháp tỉnh Hà Nam").unwrap()),
                ..AgencyPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name.as_str(), "Sở Tư pháp tỉnh Hà Nam");
    assert_eq!(renamed.parent, Some(code("000.00.00.H35")));
    assert!(matches!(
        store.get_agency(&code("999.99.99.H35")).await,
        Err(StoreError::NotFound("agency"))
    ));
}

async fn agency_hierarchy_rejects_missing_and_circular_parents(store: &Store) {
    let orphan = store
        .insert_agency(&agency("000.00.07.H35", "Mồ côi", Some("000.00.99.H35")))
        .await;
    assert!(
        matches!(orphan, Err(StoreError::MissingReference(_))),
        "{orphan:?}"
    );
    let circular = store
        .update_agency(
            &code("000.00.00.H35"),
            &AgencyPatch {
                parent: Some(Some(code("000.00.05.H35"))),
                ..AgencyPatch::default()
            },
        )
        .await;
    assert!(
        matches!(circular, Err(StoreError::Conflict(_))),
        "{circular:?}"
    );
    assert_eq!(
        store
            .get_agency(&code("000.00.00.H35"))
            .await
            .unwrap()
            .parent,
        None
    );
}

async fn q7_1_systems_are_registered_per_agency_and_q21_3_assessed(store: &Store) {
    let tp = code("000.00.05.H35");
    let created = store.insert_system(&tp, &system("ho-tich")).await.unwrap();
    assert_eq!(created.readiness, Readiness::Unassessed);
    assert!(matches!(
        store.insert_system(&tp, &system("ho-tich")).await,
        Err(StoreError::Conflict(_))
    ));
    // The same code under another agency is a different system.
    store
        .insert_system(&code("000.00.00.H35"), &system("ho-tich"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_system(&code("123.00.00.H35"), &system("x"))
            .await,
        Err(StoreError::NotFound("agency"))
    ));

    let other = ConnectionModel::Other {
        description: Text::parse("Kết nối qua Trục liên thông văn bản").unwrap(),
    };
    let updated = store
        .update_system(
            &tp,
            &SystemCode::parse("ho-tich").unwrap(),
            &SystemPatch {
                connection: Some(other.clone()),
                health_url: Some(Some(
                    HttpUrl::parse("https://motcua.hanam.gov.vn/health").unwrap(),
                )),
                ..SystemPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.connection, other);
    assert_eq!(updated.security_level.get(), 3);

    let needs = Readiness::NeedsUpgrade {
        findings: lgsp_core::Findings::new(vec![Text::parse("Chưa hỗ trợ TLS 1.2").unwrap()])
            .unwrap(),
    };
    let assessed = store
        .assess_system(
            &tp,
            &SystemCode::parse("ho-tich").unwrap(),
            &needs,
            "operator",
        )
        .await
        .unwrap();
    assert_eq!(assessed.readiness, needs);
    assert_eq!(assessed.readiness_assessed_by.as_deref(), Some("operator"));
    assert_eq!(store.list_systems(Some(&tp)).await.unwrap().len(), 1);
    assert_eq!(store.list_systems(None).await.unwrap().len(), 2);
}

async fn users_sessions_and_login_throttle(store: &Store) {
    let tp = code("000.00.05.H35");
    let admin = store
        .insert_user(&NewUser {
            username: Username::parse("quantri.stp").unwrap(),
            full_name: Text::parse("Lê Văn Cường").unwrap(),
            email: None,
            assignment: RoleAssignment::new(Role::AgencyAdmin, Some(tp.clone())).unwrap(),
            password_hash: "$argon2id$fake".into(),
            citizen_id: None,
        })
        .await
        .unwrap();
    assert_eq!(admin.assignment.agency(), Some(&tp));
    let (_, hash) = store.user_credentials(&admin.username).await.unwrap();
    assert_eq!(hash, "$argon2id$fake");
    let taken = store
        .insert_user(&NewUser {
            username: admin.username.clone(),
            full_name: Text::parse("Ai đó").unwrap(),
            email: None,
            assignment: RoleAssignment::new(Role::Citizen, None).unwrap(),
            password_hash: "x".into(),
            citizen_id: None,
        })
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))));
    let missing_agency = store
        .insert_user(&NewUser {
            username: Username::parse("nobody").unwrap(),
            full_name: Text::parse("Không ai").unwrap(),
            email: None,
            assignment: RoleAssignment::new(Role::AgencyAdmin, Some(code("1.H35"))).unwrap(),
            password_hash: "x".into(),
            citizen_id: None,
        })
        .await;
    assert!(matches!(
        missing_agency,
        Err(StoreError::MissingReference(_))
    ));

    let expires = lgsp_store::now() + chrono::Duration::hours(1);
    store
        .create_session("hash-1", &admin, SessionKind::Web, "csrf-1", expires)
        .await
        .unwrap();
    let session = store.find_session("hash-1").await.unwrap().unwrap();
    assert_eq!(session.user.username, admin.username);
    assert_eq!(session.csrf_token, "csrf-1");
    assert!(store.find_session("hash-2").await.unwrap().is_none());

    let expired = lgsp_store::now() - chrono::Duration::seconds(1);
    store
        .create_session("hash-old", &admin, SessionKind::Api, "csrf-2", expired)
        .await
        .unwrap();
    assert!(store.find_session("hash-old").await.unwrap().is_none());

    // Disabling the account ends its sessions.
    store
        .update_user(
            &admin.username,
            &UserPatch {
                disabled: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(store.find_session("hash-1").await.unwrap().is_none());
    assert!(store.get_user(&admin.username).await.unwrap().disabled);

    assert_eq!(store.login_failures("quantri.stp").await.unwrap(), None);
    assert_eq!(store.record_login_failure("quantri.stp").await.unwrap(), 1);
    assert_eq!(store.record_login_failure("quantri.stp").await.unwrap(), 2);
    assert_eq!(
        store
            .login_failures("quantri.stp")
            .await
            .unwrap()
            .unwrap()
            .0,
        2
    );
    store.clear_login_failures("quantri.stp").await.unwrap();
    assert_eq!(store.login_failures("quantri.stp").await.unwrap(), None);
}

async fn clients_are_tied_to_systems_and_revocable(store: &Store) {
    let system = SystemId {
        agency: code("000.00.05.H35"),
        code: SystemCode::parse("ho-tich").unwrap(),
    };
    let client = store
        .insert_client(&NewClient {
            client_id: "stp-ho-tich".into(),
            name: Text::parse("Kết nối hộ tịch").unwrap(),
            system: system.clone(),
            secret_hash: "h1".into(),
        })
        .await
        .unwrap();
    assert_eq!(client.system, system);
    assert!(matches!(
        store
            .insert_client(&NewClient {
                client_id: "stp-ho-tich".into(),
                name: Text::parse("Trùng").unwrap(),
                system: system.clone(),
                secret_hash: "h2".into(),
            })
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .rotate_client_secret("stp-ho-tich", "h3")
        .await
        .unwrap();
    assert_eq!(
        store.client_credentials("stp-ho-tich").await.unwrap().1,
        "h3"
    );
    let revoked = store.revoke_client("stp-ho-tich").await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(
        store.rotate_client_secret("stp-ho-tich", "h4").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .list_clients(Some(&system.agency))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .list_clients(Some(&code("000.00.00.H35")))
            .await
            .unwrap()
            .len(),
        0
    );
}

fn entry(code: &str, name: &str, dataset: &str) -> lgsp_core::catalog::EntryContent {
    serde_json::from_value(serde_json::json!({
        "code": code,
        "name": name,
        "description": "Mô tả",
        "owner": "000.00.05.H35",
        "managing_system": "ho-tich",
        "legal_bases": [{"number": "47/2020/NĐ-CP", "date": "2020-04-09", "issuer": "Chính phủ"}],
        "data_kinds": ["master"],
        "national_relation": {"overlaps": false},
        "criteria": {
            "legal_value": {"met": true, "justification": "Có"},
            "master_data": {"met": true, "justification": "Có"},
            "administrative_procedures": {"met": false, "justification": "Không"}
        },
        "datasets": [{
            "id": dataset, "title": "Bộ dữ liệu", "description": "Mô tả", "access_level": "open",
            "sharing_mode": "open", "update_frequency": "annual", "licence": "CC-BY-4.0",
            "contact": {"name": "Phòng", "email": "a@hanam.gov.vn"}
        }]
    }))
    .unwrap()
}

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

fn decision(number: &str, date: &str, effective: &str) -> lgsp_core::proposal::Decision {
    serde_json::from_value(
        serde_json::json!({"number": number, "date": date, "effective_date": effective}),
    )
    .unwrap()
}

async fn q5_2_q5_4_catalog_changes_only_by_decision_from_its_effective_date(store: &Store) {
    use lgsp_core::proposal::{ProposalAction, ProposalState, Step};
    use lgsp_store::{EntryStatus, NewAttachment, StepChanges};

    let agency = code("000.00.05.H35");
    let letter = store
        .insert_attachment(&NewAttachment {
            sha256: "ab".repeat(32),
            media_type: "application/pdf".into(),
            filename: "cong-van.pdf".into(),
            content: b"%PDF-1.4 letter".to_vec(),
            uploaded_by: "quantri.stp".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        store.attachment(letter.id).await.unwrap().1,
        b"%PDF-1.4 letter"
    );
    let reason = Text::parse("Bổ sung cơ sở dữ liệu hộ tịch").unwrap();
    let add = ProposalAction::Add {
        entry: entry("CSDL.HOTICH", "CSDL hộ tịch", "ho-tich-khai-sinh"),
    };
    let proposal = store
        .insert_proposal(&agency, &add, &reason, letter.id, "quantri.stp")
        .await
        .unwrap();
    assert_eq!(proposal.state, ProposalState::Submitted);
    assert_eq!(proposal.events.len(), 1);

    // Returned, resubmitted, forwarded in a bundle, then approved from 01/01/2026.
    let returned = store
        .take_proposal_step(
            proposal.id,
            ProposalState::Submitted,
            Step::Return,
            ProposalState::Returned,
            "operator",
            &StepChanges {
                comment: Some("Bổ sung căn cứ pháp lý".into()),
                ..StepChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(returned.state, ProposalState::Returned);
    let stale = store
        .take_proposal_step(
            proposal.id,
            ProposalState::Submitted,
            Step::Forward,
            ProposalState::Forwarded,
            "operator",
            &StepChanges::default(),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    store
        .take_proposal_step(
            proposal.id,
            ProposalState::Returned,
            Step::Resubmit,
            ProposalState::Submitted,
            "quantri.stp",
            &StepChanges {
                reason: Some(Text::parse("Đã bổ sung căn cứ").unwrap()),
                ..StepChanges::default()
            },
        )
        .await
        .unwrap();
    let recommendation = Text::parse("Đề nghị phê duyệt").unwrap();
    store
        .forward_proposals(&[proposal.id], &recommendation, "operator")
        .await
        .unwrap();
    assert!(matches!(
        store
            .forward_proposals(&[proposal.id], &recommendation, "operator")
            .await,
        Err(StoreError::Conflict(_))
    ));
    let approved = store
        .decide_proposal(
            proposal.id,
            true,
            &decision("100/QĐ-UBND", "2025-12-15", "2026-01-01"),
            "approver",
            None,
        )
        .await
        .unwrap();
    assert_eq!(approved.state, ProposalState::Approved);
    assert_eq!(approved.reason.as_str(), "Đã bổ sung căn cứ");
    assert_eq!(
        approved.submission.unwrap().recommendation,
        "Đề nghị phê duyệt"
    );
    assert_eq!(approved.events.len(), 5);

    assert!(store
        .catalog_as_of(day("2025-12-31"))
        .await
        .unwrap()
        .is_empty());
    let in_force = store.catalog_as_of(day("2026-01-01")).await.unwrap();
    assert_eq!(in_force.len(), 1);
    assert_eq!(in_force[0].content.name.as_str(), "CSDL hộ tịch");

    // Modify from 01/06/2026, then withdraw from 01/01/2027: each day sees its own version.
    for (action, number, effective) in [
        (
            ProposalAction::Modify {
                entry: entry("CSDL.HOTICH", "CSDL hộ tịch điện tử", "ho-tich-khai-sinh"),
            },
            "200/QĐ-UBND",
            "2026-06-01",
        ),
        (
            ProposalAction::Withdraw {
                code: lgsp_core::catalog::EntryCode::parse("CSDL.HOTICH").unwrap(),
            },
            "300/QĐ-UBND",
            "2027-01-01",
        ),
    ] {
        let p = store
            .insert_proposal(&agency, &action, &reason, letter.id, "quantri.stp")
            .await
            .unwrap();
        store
            .forward_proposals(&[p.id], &recommendation, "operator")
            .await
            .unwrap();
        store
            .decide_proposal(
                p.id,
                true,
                &decision(number, "2026-01-15", effective),
                "approver",
                None,
            )
            .await
            .unwrap();
    }
    let names = |versions: Vec<lgsp_store::EntryVersion>| -> Vec<String> {
        versions
            .into_iter()
            .map(|v| v.content.name.to_string())
            .collect()
    };
    assert_eq!(
        names(store.catalog_as_of(day("2026-05-31")).await.unwrap()),
        ["CSDL hộ tịch"]
    );
    assert_eq!(
        names(store.catalog_as_of(day("2026-06-01")).await.unwrap()),
        ["CSDL hộ tịch điện tử"]
    );
    assert!(store
        .catalog_as_of(day("2027-01-01"))
        .await
        .unwrap()
        .is_empty());
    let history = store
        .entry_history(&lgsp_core::catalog::EntryCode::parse("CSDL.HOTICH").unwrap())
        .await
        .unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].valid_to, Some(day("2026-06-01")));
    assert_eq!(history[2].status, EntryStatus::Withdrawn);
    assert_eq!(history[2].decision_number, "300/QĐ-UBND");

    // A dataset id cannot move to another entry; the failed approval leaves nothing behind.
    let thief = ProposalAction::Add {
        entry: entry("CSDL.KHAC", "CSDL khác", "ho-tich-khai-sinh"),
    };
    let p = store
        .insert_proposal(&agency, &thief, &reason, letter.id, "quantri.stp")
        .await
        .unwrap();
    store
        .forward_proposals(&[p.id], &recommendation, "operator")
        .await
        .unwrap();
    let refused = store
        .decide_proposal(
            p.id,
            true,
            &decision("400/QĐ-UBND", "2026-02-01", "2026-02-01"),
            "approver",
            None,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        store.get_proposal(p.id).await.unwrap().state,
        ProposalState::Forwarded
    );
    assert!(!store
        .entry_exists(&lgsp_core::catalog::EntryCode::parse("CSDL.KHAC").unwrap())
        .await
        .unwrap());
    let rejected = store
        .decide_proposal(
            p.id,
            false,
            &decision("401/QĐ-UBND", "2026-02-01", "2026-02-01"),
            "approver",
            Some("Trùng"),
        )
        .await
        .unwrap();
    assert_eq!(rejected.state, ProposalState::Rejected);
    assert_eq!(
        store
            .list_proposals(Some(&agency), None)
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        store
            .list_proposals(None, Some(ProposalState::Rejected))
            .await
            .unwrap()
            .len(),
        1
    );

    // Notifications reach the accounts of a role; security events are kept.
    let sent = store
        .notify(
            Role::AgencyAdmin,
            Some(&agency),
            "Tiêu đề",
            "Nội dung",
            Some("/console"),
        )
        .await
        .unwrap();
    assert_eq!(sent, 0, "the only administrator of that agency is disabled");
    store
        .record_security_event(
            "state_secret_attempt",
            "quantri.stp",
            "entry X classified mat",
        )
        .await
        .unwrap();
    assert_eq!(
        store.security_events().await.unwrap()[0].0,
        "state_secret_attempt"
    );
}

async fn records_are_typed_and_readable_as_of_any_instant(store: &Store) {
    use lgsp_core::record_query::RecordQuery;
    use lgsp_core::table_schema::{CellValue, TableSchema};

    let schema: TableSchema = serde_json::from_value(serde_json::json!({
        "fields": [
            {"name": "ma", "type": "integer"},
            {"name": "ten", "type": "string"},
            {"name": "dien_tich", "type": "number"},
            {"name": "thanh_pho", "type": "boolean"},
            {"name": "hieu_luc", "type": "date"},
            {"name": "cap_nhat", "type": "datetime"},
            {"name": "gio", "type": "time"},
            {"name": "nam", "type": "year"},
            {"name": "toa_do", "type": "geopoint"}
        ],
        "primaryKey": "ma"
    }))
    .unwrap();
    let dataset = lgsp_core::catalog::DatasetId::parse("don-vi-hanh-chinh").unwrap();
    let table = store.create_record_table(&dataset, &schema).await.unwrap();
    assert_eq!(table.table, "ds_don_vi_hanh_chinh");
    assert!(matches!(
        store.create_record_table(&dataset, &schema).await,
        Err(StoreError::Conflict(_))
    ));
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let row = |ma: i64, ten: &str| {
        vec![
            CellValue::Integer(ma),
            CellValue::String(ten.into()),
            CellValue::Number(87.5),
            CellValue::Boolean(true),
            CellValue::Date(day("2008-09-09")),
            CellValue::Datetime(at("2025-07-01T01:00:00Z")),
            CellValue::Time(chrono::NaiveTime::from_hms_opt(8, 30, 0).unwrap()),
            CellValue::Year(2025),
            CellValue::Geopoint([105.91, 20.54]),
        ]
    };
    let mut with_null = row(349, "Duy Tiên");
    with_null[2] = CellValue::Null;
    with_null[8] = CellValue::Null;
    // Values at the edges of each type's text and number forms come back exactly.
    let edges = vec![
        CellValue::Integer(i64::MAX),
        CellValue::String("\"trích\" \\ dòng\nmới\t\u{1}😀".into()),
        CellValue::Number(f64::INFINITY),
        CellValue::Boolean(false),
        CellValue::Date(day("0001-01-01")),
        CellValue::Datetime(at("2025-07-01T01:00:00.123456Z")),
        CellValue::Time(chrono::NaiveTime::from_hms_micro_opt(23, 59, 59, 250_000).unwrap()),
        CellValue::Year(-44),
        CellValue::Geopoint([-180.0, 1e-7]),
    ];
    let mut whole = edges.clone();
    whole[0] = CellValue::Integer(i64::MIN);
    whole[2] = CellValue::Number(5.0);
    let first = store
        .replace_records(&table, &[row(347, "Phủ Lý"), with_null.clone()])
        .await
        .unwrap();
    let second = store
        .replace_records(&table, &[row(13285, "Phường Phủ Lý")])
        .await
        .unwrap();
    assert!(second > first);
    let query = |as_of, filters: Vec<(&str, &str)>| {
        let params: Vec<(String, String)> = filters
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let mut query = RecordQuery::parse(&schema, &params, as_of).unwrap();
        query.as_of = as_of;
        query
    };
    let values = |records: Vec<lgsp_store::Record>| -> Vec<Vec<CellValue>> {
        records.into_iter().map(|r| r.values).collect()
    };
    let then = store
        .records(&table, &query(first, Vec::new()))
        .await
        .unwrap();
    assert_eq!(
        values(then),
        vec![row(347, "Phủ Lý"), with_null],
        "values come back typed, NULLs too"
    );
    let edge_dataset = lgsp_core::catalog::DatasetId::parse("gia-tri-bien").unwrap();
    let edge_table = store
        .create_record_table(&edge_dataset, &schema)
        .await
        .unwrap();
    let stored = store
        .replace_records(&edge_table, &[edges.clone(), whole.clone()])
        .await
        .unwrap();
    assert_eq!(
        values(
            store
                .records(&edge_table, &query(stored, Vec::new()))
                .await
                .unwrap()
        ),
        vec![edges, whole],
        "edge values come back exactly"
    );
    let now = store
        .records(&table, &query(second, Vec::new()))
        .await
        .unwrap();
    assert_eq!(values(now), vec![row(13285, "Phường Phủ Lý")]);
    let before = store
        .records(
            &table,
            &query(first - chrono::Duration::seconds(1), Vec::new()),
        )
        .await
        .unwrap();
    assert!(before.is_empty(), "nothing before the first import");
    let filtered = store
        .records(&table, &query(first, vec![("ma", "eq.349")]))
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0].values[1], CellValue::String("Duy Tiên".into()));
    let mut unknown = query(first, Vec::new());
    unknown.filters.push(lgsp_core::record_query::Filter {
        field: "khong_co".into(),
        op: lgsp_core::record_query::Op::Eq,
        negated: false,
        values: vec![CellValue::Null],
    });
    assert!(matches!(
        store.records(&table, &unknown).await,
        Err(StoreError::MissingReference(_))
    ));
    assert_eq!(
        store
            .record_table(&dataset)
            .await
            .unwrap()
            .unwrap()
            .last_change_at,
        Some(second)
    );
}

/// Webhook subscriptions and publication cursors: a lease goes to one node, only its holder
/// moves the cursor, failures count up to death, reactivation resumes from the cursor.
async fn q5_3_b_pushes_are_leased_to_one_node_at_a_time(store: &Store) {
    use lgsp_core::webhook::{WebhookState, WebhookTarget};
    use lgsp_store::{AfterFailure, NewDelivery, NewWebhook, Reactivation};

    let dataset = "don-vi-hanh-chinh";
    // Two imports earlier in the story: 2 inserts, then 2 deletes and 1 insert.
    assert_eq!(store.change_bounds(dataset).await.unwrap(), Some((0, 5)));
    assert_eq!(store.change_bounds("khong-co").await.unwrap(), None);
    let new = NewWebhook {
        id: "w1".into(),
        dataset: dataset.into(),
        agency: "000.00.05.H35".into(),
        target: WebhookTarget::parse("https://hook.example.vn/a", false).unwrap(),
        since: 0,
        created_by: "admin".into(),
        creator_role: "agency_admin".into(),
    };
    let created = store.create_webhook(&new).await.unwrap();
    assert_eq!(
        (created.state, created.delivered_seq, created.failures),
        (WebhookState::Active, 0, 0)
    );
    assert!(matches!(
        store
            .create_webhook(&NewWebhook {
                id: "w2".into(),
                ..new.clone()
            })
            .await,
        Err(StoreError::Conflict(_))
    ));

    let now = lgsp_store::now();
    let until = now + chrono::Duration::seconds(60);
    assert_eq!(store.due_webhooks(now, 10).await.unwrap(), ["w1"]);
    let a = store
        .claim_webhook("w1", "node-a", now, until)
        .await
        .unwrap();
    let b = store
        .claim_webhook("w1", "node-b", now, until)
        .await
        .unwrap();
    assert!(a.is_some() && b.is_none(), "one node holds it");
    assert!(store.due_webhooks(now, 10).await.unwrap().is_empty());
    assert!(!store
        .advance_webhook("w1", "node-b", 3, until)
        .await
        .unwrap());
    assert!(store
        .advance_webhook("w1", "node-a", 3, until)
        .await
        .unwrap());
    assert!(
        !store
            .advance_webhook("w1", "node-a", 2, until)
            .await
            .unwrap(),
        "a cursor never goes back"
    );
    assert_eq!(
        store
            .fail_webhook("w1", "node-a", "HTTP 500", now, 2)
            .await
            .unwrap(),
        AfterFailure::Retry { failures: 1 }
    );
    // The lease went with the failure: another node takes over from the cursor.
    let later = lgsp_store::now();
    let taken = store
        .claim_webhook("w1", "node-b", later, later + chrono::Duration::seconds(60))
        .await
        .unwrap()
        .expect("free again");
    assert_eq!((taken.delivered_seq, taken.failures), (3, 1));
    assert_eq!(
        store
            .fail_webhook("w1", "node-a", "late", now, 2)
            .await
            .unwrap(),
        AfterFailure::LeaseLost
    );
    assert_eq!(
        store
            .fail_webhook("w1", "node-b", "timed out", now, 2)
            .await
            .unwrap(),
        AfterFailure::Dead { failures: 2 }
    );
    let dead = store.webhook(dataset, "w1").await.unwrap().unwrap();
    assert_eq!(dead.state, WebhookState::Dead);
    assert_eq!(dead.last_error.as_deref(), Some("timed out"));
    assert!(dead.dead_at.is_some());
    assert!(store
        .due_webhooks(lgsp_store::now(), 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .claim_webhook("w1", "node-a", lgsp_store::now(), until)
        .await
        .unwrap()
        .is_none());

    assert_eq!(
        store.reactivate_webhook(dataset, "w1").await.unwrap(),
        Reactivation::Reactivated
    );
    assert_eq!(
        store.reactivate_webhook(dataset, "w1").await.unwrap(),
        Reactivation::NotDead
    );
    assert_eq!(
        store.reactivate_webhook(dataset, "w9").await.unwrap(),
        Reactivation::NotFound
    );
    let active = store.webhook(dataset, "w1").await.unwrap().unwrap();
    assert_eq!(
        (
            active.state,
            active.delivered_seq,
            active.failures,
            active.dead_at
        ),
        (WebhookState::Active, 3, 0, None)
    );

    for (seq, delivered) in [(4, false), (5, true)] {
        store
            .record_delivery(&NewDelivery {
                webhook_id: "w1",
                attempted_at: lgsp_store::now(),
                from_seq: 4,
                to_seq: seq,
                delivered,
                status: Some(if delivered { 204 } else { 502 }),
                error: (!delivered).then_some("HTTP 502"),
                duration_ms: 12,
            })
            .await
            .unwrap();
    }
    let log = store.webhook_deliveries("w1", 10).await.unwrap();
    assert_eq!(
        log.iter()
            .map(|d| (d.outcome.as_str(), d.status, d.to_seq))
            .collect::<Vec<_>>(),
        [("delivered", Some(204), 5), ("failed", Some(502), 4)]
    );
    assert_eq!(store.prune_webhook_deliveries(1).await.unwrap(), 0);

    assert!(store.delete_webhook(dataset, "w1").await.unwrap());
    assert!(!store.delete_webhook(dataset, "w1").await.unwrap());
    assert!(store.webhook(dataset, "w1").await.unwrap().is_none());
    assert!(store
        .webhooks(Some(dataset), None)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .create_webhook(&NewWebhook {
            id: "w3".into(),
            ..new
        })
        .await
        .is_ok());
    assert_eq!(
        store
            .webhooks(None, Some("000.00.05.H35"))
            .await
            .unwrap()
            .len(),
        1
    );
    // A deleted subscription's cursor no longer moves.
    assert!(!store
        .advance_webhook("w1", "node-b", 5, until)
        .await
        .unwrap());

    let added = store.ensure_publication_cursors("nats").await.unwrap();
    assert!(added >= 1);
    assert_eq!(store.ensure_publication_cursors("nats").await.unwrap(), 0);
    let now = lgsp_store::now();
    assert!(store
        .due_publications("nats", now, 10)
        .await
        .unwrap()
        .contains(&dataset.to_owned()));
    let until = now + chrono::Duration::seconds(60);
    assert_eq!(
        store
            .claim_publication("nats", dataset, "node-a", now, until)
            .await
            .unwrap(),
        Some((0, 0))
    );
    assert_eq!(
        store
            .claim_publication("nats", dataset, "node-b", now, until)
            .await
            .unwrap(),
        None
    );
    assert!(!store
        .advance_publication("nats", dataset, "node-b", 5, until)
        .await
        .unwrap());
    assert!(store
        .advance_publication("nats", dataset, "node-a", 5, until)
        .await
        .unwrap());
    store
        .release_publication("nats", dataset, "node-a")
        .await
        .unwrap();
    assert!(!store
        .due_publications("nats", lgsp_store::now(), 10)
        .await
        .unwrap()
        .contains(&dataset.to_owned()));
}

async fn records_answer_the_query_language(store: &Store) {
    use lgsp_core::record_query::RecordQuery;
    use lgsp_core::table_schema::{parse_cell, CellValue, TableSchema};

    let schema: TableSchema = serde_json::from_value(serde_json::json!({
        "fields": [
            {"name": "ma", "type": "string"},
            {"name": "ten", "type": "string"},
            {"name": "dan_so", "type": "integer"},
            {"name": "thanh_pho", "type": "boolean"},
            {"name": "effective_from", "type": "date"},
            {"name": "effective_to", "type": "date"}
        ],
        "primaryKey": "ma"
    }))
    .unwrap();
    let dataset = lgsp_core::catalog::DatasetId::parse("truy-van").unwrap();
    let table = store.create_record_table(&dataset, &schema).await.unwrap();
    let rows: Vec<Vec<CellValue>> = [
        ["35", "Tỉnh Hà Nam", "", "false", "1997-01-01", "2025-07-01"],
        [
            "347",
            "Thành phố Phủ Lý",
            "158000",
            "true",
            "2008-06-09",
            "2025-07-01",
        ],
        [
            "349",
            "Thị xã Duy Tiên",
            "141000",
            "false",
            "2020-04-01",
            "2025-07-01",
        ],
        [
            "350",
            "Thị xã Kim Bảng",
            "",
            "false",
            "1997-01-01",
            "2025-07-01",
        ],
        [
            "351",
            "Huyện Thanh Liêm",
            "131000",
            "false",
            "1997-01-01",
            "2025-07-01",
        ],
        [
            "352",
            "Huyện Bình Lục",
            "150000",
            "false",
            "1997-01-01",
            "2025-07-01",
        ],
        [
            "353",
            "Huyện Lý Nhân",
            "178000",
            "false",
            "1997-01-01",
            "2025-07-01",
        ],
        ["37", "Tỉnh Ninh Bình", "4412264", "false", "2025-07-01", ""],
        ["a_b", "100% phủ_kín", "7", "true", "2025-07-01", ""],
    ]
    .iter()
    .map(|raw| {
        schema
            .fields
            .iter()
            .zip(raw)
            .map(|(field, text)| {
                if text.is_empty() {
                    CellValue::Null
                } else {
                    parse_cell(field, text).unwrap()
                }
            })
            .collect()
    })
    .collect();
    let at = store.replace_records(&table, &rows).await.unwrap();
    let parse = |pairs: &[(&str, &str)]| {
        let params: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RecordQuery::parse(&schema, &params, at).unwrap()
    };
    let codes = |records: Vec<lgsp_store::Record>| -> Vec<String> {
        records
            .into_iter()
            .map(|r| match &r.values[0] {
                CellValue::String(code) => code.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    for (pairs, expected) in [
        (vec![("ma", "eq.347")], vec!["347"]),
        (
            vec![("ma", "neq.347"), ("thanh_pho", "is.true")],
            vec!["a_b"],
        ),
        (vec![("dan_so", "gt.150000")], vec!["347", "353", "37"]),
        (
            vec![("dan_so", "gte.150000"), ("dan_so", "lt.170000")],
            vec!["347", "352"],
        ),
        (vec![("dan_so", "lte.7")], vec!["a_b"]),
        (vec![("dan_so", "is.null")], vec!["35", "350"]),
        (
            vec![("dan_so", "not.is.null"), ("ma", "in.(349,350,351)")],
            vec!["349", "351"],
        ),
        (
            vec![("ma", "not.in.(35,347,349,350,351,352,353)")],
            vec!["37", "a_b"],
        ),
        (vec![("ten", "like.Huyện*")], vec!["351", "352", "353"]),
        (vec![("ten", "like.huyện*")], vec![]),
        (vec![("ten", "ilike.*HUY*")], vec!["351", "352", "353"]),
        (vec![("ten", "ilike.*tỉnh*")], vec!["35", "37"]),
        (vec![("ten", "like.*100%*")], vec!["a_b"]),
        (vec![("ten", "like.*phủ_*")], vec!["a_b"]),
        (vec![("ten", "ilike.*_*")], vec!["a_b"]),
        (
            vec![
                ("thanh_pho", "is.false"),
                ("effective_from", "gte.2020-01-01"),
            ],
            vec!["349", "37"],
        ),
    ] {
        let query = parse(&pairs);
        let found = codes(store.records(&table, &query).await.unwrap());
        assert_eq!(found, expected, "{pairs:?}");
        assert_eq!(
            store.count_records(&table, &query).await.unwrap(),
            expected.len() as u64,
            "count of {pairs:?}"
        );
    }
    // Orders put NULLs where PostgreSQL does unless asked, on both backends.
    let order = |spec: &str| parse(&[("order", spec)]);
    assert_eq!(
        codes(
            store
                .records(&table, &order("dan_so.desc,ma"))
                .await
                .unwrap()
        ),
        vec!["35", "350", "37", "353", "347", "352", "349", "351", "a_b"]
    );
    assert_eq!(
        codes(
            store
                .records(&table, &order("dan_so.asc,ma.desc"))
                .await
                .unwrap()
        ),
        vec!["a_b", "351", "349", "352", "347", "353", "37", "350", "35"]
    );
    assert_eq!(
        codes(
            store
                .records(&table, &order("dan_so.asc.nullsfirst,ma"))
                .await
                .unwrap()
        )[..3],
        ["35", "350", "a_b"]
    );
    // Keyset paging walks the same order as one big page, whatever the order.
    for spec in [
        "ma",
        "dan_so.desc,ma",
        "dan_so.asc.nullsfirst",
        "thanh_pho,dan_so.desc.nullslast",
        "effective_to.desc",
    ] {
        let whole = codes(store.records(&table, &order(spec)).await.unwrap());
        let mut walked = Vec::new();
        let mut query = order(spec);
        query.limit = Some(2);
        loop {
            let page = store.records(&table, &query).await.unwrap();
            let Some(last) = page.last() else { break };
            query.after = Some(query.cursor_after(&schema, &last.values, last.row));
            walked.extend(codes(page));
        }
        assert_eq!(walked, whole, "keyset paging in order {spec}");
        let mut offset = order(spec);
        offset.offset = 7;
        assert_eq!(
            codes(store.records(&table, &offset).await.unwrap()),
            whole[7..]
        );
    }
    // Code lists: business time on top of system time.
    let on = |day: &str| {
        let mut query = order("ma");
        query.effective_on = Some(day.parse().unwrap());
        query
    };
    assert_eq!(
        codes(store.records(&table, &on("2025-06-30")).await.unwrap()),
        vec!["347", "349", "35", "350", "351", "352", "353"]
    );
    assert_eq!(
        codes(store.records(&table, &on("2025-07-01")).await.unwrap()),
        vec!["37", "a_b"]
    );
    assert_eq!(
        codes(store.records(&table, &on("2015-01-01")).await.unwrap()),
        vec!["347", "35", "350", "351", "352", "353"]
    );
    // Downloads stream in batches, everything in order.
    let mut all = RecordQuery::all(at);
    all.order = order("ma.desc").order;
    let mut stream = store.stream_records(&table, &all);
    let mut streamed = Vec::new();
    while let Some(batch) = stream.recv().await {
        streamed.extend(codes(batch.unwrap()));
    }
    assert_eq!(streamed.len(), 9);
    assert_eq!(streamed[0], "a_b");
}

#[tokio::test]
async fn storage_story_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("lgsp-store-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open_sqlite(&dir.join("lgsp.db")).await.unwrap();
    story(store).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two nodes (two stores) on one SQLite file: one appends to the log without pause while the
/// other runs transactions that read before they write (an agency under its parent). Each waits
/// for the write lock instead of failing with `SQLITE_BUSY_SNAPSHOT` ("database is locked").
#[tokio::test]
async fn transactions_that_read_then_write_wait_for_other_writers_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("lgsp-store-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let writer = Store::open_sqlite(&dir.join("lgsp.db")).await.unwrap();
    writer.migrate().await.unwrap();
    let reader = Store::open_sqlite(&dir.join("lgsp.db")).await.unwrap();
    reader
        .insert_agency(&agency("000.00.00.H35", "UBND tỉnh Hà Nam", None))
        .await
        .unwrap();
    let appends = tokio::spawn({
        let writer = writer.clone();
        async move {
            for n in 0..300 {
                writer
                    .append_log(&[format!("{{\"n\":{n}}}").into_bytes()], &[])
                    .await
                    .unwrap();
            }
        }
    });
    let mut registered = Vec::new();
    for n in 1..=40 {
        let child = agency(
            &format!("000.00.{n:02}.H35"),
            "Sở thử nghiệm",
            Some("000.00.00.H35"),
        );
        registered.push(reader.insert_agency(&child).await.map(|_| ()));
    }
    appends.await.unwrap();
    let failed: Vec<_> = registered.iter().filter(|r| r.is_err()).collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(writer.log_size().await.unwrap(), 300);
    writer.close().await;
    reader.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL: cargo test -p lgsp-store -- --ignored"]
async fn storage_story_on_postgres() {
    let scratch = lgsp_store::scratch::ScratchDatabase::create()
        .await
        .unwrap();
    let store = Store::connect(&scratch.url()).await.unwrap();
    // Run the story in its own task so the database is dropped even when it fails.
    let outcome = tokio::spawn(story(store)).await;
    scratch.drop_database().await.unwrap();
    outcome.unwrap();
}

/// Appends in batches of every shape (alone, across tile and subtree boundaries, from many
/// tasks at once) give the tree an independent in-memory build gives, and every proof
/// verifies.
async fn q4_transparency_log_appends_in_batches_and_proves(store: &Store) {
    use lgsp_tlog::{leaf_hash, verify_consistency, verify_inclusion};

    assert_eq!(store.log_size().await.unwrap(), 0);
    assert_eq!(store.log_root(0).await.unwrap(), lgsp_tlog::empty_root());
    let entry = |i: usize| format!("{{\"n\":{i}}}").into_bytes();
    let mut all: Vec<Vec<u8>> = Vec::new();
    for batch in [1usize, 1, 7, 300, 1000, 3] {
        let entries: Vec<Vec<u8>> = (all.len()..all.len() + batch).map(entry).collect();
        let first = store.append_log(&entries, &[]).await.unwrap();
        assert_eq!(first, all.len() as u64);
        all.extend(entries);
    }
    // Sixteen writers at once: each append is whole and the indexes never collide.
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let entries = vec![format!("writer {w}").into_bytes(); 5];
                store.append_log(&entries, &[]).await.unwrap()
            })
        })
        .collect();
    let mut firsts = Vec::new();
    for writer in writers {
        firsts.push(writer.await.unwrap());
    }
    firsts.sort_unstable();
    let base = all.len() as u64;
    assert_eq!(firsts, (0..16).map(|w| base + 5 * w).collect::<Vec<_>>());

    let size = store.log_size().await.unwrap();
    assert_eq!(size, base + 80);
    let stored_entries = store.log_entries(0, size).await.unwrap();
    assert_eq!(&stored_entries[..all.len()], &all[..]);

    let mut memory = Vec::new();
    let leaves: Vec<_> = stored_entries.iter().map(|e| leaf_hash(e)).collect();
    memory.extend(lgsp_tlog::stored_hashes_for(0, &leaves, &memory).unwrap());
    for probe in [1, 2, 9, 256, 309, 1312, size] {
        assert_eq!(
            store.log_root(probe).await.unwrap(),
            lgsp_tlog::tree_hash(probe, &memory).unwrap(),
            "root at {probe}"
        );
    }
    let root = store.log_root(size).await.unwrap();
    for index in [0, 1, 255, 256, 1000, size - 1] {
        let proof = store.log_inclusion_proof(index, size).await.unwrap();
        verify_inclusion(index, size, &leaves[index as usize], &proof, &root).unwrap();
    }
    for old in [1, 2, 9, 256, 1312] {
        let proof = store.log_consistency_proof(old, size).await.unwrap();
        let old_root = store.log_root(old).await.unwrap();
        verify_consistency(old, size, &old_root, &root, &proof).unwrap();
    }
    assert!(matches!(
        store.log_inclusion_proof(size, size).await,
        Err(StoreError::Conflict(_))
    ));

    assert_eq!(store.latest_checkpoint().await.unwrap(), None);
    store.record_checkpoint(9, "note 9").await.unwrap();
    store.record_checkpoint(size, "note n").await.unwrap();
    store.record_checkpoint(size, "again").await.unwrap();
    let latest = store.latest_checkpoint().await.unwrap().unwrap();
    assert_eq!((latest.size, latest.note.as_str()), (size, "note n"));

    // Exchanges are indexed in the append that records them, at their leaves' indexes, in
    // batches larger than one statement's rows.
    let exchange = |n: i64| lgsp_store::ExchangeEntry {
        log_index: n,
        at: chrono::Utc::now(),
        request_id: format!("r{n}"),
        consumer_agency: Some("000.00.05.H35".into()),
        consumer_system: Some("mot-cua".into()),
        provider_agency: Some("000.00.03.H35".into()),
        target: Some("000.00.03.H35/ho-tich/khai-sinh/v1".into()),
        purpose: Some("TTHC".into()),
        method: "GET".into(),
        status: 200,
        refusal: None,
        response_bytes: 804,
        latency_micros: 1200,
        subject: (n % 3 == 0).then(|| "ab12".repeat(16)),
    };
    let entries: Vec<Vec<u8>> = (0..150).map(|i| format!("x{i}").into_bytes()).collect();
    let recorded: Vec<_> = (0..150).filter(|n| n % 2 == 1).map(exchange).collect();
    let first = store.append_log(&entries, &recorded).await.unwrap();
    assert_eq!(first, size);
    let listed = store
        .list_exchanges(Some("000.00.05.H35"), 1000)
        .await
        .unwrap();
    assert_eq!(listed.len(), 75);
    assert_eq!(listed[0].log_index, first as i64 + 149);
    assert_eq!(listed[0].request_id, "r149");
    assert_eq!(listed[74].log_index, first as i64 + 1);
    // Q15.2.h: the exchanges naming one subject, by its salted hash.
    let about = store
        .exchanges_about(&"ab12".repeat(16), 1000)
        .await
        .unwrap();
    assert_eq!(about.len(), 25);
    assert!(about.iter().all(|e| (e.log_index - first as i64) % 6 == 3));
    assert!(store.exchanges_about("cd", 10).await.unwrap().is_empty());
    assert!(store
        .list_exchanges(Some("000.00.01.H35"), 10)
        .await
        .unwrap()
        .is_empty());
}

/// Q16.2.c: a report notifies the owner's administrators; each step is a compare-and-set on
/// the state, so a step taken from a state the report has left changes nothing; fixing records
/// the time to fix and notifies the reporter.
async fn q16_2_c_error_reports_move_once_and_notify(store: &Store) {
    use lgsp_core::catalog::{AccessLevel, DatasetId};
    use lgsp_core::quality::error_report::{
        ReportDescription, ReportState, ReportStep, ReportTarget, TrackingCode,
    };
    use lgsp_store::{NewErrorReport, Notice};

    let owner = code("000.00.05.H35");
    let user = |name: &str, role: Role, agency: Option<AgencyCode>| NewUser {
        username: Username::parse(name).unwrap(),
        full_name: Text::parse("Người thử").unwrap(),
        email: None,
        assignment: RoleAssignment::new(role, agency).unwrap(),
        password_hash: "x".into(),
        citizen_id: None,
    };
    let admin = store
        .insert_user(&user(
            "bao.loi.admin",
            Role::AgencyAdmin,
            Some(owner.clone()),
        ))
        .await
        .unwrap();
    let citizen = store
        .insert_user(&user("bao.loi.dan", Role::Citizen, None))
        .await
        .unwrap();
    let dataset = DatasetId::parse("ho-tich").unwrap();
    let tracking = TrackingCode::from_entropy(0x0123_4567_89ab_cdef);
    let schema: lgsp_core::table_schema::TableSchema = serde_json::from_value(serde_json::json!({
        "fields": [{"name": "so", "type": "integer"}, {"name": "ten", "type": "string"}],
        "primaryKey": "so"
    }))
    .unwrap();
    let target = ReportTarget::parse(
        Some(&schema),
        Some(&serde_json::json!({"so": "7"})),
        Some("ten"),
    )
    .unwrap();
    let description = ReportDescription::parse("Tên viết sai dấu").unwrap();
    let new = NewErrorReport {
        code: &tracking,
        dataset: &dataset,
        owner: &owner,
        access: AccessLevel::Open,
        target: &target,
        description: &description,
        reporter: Some(citizen.id),
        contact_email: None,
    };
    let notice = Notice {
        subject: "Phản ánh mới",
        body: "Có phản ánh",
        link: "/console/error-reports",
    };
    let report = store.create_error_report(&new, &notice).await.unwrap();
    assert_eq!(report.state, ReportState::Open);
    assert_eq!(report.record_key, Some(serde_json::json!({"so": 7})));
    assert_eq!(report.field.as_deref(), Some("ten"));
    assert_eq!(report.reporter, Some(citizen.username.clone()));
    assert_eq!(store.notifications(admin.id).await.unwrap().len(), 1);
    assert!(matches!(
        store.create_error_report(&new, &notice).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .error_reports_of_dataset(&dataset)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.error_reports_to(Some(&owner)).await.unwrap().len(), 1);
    assert!(store
        .error_reports_to(Some(&code("000.00.06.H35")))
        .await
        .unwrap()
        .is_empty());

    let told = Notice {
        subject: "Đã tiếp nhận",
        body: "Đang xử lý",
        link: "/error-reports/x",
    };
    let acknowledged = store
        .move_error_report(
            &report,
            &ReportStep::Acknowledge,
            ReportState::Acknowledged,
            "bao.loi.admin",
            &told,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(acknowledged.state, ReportState::Acknowledged);
    assert_eq!(
        acknowledged.acknowledged_by.as_deref(),
        Some("bao.loi.admin")
    );
    // The same step again from the stale copy: someone else got there first.
    assert!(store
        .move_error_report(
            &report,
            &ReportStep::Acknowledge,
            ReportState::Acknowledged,
            "x",
            &told
        )
        .await
        .unwrap()
        .is_none());
    let fixed = store
        .move_error_report(
            &acknowledged,
            &ReportStep::Fix,
            ReportState::Fixed,
            "bao.loi.admin",
            &told,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fixed.state, ReportState::Fixed);
    assert!(fixed.time_to_fix_seconds.is_some_and(|s| s >= 0));
    assert!(fixed.resolved_at.is_some());
    assert_eq!(fixed.acknowledged_at, acknowledged.acknowledged_at);
    assert_eq!(store.notifications(citizen.id).await.unwrap().len(), 2);
    // A rejection from the stale acknowledged copy changes nothing.
    let reject = ReportStep::Reject {
        reason: Text::parse("Không đúng").unwrap(),
    };
    assert!(store
        .move_error_report(&acknowledged, &reject, ReportState::Rejected, "x", &told)
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.error_report(&tracking).await.unwrap(), fixed);
    assert!(matches!(
        store.error_report(&TrackingCode::from_entropy(1)).await,
        Err(StoreError::NotFound(_))
    ));
}

/// Services and grants as the gateway will read them: find by path, grants of a consumer on a
/// target, status steps with their history, quotas counted atomically.
async fn q13_1_services_grants_and_quotas(store: &Store) {
    use lgsp_core::exchange::{
        GrantFields, GrantSource, GrantStatus, PurposeCode, Purposes, Target, Validity,
    };
    use lgsp_core::service::{
        LifecycleStep, OpenApiDocument, ServiceCode, ServiceDocs, ServiceSpec, ServiceState,
        ServiceVersion,
    };
    use lgsp_store::{GrantFilter, GrantOn, NewGrant, ServiceFilter};
    use std::num::NonZeroU32;

    let provider = SystemId {
        agency: code("000.00.05.H35"),
        code: SystemCode::parse("ho-tich").unwrap(),
    };
    let consumer = SystemId {
        agency: code("000.00.00.H35"),
        code: SystemCode::parse("ho-tich").unwrap(),
    };
    let spec = ServiceSpec {
        code: ServiceCode::parse("tra-cuu-khai-sinh").unwrap(),
        version: ServiceVersion::parse("v1").unwrap(),
        name: Text::parse("Tra cứu thông tin khai sinh").unwrap(),
        upstream_url: HttpUrl::parse("https://motcua.hanam.gov.vn/lgsp").unwrap(),
        methods: serde_json::from_value(serde_json::json!(["GET"])).unwrap(),
        openapi: OpenApiDocument::parse(serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "Khai sinh", "version": "1"},
            "paths": {"/khai-sinh": {"get": {}}}
        }))
        .unwrap(),
        shareable_fields: serde_json::from_value(serde_json::json!(["/ho_ten", "/ngay_sinh"]))
            .unwrap(),
        sharing_mode: lgsp_core::catalog::SharingMode::OnRequest,
        docs: ServiceDocs::parse("Gọi GET /khai-sinh?so=…").unwrap(),
        classification: Default::default(),
    };
    let service = store
        .insert_service(&provider, &spec, "operator")
        .await
        .unwrap();
    assert_eq!(service.state, ServiceState::Draft);
    assert_eq!(
        service.upstream().unwrap().as_str(),
        "https://motcua.hanam.gov.vn/lgsp"
    );
    assert!(matches!(
        store.insert_service(&provider, &spec, "operator").await,
        Err(StoreError::Conflict(_))
    ));
    let found = store
        .find_service(&provider, &spec.code, &spec.version)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, service);
    assert!(store
        .find_service(&consumer, &spec.code, &spec.version)
        .await
        .unwrap()
        .is_none());

    let published = store
        .move_service(
            service.id,
            ServiceState::Draft,
            LifecycleStep::Publish,
            ServiceState::Published,
            "operator",
        )
        .await
        .unwrap();
    assert_eq!(published.state, ServiceState::Published);
    assert!(published.published_at.is_some());
    // A second, concurrent publish finds the state moved: nothing changes.
    assert!(matches!(
        store
            .move_service(
                service.id,
                ServiceState::Draft,
                LifecycleStep::Publish,
                ServiceState::Published,
                "x"
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .replace_draft_service(service.id, &spec, "operator")
            .await,
        Err(StoreError::Conflict(_))
    ));
    let events = store.service_events(service.id).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].to_state, ServiceState::Published);
    let listed = store
        .list_services(&ServiceFilter {
            state: Some(ServiceState::Published),
            ..ServiceFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);

    // A system whose base URL moved no longer covers the upstream: the gateway must refuse.
    store
        .update_system(
            &provider.agency,
            &provider.code,
            &SystemPatch {
                base_url: Some(HttpUrl::parse("https://hotich-moi.hanam.gov.vn").unwrap()),
                ..SystemPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(store
        .get_service(service.id)
        .await
        .unwrap()
        .upstream()
        .is_err());

    let fields = |f: &[&str]| GrantFields::new(f.iter().map(|s| s.to_string()).collect()).unwrap();
    let purposes = Purposes::new(vec![PurposeCode::parse("TTHC").unwrap()]).unwrap();
    let start = lgsp_store::now();
    let new_grant = NewGrant {
        consumer: consumer.clone(),
        provider: provider.agency.clone(),
        on: GrantOn::Service(service.id),
        fields: fields(&["/ho_ten"]),
        purposes: purposes.clone(),
        validity: Validity::new(start, None).unwrap(),
        per_minute: NonZeroU32::new(2),
        source: GrantSource::Direct,
        basis: lgsp_core::exchange::GrantBasis::Legal,
    };
    let grant = store.insert_grant(&new_grant, "operator").await.unwrap();
    assert_eq!(grant.grant.status, GrantStatus::Active);
    assert_eq!(grant.grant.target, service.target());
    let dataset = lgsp_core::catalog::DatasetId::parse("don-vi-hanh-chinh").unwrap();
    let on_dataset = store
        .insert_grant(
            &NewGrant {
                on: GrantOn::Dataset(dataset.clone()),
                fields: fields(&["ma", "ten"]),
                per_minute: None,
                source: GrantSource::Request { id: 7 },
                basis: lgsp_core::exchange::GrantBasis::Legal,
                ..new_grant.clone()
            },
            "operator",
        )
        .await
        .unwrap();
    assert_eq!(on_dataset.source, GrantSource::Request { id: 7 });
    // A grant on a dataset without records is refused by the database itself.
    assert!(store
        .insert_grant(
            &NewGrant {
                on: GrantOn::Dataset(lgsp_core::catalog::DatasetId::parse("khong-co").unwrap()),
                ..new_grant.clone()
            },
            "operator",
        )
        .await
        .is_err());

    let for_service = store
        .grants_for(&consumer, &service.target())
        .await
        .unwrap();
    assert_eq!(
        for_service.iter().map(|g| g.id).collect::<Vec<_>>(),
        [grant.grant.id]
    );
    let for_dataset = store
        .grants_for(&consumer, &Target::Dataset { id: dataset })
        .await
        .unwrap();
    assert_eq!(for_dataset.len(), 1);
    assert!(store
        .grants_for(&provider, &service.target())
        .await
        .unwrap()
        .is_empty());

    // Any change to a grant moves the access revision the gateway's cache is kept under; a
    // refused move does not.
    let reason = Text::parse("Bảo trì hệ thống").unwrap();
    let suspended = GrantStatus::Suspended { reason };
    let before = store.access_revision().await.unwrap();
    assert_eq!(store.access_revision().await.unwrap(), before);
    let moved = store
        .move_grant(
            grant.grant.id,
            &GrantStatus::Active,
            &suspended,
            None,
            "operator",
        )
        .await
        .unwrap();
    assert_eq!(moved.grant.status, suspended);
    let after = store.access_revision().await.unwrap();
    assert!(after > before, "{after} > {before}");
    assert!(matches!(
        store
            .move_grant(
                grant.grant.id,
                &GrantStatus::Active,
                &suspended,
                None,
                "operator"
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.access_revision().await.unwrap(), after);
    let history = store.grant_events(grant.grant.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].reason.as_deref(), Some("Bảo trì hệ thống"));
    let suspended_only = store
        .list_grants(&GrantFilter {
            status: Some("suspended".into()),
            provider: Some(provider.agency.clone()),
            ..GrantFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(suspended_only.len(), 1);

    // Quotas: two requests a minute, counted atomically; the next minute starts again.
    let id = grant.grant.id;
    let one = NonZeroU32::MIN;
    let minute = chrono::DateTime::parse_from_rfc3339("2026-06-01T10:00:05Z")
        .unwrap()
        .to_utc();
    assert!(store
        .take_quota(id, grant.grant.per_minute, minute, one)
        .await
        .unwrap());
    assert!(store
        .take_quota(id, grant.grant.per_minute, minute, one)
        .await
        .unwrap());
    assert!(!store
        .take_quota(id, grant.grant.per_minute, minute, one)
        .await
        .unwrap());
    let usage = store
        .grant_usage(&[id, on_dataset.grant.id], minute)
        .await
        .unwrap();
    assert_eq!(usage.get(&id), Some(&2));
    assert_eq!(usage.get(&on_dataset.grant.id), None);
    // Several units at once (a node's lease) are taken only if they all fit.
    let next = minute + chrono::Duration::seconds(60);
    let two = NonZeroU32::new(2).unwrap();
    let three = NonZeroU32::new(3).unwrap();
    assert!(!store
        .take_quota(id, grant.grant.per_minute, next, three)
        .await
        .unwrap());
    assert!(store
        .take_quota(id, grant.grant.per_minute, next, one)
        .await
        .unwrap());
    assert!(!store
        .take_quota(id, grant.grant.per_minute, next, two)
        .await
        .unwrap());
    assert!(store
        .take_quota(id, grant.grant.per_minute, next, one)
        .await
        .unwrap());
    assert_eq!(
        store.grant_usage(&[id], next).await.unwrap().get(&id),
        Some(&2)
    );
    assert_eq!(store.prune_grant_usage(next).await.unwrap(), 1);
    assert!(store.grant_usage(&[id], minute).await.unwrap().is_empty());
    assert!(store.grant_usage(&[], minute).await.unwrap().is_empty());
}

/// Sharing requests move by compare-and-set, keep every step, and an approval creates its
/// grants in the same transaction as the step: a grant that cannot be stored leaves the request
/// pending, and a second approval finds it decided.
async fn q16_1_sharing_requests_move_once_and_approval_grants_atomically(store: &Store) {
    use lgsp_core::catalog::DatasetId;
    use lgsp_core::exchange::{GrantFields, GrantSource, PurposeCode, Purposes, Validity};
    use lgsp_core::sharing_request::{Refusal, RequestPurpose, RequestState, RequestStep};
    use lgsp_store::{GrantOn, NewGrant, RequestTarget, RequestTerms, StepChange};

    let service = store
        .list_services(&lgsp_store::ServiceFilter::default())
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("the service of the grants story");
    let consumer = code("000.00.00.H35");
    let provider = code("000.00.05.H35");
    let fields = |f: &[&str]| GrantFields::new(f.iter().map(|s| s.to_string()).collect()).unwrap();
    let terms = RequestTerms {
        consumer: consumer.clone(),
        systems: vec![SystemCode::parse("ho-tich").unwrap()],
        provider: provider.clone(),
        target: RequestTarget::Service { id: service.id },
        fields: fields(&["/ho_ten", "/ngay_sinh"]),
        purpose: RequestPurpose {
            code: PurposeCode::parse("TTHC").unwrap(),
            text: Text::parse("Giải quyết thủ tục hộ tịch").unwrap(),
        },
        legal_basis: Text::parse("Luật Hộ tịch 2014").unwrap(),
        expected_volume: Text::parse("50 lượt/ngày").unwrap(),
        valid_until: lgsp_store::now() + chrono::Duration::days(365),
    };
    let week = chrono::Duration::days(7);
    let respond_by = lgsp_store::now() + week;
    let request = store
        .insert_sharing_request(&terms, respond_by, "tieuthu")
        .await
        .unwrap();
    assert_eq!(request.state, RequestState::Pending);
    assert_eq!(request.respond_by, Some(respond_by));
    assert!(!request.overdue);
    let id = request.id;

    // Past its answer period a pending request is escalated once, by one caller.
    let later = respond_by + chrono::Duration::hours(1);
    assert!(store
        .escalate_overdue_requests(respond_by - chrono::Duration::hours(1), "lgsp:qua-han")
        .await
        .unwrap()
        .is_empty());
    let escalated = store
        .escalate_overdue_requests(later, "lgsp:qua-han")
        .await
        .unwrap();
    assert_eq!(escalated.iter().map(|r| r.id).collect::<Vec<_>>(), [id]);
    assert_eq!(escalated[0].escalated_at, Some(later));
    assert_eq!(escalated[0].state, RequestState::Pending);
    assert!(store
        .escalate_overdue_requests(later, "lgsp:qua-han")
        .await
        .unwrap()
        .is_empty());

    let message = Text::parse("Bổ sung văn bản giao nhiệm vụ").unwrap();
    let returned = store
        .move_sharing_request(
            id,
            RequestStep::Return,
            RequestState::Pending,
            RequestState::Returned,
            StepChange::Return { message: &message },
            "cungcap",
        )
        .await
        .unwrap();
    assert_eq!(returned.decision_reason.as_deref(), Some(message.as_str()));
    // A step taken from a state the request has left changes nothing.
    assert!(matches!(
        store
            .move_sharing_request(
                id,
                RequestStep::Withdraw,
                RequestState::Pending,
                RequestState::Withdrawn,
                StepChange::None,
                "tieuthu",
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.get_sharing_request(id).await.unwrap(), returned);

    let amended = RequestTerms {
        fields: fields(&["/ho_ten"]),
        ..terms.clone()
    };
    let pending = store
        .move_sharing_request(
            id,
            RequestStep::Resubmit,
            RequestState::Returned,
            RequestState::Pending,
            StepChange::Amend {
                terms: &amended,
                respond_by: later + week,
            },
            "tieuthu",
        )
        .await
        .unwrap();
    assert_eq!(pending.fields, fields(&["/ho_ten"]));
    // A resubmission opens a new answer period, escalated anew when it passes.
    assert_eq!(
        (pending.respond_by, pending.escalated_at),
        (Some(later + week), None)
    );
    assert_eq!(pending.decision_reason, None);

    let grant = |on: GrantOn| NewGrant {
        consumer: SystemId {
            agency: consumer.clone(),
            code: SystemCode::parse("ho-tich").unwrap(),
        },
        provider: provider.clone(),
        on,
        fields: fields(&["/ho_ten"]),
        purposes: Purposes::new(vec![PurposeCode::parse("TTHC").unwrap()]).unwrap(),
        validity: Validity::new(lgsp_store::now(), Some(terms.valid_until)).unwrap(),
        per_minute: None,
        source: GrantSource::Request { id },
        basis: lgsp_core::exchange::GrantBasis::Legal,
    };
    // A grant that cannot be stored (no such dataset) rolls the approval back.
    let broken = [
        grant(GrantOn::Service(service.id)),
        grant(GrantOn::Dataset(
            DatasetId::parse("khong-co-du-lieu").unwrap(),
        )),
    ];
    assert!(store
        .move_sharing_request(
            id,
            RequestStep::Approve,
            RequestState::Pending,
            RequestState::Approved,
            StepChange::Approve(&broken),
            "cungcap",
        )
        .await
        .is_err());
    assert_eq!(store.get_sharing_request(id).await.unwrap(), pending);
    assert!(store.sharing_request_grants(id).await.unwrap().is_empty());

    let approve = || {
        store.move_sharing_request(
            id,
            RequestStep::Approve,
            RequestState::Pending,
            RequestState::Approved,
            StepChange::Approve(std::slice::from_ref(&broken[0])),
            "cungcap",
        )
    };
    let approved = approve().await.unwrap();
    assert_eq!(approved.state, RequestState::Approved);
    assert!(matches!(approve().await, Err(StoreError::Conflict(_))));
    let grants = store.sharing_request_grants(id).await.unwrap();
    assert_eq!(grants.len(), 1);
    let stored = store.get_grant(grants[0]).await.unwrap();
    assert_eq!(stored.source, GrantSource::Request { id });

    let steps: Vec<_> = store
        .sharing_request_events(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.step, e.from_state, e.to_state))
        .collect();
    assert_eq!(
        steps,
        [
            (RequestStep::Submit, None, RequestState::Pending),
            (
                RequestStep::Escalate,
                Some(RequestState::Pending),
                RequestState::Pending
            ),
            (
                RequestStep::Return,
                Some(RequestState::Pending),
                RequestState::Returned
            ),
            (
                RequestStep::Resubmit,
                Some(RequestState::Returned),
                RequestState::Pending
            ),
            (
                RequestStep::Approve,
                Some(RequestState::Pending),
                RequestState::Approved
            ),
        ]
    );

    // A refusal keeps its reason and legal basis; each side lists the request, others do not.
    let second = store
        .insert_sharing_request(&terms, respond_by, "tieuthu")
        .await
        .unwrap();
    let refusal = Refusal::new(
        Some("Trùng yêu cầu đã duyệt"),
        Some("Điều 15 Quyết định 07/2021"),
    )
    .unwrap();
    let dispute = lgsp_store::NewTicket {
        kind: lgsp_core::ticket::TicketKind::Dispute,
        subject: Text::parse("Yêu cầu bị từ chối").unwrap(),
        body: Text::parse("Trùng yêu cầu đã duyệt").unwrap(),
        opener_agency: Some(consumer.clone()),
        opened_by: "lgsp:tu-choi".into(),
        assignee: None,
        counterparty: Some(provider.clone()),
        about: lgsp_store::TicketAbout {
            sharing_request_id: Some(second.id),
            ..Default::default()
        },
        due_at: lgsp_store::now(),
    };
    let refused = store
        .move_sharing_request(
            second.id,
            RequestStep::Refuse,
            RequestState::Pending,
            RequestState::Refused,
            StepChange::Refuse {
                refusal: &refusal,
                dispute: &dispute,
            },
            "cungcap",
        )
        .await
        .unwrap();
    // The dispute was stored with the refusal; a refusal of a request already refused (moved
    // by another node first) stores neither.
    let opened = store.dispute_of_request(second.id).await.unwrap().unwrap();
    assert_eq!(opened.counterparty.as_ref(), Some(&provider));
    assert!(matches!(
        store
            .move_sharing_request(
                second.id,
                RequestStep::Refuse,
                RequestState::Pending,
                RequestState::Refused,
                StepChange::Refuse {
                    refusal: &refusal,
                    dispute: &dispute,
                },
                "cungcap",
            )
            .await,
        Err(lgsp_store::StoreError::Conflict(_))
    ));
    assert_eq!(
        refused.refusal_legal_basis.as_deref(),
        Some("Điều 15 Quyết định 07/2021")
    );
    for agency in [&consumer, &provider] {
        assert_eq!(
            store
                .list_sharing_requests(Some(agency), None)
                .await
                .unwrap()
                .len(),
            2
        );
    }
    assert!(store
        .list_sharing_requests(Some(&code("000.00.99.H35")), None)
        .await
        .unwrap()
        .is_empty());
    let only_refused = store
        .list_sharing_requests(None, Some(RequestState::Refused))
        .await
        .unwrap();
    assert_eq!(only_refused.len(), 1);
    assert_eq!(only_refused[0].id, second.id);
}

/// Q15.2.e, Q7.5: the daily rollups the dashboards read equal a `GROUP BY` over the exchange
/// index — the backfill of migration 0022 over exchanges indexed before it, and every append
/// after it (batches of one to thousands, days across Viet Nam's midnight, unknown agencies,
/// every outcome and latencies in every bucket).
async fn q15_2_e_rollups_equal_a_group_by_over_the_exchange_index(url: &str) {
    use lgsp_store::{ExchangeEntry, RollupKey, RollupScope};
    use std::borrow::Cow;

    let postgres = url.starts_with("postgres");
    let full = if postgres {
        sqlx::migrate!("migrations/postgres")
    } else {
        sqlx::migrate!("migrations/sqlite")
    };
    let before = sqlx::migrate::Migrator {
        migrations: Cow::Owned(
            full.migrations
                .iter()
                .filter(|m| m.version < 22)
                .cloned()
                .collect(),
        ),
        ..sqlx::migrate!("migrations/sqlite")
    };
    let migration = if postgres {
        include_str!("../migrations/postgres/0022_exchange_rollups.sql")
    } else {
        include_str!("../migrations/sqlite/0022_exchange_rollups.sql")
    };
    // The GROUP BY the migration backfills with: the reference the rollups must equal.
    let group_by = {
        let start = migration.find("SELECT ").unwrap();
        let end = migration[start..].find(';').unwrap() + start;
        format!("{} ORDER BY 1, 2, 3, 4", &migration[start..end])
    };
    let buckets: Vec<String> = (0..lgsp_store::BUCKETS)
        .map(|b| format!("h{b:02}"))
        .collect();
    let stored = format!(
        "SELECT day, provider_agency, consumer_agency, target, exchanges, ok, errors, refusals,
                response_bytes, latency_micros, {} FROM exchange_days ORDER BY 1, 2, 3, 4",
        buckets.join(", ")
    );
    macro_rules! rows {
        ($pool:expr, $sql:expr) => {{
            use sqlx::Row;
            let rows = sqlx::query($sql).fetch_all($pool).await.unwrap();
            rows.iter()
                .map(|row| {
                    let mut cells: Vec<String> = (0..4).map(|i| row.get::<String, _>(i)).collect();
                    cells.extend((4..row.len()).map(|i| row.get::<i64, _>(i).to_string()));
                    cells
                })
                .collect::<Vec<_>>()
        }};
    }
    macro_rules! raw {
        ($pool:expr) => {{
            let pool = $pool;
            before.run(&pool).await.unwrap();
            // Exchanges indexed before the rollups existed (far from the log's indexes).
            for (n, (at, provider, status, refusal, latency)) in [
                (
                    "2026-03-01T16:59:59Z",
                    Some("000.00.03.H35"),
                    200,
                    None,
                    950,
                ),
                (
                    "2026-03-01T17:00:00Z",
                    Some("000.00.03.H35"),
                    403,
                    Some("no_grant"),
                    80,
                ),
                (
                    "2026-03-01T17:00:01Z",
                    None,
                    502,
                    Some("upstream_unreachable"),
                    3_000_000,
                ),
            ]
            .into_iter()
            .enumerate()
            {
                let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
                sqlx::query(
                    "INSERT INTO exchanges (log_index, at, request_id, consumer_agency,
                         consumer_system, provider_agency, target, purpose, method, status,
                         refusal, response_bytes, latency_micros)
                     VALUES ($1, $2, 'old', '000.00.05.H35', 'mot-cua', $3, $4, NULL, 'GET', $5,
                         $6, 10, $7)",
                )
                .bind(1_000_000 + n as i64)
                .bind(at)
                .bind(provider)
                .bind(provider.map(|p| format!("{p}/ho-tich/khai-sinh/v1")))
                .bind(status)
                .bind(refusal)
                .bind(latency)
                .execute(&pool)
                .await
                .unwrap();
            }
            full.run(&pool).await.unwrap();
            let backfilled = rows!(&pool, &stored);
            assert_eq!(backfilled.len(), 3, "{backfilled:?}");
            assert_eq!(backfilled, rows!(&pool, &group_by));
            pool
        }};
    }
    enum Raw {
        Sqlite(sqlx::SqlitePool),
        Postgres(sqlx::PgPool),
    }
    // Connecting creates the SQLite file; the store migrates nothing until asked.
    let store = Store::connect(url).await.unwrap();
    let raw = if postgres {
        Raw::Postgres(raw!(sqlx::PgPool::connect(url).await.unwrap()))
    } else {
        Raw::Sqlite(raw!(sqlx::SqlitePool::connect(url).await.unwrap()))
    };
    store.migrate().await.unwrap();

    let providers = [Some("000.00.03.H35"), Some("000.00.07.H35"), None];
    let consumers = [Some("000.00.05.H35"), Some("000.00.12.H35"), None];
    let outcomes: [(i32, Option<&str>); 8] = [
        (200, None),
        (200, None),
        (304, None),
        (403, Some("no_grant")),
        (429, Some("quota_exceeded")),
        (404, None),
        (502, Some("upstream_unreachable")),
        (500, None),
    ];
    let start: chrono::DateTime<chrono::Utc> = "2026-03-01T12:00:00Z".parse().unwrap();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut all = Vec::new();
    for n in 0..5000i64 {
        let r = next();
        let provider = providers[(r % 3) as usize];
        let (status, refusal) = outcomes[((r >> 8) % 8) as usize];
        all.push(ExchangeEntry {
            log_index: 0,
            // Three days and a half, 61 s apart: across Viet Nam's midnight (17:00 UTC).
            at: start + chrono::Duration::seconds(61 * n),
            request_id: format!("r{n}"),
            consumer_agency: consumers[((r >> 4) % 3) as usize].map(str::to_owned),
            consumer_system: Some("mot-cua".into()),
            provider_agency: provider.map(str::to_owned),
            target: provider.map(|p| format!("{p}/he-thong/dich-vu-{}/v1", (r >> 12) % 4)),
            purpose: None,
            method: "GET".into(),
            status,
            refusal: refusal.map(str::to_owned),
            response_bytes: ((r >> 16) % 5000) as i64,
            // 1 µs to ~137 s: every bucket.
            latency_micros: ((r >> 24) % (1 << ((r >> 40) % 28))) as i64,
            subject: None,
        });
    }
    let mut from = 0;
    for batch in [1usize, 7, 64, 500, 3000, 1428] {
        let exchanges: Vec<ExchangeEntry> = all[from..from + batch]
            .iter()
            .enumerate()
            .map(|(i, e)| ExchangeEntry {
                log_index: i as i64,
                ..e.clone()
            })
            .collect();
        let leaves: Vec<Vec<u8>> = exchanges
            .iter()
            .map(|e| e.request_id.clone().into_bytes())
            .collect();
        store.append_log(&leaves, &exchanges).await.unwrap();
        from += batch;
    }
    assert_eq!(from, all.len());
    let (rolled, grouped) = match &raw {
        Raw::Sqlite(pool) => (rows!(pool, &stored), rows!(pool, &group_by)),
        Raw::Postgres(pool) => (rows!(pool, &stored), rows!(pool, &group_by)),
    };
    assert!(rolled.len() > 32, "more groups than one upsert holds");
    assert_eq!(rolled, grouped);

    // The sums the dashboards read add up to the exchanges, whatever they are summed by.
    let scope = RollupScope {
        first: "2026-03-01".parse().unwrap(),
        last: "2026-03-06".parse().unwrap(),
        agency: None,
    };
    let total = store
        .exchange_rollups(&scope, RollupKey::Total)
        .await
        .unwrap();
    assert_eq!(total.len(), 1);
    assert_eq!(total[0].counts.exchanges, 5003);
    let c = &total[0].counts;
    assert_eq!(c.ok + c.errors + c.refusals, c.exchanges);
    assert_eq!(c.latency_histogram.iter().sum::<i64>(), c.exchanges);
    assert!(c.latency_histogram.iter().all(|&n| n > 0), "{c:?}");
    for by in [
        RollupKey::Day,
        RollupKey::Provider,
        RollupKey::Consumer,
        RollupKey::Target,
    ] {
        let rows = store.exchange_rollups(&scope, by).await.unwrap();
        let mut sum = lgsp_store::ExchangeCounts::default();
        for row in &rows {
            sum.merge(&row.counts);
        }
        assert_eq!(&sum, c, "{by:?}");
    }
    // Per provider, consumer and target: the groups a GROUP BY without the day makes.
    let routes = store.exchange_routes(&scope).await.unwrap();
    let mut sum = lgsp_store::ExchangeCounts::default();
    for route in &routes {
        sum.merge(&route.counts);
    }
    assert_eq!(&sum, c);
    let mut keys: Vec<_> = routes
        .iter()
        .map(|r| (&r.provider, &r.consumer, &r.target))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), routes.len());
    assert!(routes
        .iter()
        .any(|r| r.provider.is_empty() && r.target.is_empty()));
    let days = store
        .exchange_rollups(&scope, RollupKey::Day)
        .await
        .unwrap();
    let keys: Vec<&str> = days.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "2026-03-01",
            "2026-03-02",
            "2026-03-03",
            "2026-03-04",
            "2026-03-05"
        ]
    );
    // The first Vietnamese day ends at 17:00 UTC: 16:59:59 counts on it, 17:00:00 on the next.
    let expected_first = all
        .iter()
        .filter(|e| {
            e.at < "2026-03-01T17:00:00Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
        })
        .count() as i64
        + 1;
    assert_eq!(days[0].counts.exchanges, expected_first);
    // An agency's scope: exchanges in which it is either side.
    let agency = store
        .exchange_rollups(
            &RollupScope {
                agency: Some("000.00.07.H35"),
                ..scope
            },
            RollupKey::Total,
        )
        .await
        .unwrap();
    let expected = all
        .iter()
        .filter(|e| {
            e.provider_agency.as_deref() == Some("000.00.07.H35")
                || e.consumer_agency.as_deref() == Some("000.00.07.H35")
        })
        .count() as i64;
    assert_eq!(agency[0].counts.exchanges, expected);
    let nothing = store
        .exchange_rollups(
            &RollupScope {
                first: "2025-01-01".parse().unwrap(),
                last: "2025-01-31".parse().unwrap(),
                agency: None,
            },
            RollupKey::Total,
        )
        .await
        .unwrap();
    assert_eq!(nothing[0].counts.exchanges, 0);

    // Downloads of whole datasets, per Vietnamese day.
    let at: chrono::DateTime<chrono::Utc> = "2026-03-01T17:30:00Z".parse().unwrap();
    for _ in 0..3 {
        store.record_download("ds-a", at).await.unwrap();
    }
    store.record_download("ds-b", at).await.unwrap();
    assert_eq!(
        store
            .dataset_downloads("2026-03-02".parse().unwrap(), "2026-03-02".parse().unwrap())
            .await
            .unwrap(),
        [("ds-a".to_owned(), 3), ("ds-b".to_owned(), 1)]
    );
    assert!(store
        .dataset_downloads("2026-03-01".parse().unwrap(), "2026-03-01".parse().unwrap())
        .await
        .unwrap()
        .is_empty());
    store.close().await;
}

#[tokio::test]
async fn q15_2_e_rollups_equal_a_group_by_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("lgsp-store-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("lgsp.db").display());
    q15_2_e_rollups_equal_a_group_by_over_the_exchange_index(&url).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL: cargo test -p lgsp-store -- --ignored"]
async fn q15_2_e_rollups_equal_a_group_by_on_postgres() {
    let scratch = lgsp_store::scratch::ScratchDatabase::create()
        .await
        .unwrap();
    let url = scratch.url();
    let outcome = tokio::spawn(async move {
        q15_2_e_rollups_equal_a_group_by_over_the_exchange_index(&url).await
    })
    .await;
    scratch.drop_database().await.unwrap();
    outcome.unwrap();
}
